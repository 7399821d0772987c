/**
 * The entry of a worker thread started from a bundle (worker-bundles.ts): it runs the worker
 * script's one-file CommonJS bundle (build/workers/, made by bin/build.js) through V8's code
 * cache, as lib/cli/cli-loader.cts runs the CLI's.
 *
 * Why: a worker ran its script from the per-module build, ~90 ES modules loaded one by one
 * through Node's ESM loader (resolve, read, compile, link each), 150-200 ms from `new Worker`
 * to its first job where Node's own worker start-up is ~70 ms; every command that starts a pool
 * paid it per worker (docs/BENCHMARKS.md). From the bundle with its code cache: ~80-100 ms.
 *
 * Arguments (Worker `argv`): the bundle's path, then the cache file's path or '' for none. The
 * cache is V8's check of source and flags: a stale or foreign one is rejected and rewritten
 * (atomically, by rename) when the worker exits; an unwritable directory means no cache, never
 * an error. workerData and the message port are the worker script's own, untouched.
 */
import fs = require('node:fs');
import path = require('node:path');
import vm = require('node:vm');
import nodeModule = require('node:module');

const [bundle, cacheFile] = process.argv.slice(2);
const source = fs.readFileSync(bundle, 'utf8');
let cachedData: Buffer | undefined;
if (cacheFile) {
  try { cachedData = fs.readFileSync(cacheFile); } catch { /* none yet */ }
}
const script = new vm.Script(nodeModule.wrap(source), { filename: bundle, cachedData });

/** What the code cache did for this worker: 'used', 'none yet', 'rejected (stale)' or 'off' (no cache file). */
const workerCache = !cacheFile ? 'off' : cachedData === undefined ? 'none yet' : script.cachedDataRejected ? 'rejected (stale)' : 'used';
// For the tests (test/util/worker-bundles.test.ts), which start a bundle of their own.
(globalThis as { foxingWorkerCache?: string }).foxingWorkerCache = workerCache;

if (cacheFile && workerCache !== 'used') {
  // At exit, so that the functions the jobs compiled are in it too, not only the top level.
  process.once('exit', () => {
    try {
      fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
      const tmp = `${cacheFile}.tmp-${process.pid}-${require('node:worker_threads').threadId}`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    } catch { /* read-only install: run without a cache */ }
  });
}

const mod = { exports: {} };
(script.runInThisContext() as (...a: unknown[]) => void)
  .call(mod.exports, mod.exports, nodeModule.createRequire(bundle), mod, bundle, path.dirname(bundle));
