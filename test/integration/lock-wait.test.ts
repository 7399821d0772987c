/**
 * Prune and a writer at the same time: the exclusive lock makes prune wait for the running
 * snap create (--lock-wait), then run; afterwards check --read-data is clean and every
 * snapshot restores exactly. And --lock-wait 0 fails at once, naming the holder.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seededBytes } from '../helpers/seeded.js';
import { compareTrees } from '../helpers/tree-compare.js';
import { fxcp, fxcpAsync, fxcpJson, tempDir } from '../helpers/run-cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function finished(child: ReturnType<typeof fxcpAsync>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

test('prune --lock-wait waits for a running snap create, then both snapshots are intact', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    mkdirSync(src);
    writeFileSync(join(src, 'old.bin'), seededBytes(500_000, 1));
    const first = fxcpJson(['snap', 'create', src, store]).snapshot.id;
    const g1 = join(t.path, 'g1');
    spawnSync('cp', ['-a', src, g1]);
    rmSync(join(src, 'old.bin'));
    for (let i = 0; i < 40; i++) writeFileSync(join(src, `big${i}.bin`), seededBytes(1_000_000, 10 + i));
    const g2 = join(t.path, 'g2');
    spawnSync('cp', ['-a', src, g2]);
    const create = fxcpAsync(['snap', 'create', src, store, '--json']);
    const createDone = finished(create);
    const locks = join(store, 'locks');
    while (!readdirSync(locks).some((f) => f.startsWith('shared-'))) {
      if (create.exitCode !== null) break;
      await sleep(20);
    }
    const prune = fxcpAsync(['snap', 'prune', store, '--keep-last', '1', '--lock-wait', '120s', '--json']);
    const [c, p] = await Promise.all([createDone, finished(prune)]);
    assert.is(c.code, 0, c.stderr);
    assert.is(p.code, 0, p.stderr);
    const created = JSON.parse(c.stdout).snapshot.id;
    const pruned = JSON.parse(p.stdout);
    // Prune ran after the writer: it saw the new snapshot and kept it as the last one.
    assert.equal(pruned.kept.map((s: { id: string }) => s.id), [created]);
    assert.equal(pruned.removed.map((s: { id: string }) => s.id), [first]);
    const check = fxcp(['store', 'check', store, '--read-data']);
    assert.is(check.code, 0, check.stdout + check.stderr);
    const out = join(t.path, 'out');
    assert.is(fxcp(['snap', 'restore', store, '-o', out]).code, 0);
    assert.equal(compareTrees(g2, out, { rootMeta: false }), []);
    void g1;
  } finally {
    t.cleanup();
  }
});

test('a held exclusive lock: --lock-wait 0 fails at once naming the holder; a waiting create proceeds when it is released', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    mkdirSync(src);
    writeFileSync(join(src, 'a'), 'hello');
    fxcpJson(['snap', 'create', src, store]);
    // A live holder: this test process, as if it were running a prune.
    const lock = join(store, 'locks', `exclusive-${process.pid}-00000000.lock`);
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), start: null, command: 'fxcp snap prune', exclusive: true, time: new Date().toISOString() }) + '\n');
    let r = fxcp(['snap', 'create', src, store]);
    assert.is(r.code, 2);
    assert.match(r.stderr, new RegExp(`locked exclusively by pid ${process.pid} on ${hostname()} \\(fxcp snap prune`));
    r = fxcp(['snap', 'prune', store, '--keep-last', '1']);
    assert.is(r.code, 2);
    assert.match(r.stderr, /LOCKED|locked/);
    const waiting = fxcpAsync(['snap', 'create', src, store, '--lock-wait', '60s']);
    const done = finished(waiting);
    await sleep(1500);
    assert.is(waiting.exitCode, null, 'still waiting while the lock is held');
    rmSync(lock);
    const w = await done;
    assert.is(w.code, 0, w.stderr);
    assert.is(fxcpJson(['snap', 'list', store]).snapshots.length, 2);
    assert.ok(!existsSync(lock));
    assert.is(fxcp(['snap', 'create', src, store, '--lock-wait', 'soon']).code, 2);
  } finally {
    t.cleanup();
  }
});

test('a command waiting for a lock (--lock-wait) stops on the first SIGTERM or SIGINT: exit 130, no lock of its own left', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    mkdirSync(src);
    writeFileSync(join(src, 'a'), 'hello');
    fxcpJson(['snap', 'create', src, store]);
    const held = join(store, 'locks', `exclusive-${process.pid}-00000000.lock`);
    writeFileSync(held, JSON.stringify({ pid: process.pid, host: hostname(), start: null, command: 'fxcp snap prune', exclusive: true, time: new Date().toISOString() }) + '\n');
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const waiting = fxcpAsync(['snap', 'create', src, store, '--lock-wait', '600s']);
      const done = finished(waiting);
      await sleep(800);
      assert.is(waiting.exitCode, null, 'waiting for the lock');
      const sent = Date.now();
      waiting.kill(sig);
      // Before the fix the first signal was ignored while waiting: not for ever here.
      const guard = setTimeout(() => waiting.kill('SIGKILL'), 10_000);
      const w = await done;
      clearTimeout(guard);
      assert.is(w.code, 130, `${sig}: ${w.stderr}`);
      // Well within the 200-500 ms poll: the wait itself ends on the signal.
      assert.ok(Date.now() - sent < 5000, `${sig}: stopped in ${Date.now() - sent} ms`);
      assert.equal(readdirSync(join(store, 'locks')), [`exclusive-${process.pid}-00000000.lock`]);
    }
  } finally {
    t.cleanup();
  }
});

test.run();
