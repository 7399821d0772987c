/**
 * Issue 18, D8: a second Ctrl-C during `snap create` forces the exit with 130 for every codec.
 * With xz it used to abort the process (SIGABRT, "terminate called ... Napi::Error", exit 134):
 * the forced exit tore the chunk workers down while lzma-native had a coding step in flight
 * (lib/util/exit-gate.ts). Each run is interrupted twice while the workers are busy; a run
 * killed by a signal, or one that outlives its time limit, fails.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FXCP, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir('fx-double-int-');
const src = join(t.path, 'src');
test.before(() => {
  // Compressible but not trivially: hex text, 48 files of 1 MiB, enough to keep xz busy for
  // many seconds on two cores.
  for (let d = 0; d < 6; d++) {
    mkdirSync(join(src, `d${d}`), { recursive: true });
    for (let f = 0; f < 8; f++) writeFileSync(join(src, `d${d}`, `f${f}.txt`), seededBytes(512 << 10, d * 8 + f).toString('hex'));
  }
});
test.after(() => t.cleanup());

/** snap create, sent SIGINT `firstMs` after it took its lock and again `gapMs` later. */
function twiceInterrupted(codec: string, store: string, firstMs: number, gapMs: number): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(FXCP, ['snap', 'create', '--compress', codec, src, store], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    const timers: NodeJS.Timeout[] = [];
    const poll = setInterval(() => {
      const locks = join(store, 'locks');
      if (!existsSync(locks) || readdirSync(locks).length === 0) return;
      clearInterval(poll);
      timers.push(setTimeout(() => child.kill('SIGINT'), firstMs), setTimeout(() => child.kill('SIGINT'), firstMs + gapMs));
    }, 2);
    timers.push(setTimeout(() => child.kill('SIGKILL'), 60_000));
    child.on('exit', (code, signal) => { clearInterval(poll); for (const x of timers) clearTimeout(x); resolve({ code, signal, stderr }); });
  });
}

// The fast codecs finish this tree in a few hundred ms on a quick machine: they are interrupted
// sooner. A run that finished before its first interrupt took effect (its snapshot is recorded)
// exits 0, which is right; every codec must still see exit 130 in most of its runs.
for (const [codec, runs, firstMs] of [['xz', 8, 200], ['zstd', 3, 30], ['gzip', 3, 60], ['lz4', 3, 30]] as const) {
  test(`a second SIGINT during snap create --compress ${codec} exits 130, never by a signal`, async () => {
    let interrupted = 0;
    for (let i = 0; i < runs; i++) {
      const store = join(t.path, `store-${codec}-${i}`);
      rmSync(store, { recursive: true, force: true });
      const r = await twiceInterrupted(codec, store, firstMs + 50 * i, 60 + 40 * i);
      assert.is(r.signal, null, `run ${i + 1}: killed by ${r.signal}: ${r.stderr}`);
      assert.not.match(r.stderr, /terminate called|Napi::Error|\n\s+at /, `run ${i + 1}`);
      if (r.code === 130) { interrupted++; continue; }
      assert.is(r.code, 0, `run ${i + 1}: ${r.stderr}`);
      assert.is(readdirSync(join(store, 'snapshots')).length, 1, `run ${i + 1}: exit 0 means the snapshot was completed first`);
    }
    assert.ok(interrupted >= runs - 1, `${codec}: only ${interrupted} of ${runs} runs were interrupted`);
  });
}

test.run();
