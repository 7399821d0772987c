// Worker threads started from their bundles (lib/util/worker-bundles.ts, worker-loader.cts):
// the build makes one per worker script; the loader runs a bundle with the worker's own argv and
// workerData, writes its code cache when the worker exits, uses it at the next start, rewrites
// a damaged one, and writes none when given no cache file. A real pool runs a job through a
// bundle.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { libModule, packageRoot } from '../../lib/util/package-paths.js';
import { WORKER_SCRIPTS, workerBundlePath, workerEntry, workersLoadedFrom } from '../../lib/util/worker-bundles.js';
import { WorkerPool } from '../../lib/util/worker-pool.js';
import type { FrameJob, FrameResult } from '../../lib/tar/compress-worker.js';

/** The build made bundles where it made the CLI's (both need esbuild); null, or why not. */
const noBundles = existsSync(join(packageRoot, 'build', 'fxcp-cli.cjs')) ? null : 'the build made no bundles (no esbuild): workers run the per-module build';

test('the build bundles every worker script, and workers start from the bundles', () => {
  if (noBundles) { console.log(`  skipped: ${noBundles}`); return; }
  for (const s of WORKER_SCRIPTS) {
    assert.ok(existsSync(workerBundlePath(s)), `${s}: no bundle`);
    const e = workerEntry(s);
    assert.is(e.path, libModule('util/worker-loader.cjs'));
    assert.is(e.argv[0], workerBundlePath(s));
    // Not started by bin/fxcp: no cache directory was published, so no cache file.
    assert.is(e.argv[1], '');
  }
  assert.match(workersLoadedFrom(), /^bundles in .*code cache off/);
});

/** Starts the loader on `bundle`; resolves with the worker's one message, once it has exited. */
function runLoader(bundle: string, cacheFile: string, workerData: unknown): Promise<{ cache: string; data: unknown; argv: string[] }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(libModule('util/worker-loader.cjs'), { argv: [bundle, cacheFile], workerData });
    let got: { cache: string; data: unknown; argv: string[] } | undefined;
    w.on('message', (m) => { got = m; });
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 && got ? resolve(got) : reject(new Error(`worker exited ${code} with ${JSON.stringify(got)}`))));
  });
}

test('the loader runs a bundle, writes its code cache at exit, uses it next, rewrites a damaged one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fx-wbundle-'));
  try {
    const bundle = join(dir, 'echo.cjs');
    writeFileSync(bundle, `const { parentPort, workerData } = require('node:worker_threads');
function square(x) { return x * x; }
parentPort.postMessage({ cache: globalThis.foxingWorkerCache, data: square(workerData), argv: process.argv.slice(2), here: __filename });
`);
    const cache = join(dir, 'cache', 'echo.bin');
    const first = await runLoader(bundle, cache, 7);
    assert.equal(first, { cache: 'none yet', data: 49, argv: [bundle, cache], here: bundle } as unknown as typeof first);
    assert.ok(existsSync(cache), 'written when the worker exited');
    assert.is((await runLoader(bundle, cache, 3)).cache, 'used');
    writeFileSync(cache, Buffer.alloc(readFileSync(cache).length, 0x5a));
    assert.is((await runLoader(bundle, cache, 3)).cache, 'rejected (stale)');
    assert.is((await runLoader(bundle, cache, 3)).cache, 'used');

    const none = join(dir, 'none.bin');
    const off = await runLoader(bundle, '', 5);
    assert.is(off.cache, 'off');
    assert.is(off.data, 25);
    assert.not.ok(existsSync(none));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a pool runs its jobs in workers started from the bundle', async () => {
  if (noBundles) { console.log(`  skipped: ${noBundles}`); return; }
  // The tar compress worker: a block in, its zstd frame out (the frame's magic number first).
  const pool = new WorkerPool('tar/compress-worker.js', null, 1);
  try {
    const data = new Uint8Array(64 * 1024).fill(0x61);
    const job: FrameJob = { kind: 'zstd', level: 3, data, length: data.byteLength };
    const { frame } = await pool.run<FrameResult>(job, []);
    assert.ok(frame.byteLength > 0 && frame.byteLength < data.byteLength);
    assert.equal([...frame.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
  } finally {
    await pool.close();
  }
});

test.run();
