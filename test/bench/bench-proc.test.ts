// The harness's helpers (lib/bench/bench-proc.ts): long-lived children (sshd, foxingd) and
// other helpers (a Ceph cluster) are stopped when the harness is stopped by a signal, whose
// process.exit skips the suites' own `finally` blocks; a helper already gone or forgotten is not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { helperStarted, killCurrent, stopOnSignal } from '../../lib/bench/bench-proc.js';

const exited = (child: ReturnType<typeof spawn>) => new Promise<string | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));

test('killCurrent kills a long-lived child that is still running', async () => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  helperStarted(child);
  const gone = exited(child);
  killCurrent();
  assert.is(await gone, 'SIGKILL');
});

test('a child that exited on its own is forgotten: killCurrent leaves its pid alone', async () => {
  const child = spawn('true', [], { stdio: 'ignore' });
  helperStarted(child);
  await exited(child);
  let killed = 0;
  const kill = child.kill.bind(child);
  child.kill = (...args) => { killed++; return kill(...args); };
  killCurrent();
  assert.is(killed, 0);
});

test('stopOnSignal runs each stop once; a forgotten one does not run', () => {
  const ran: string[] = [];
  stopOnSignal(() => ran.push('cluster down'));
  const forget = stopOnSignal(() => ran.push('forgotten'));
  stopOnSignal(() => { throw new Error('a failing stop does not keep the others from running'); });
  stopOnSignal(() => ran.push('after the failure'));
  forget();
  killCurrent();
  killCurrent();
  assert.equal(ran, ['cluster down', 'after the failure']);
});

test.run();
