/**
 * The worker scripts, and where a worker thread for one starts: its one-file bundle
 * (build/workers/, made by bin/build.js) run by worker-loader.cts through V8's code cache, or,
 * where the build made no bundles (no esbuild), the per-module build under build/lib.
 *
 * Why: loaded module by module through Node's ESM loader, a chunk worker took 150-200 ms from
 * `new Worker` to its first job, ~100 ms of it our ~90 modules; from its bundle with a code
 * cache, 80-100 ms (docs/BENCHMARKS.md). Every command that starts a pool pays it per worker.
 *
 * The cache lives where the CLI's does (lib/cli/cli-loader.cts publishes the directory, and the
 * tag of the heap flag it set, under CODE_CACHE); a process not started by the CLI (the tests)
 * runs the bundles without one. A cache file is named for the script, the bundle's size and
 * mtime (V8 checks only the source's length), V8's version and this process's V8 flags (V8
 * rejects a cache made under other flags: bin/fxcp.cjs sets some, a test runner none), so
 * commands and tests do not overwrite each other's.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { libModule, packageRoot } from './package-paths.js';

/** Every worker script (a compiled module under build/lib), each bundled by bin/build.js. */
export const WORKER_SCRIPTS = [
  'store/chunk-worker.js', 'store/stream-chunk-worker.js', 'store/verify-worker.js', 'store/s3-range-worker.js',
  'snapshot/restore-worker.js', 'fxar/verify-worker.js', 'fxar/recode-worker.js', 'tar/compress-worker.js', 'tar/decompress-worker.js',
] as const;

export type WorkerScript = typeof WORKER_SCRIPTS[number];

/** Set by cli-loader.cts: the code cache's directory and the tag of the flags it set. */
export const CODE_CACHE = Symbol.for('foxing.codeCache');

export function workerBundlePath(script: WorkerScript): string {
  return join(packageRoot, 'build', 'workers', script.replace('/', '~').replace(/\.js$/, '.cjs'));
}

/** A worker's start: the file `new Worker` runs and its argv. */
export interface WorkerEntry { path: string; argv: string[] }

const entries = new Map<WorkerScript, WorkerEntry>();

/** Where a worker for `script` starts (looked up once per script and process). */
export function workerEntry(script: WorkerScript): WorkerEntry {
  let e = entries.get(script);
  if (!e) {
    const bundle = workerBundlePath(script);
    e = existsSync(bundle) ? { path: libModule('util/worker-loader.cjs'), argv: [bundle, cacheFileOf(script, bundle)] } : { path: libModule(script), argv: [] };
    entries.set(script, e);
  }
  return e;
}

/** What `fxcp doctor` says of the workers: bundles (and their cache) or the per-module build. */
export function workersLoadedFrom(): string {
  const dir = join(packageRoot, 'build', 'workers');
  if (!WORKER_SCRIPTS.every((s) => existsSync(workerBundlePath(s)))) return `per-module build (${dir} is missing or incomplete: run npm run build; each worker starts ~70-100 ms slower)`;
  const cache = codeCache();
  return `bundles in ${dir}, code cache ${cache ? `in ${cache.dir}` : 'off (not started by bin/fxcp)'}`;
}

function codeCache(): { dir: string; tag: string } | undefined {
  return (globalThis as { [CODE_CACHE]?: { dir: string; tag: string } })[CODE_CACHE];
}

function cacheFileOf(script: WorkerScript, bundle: string): string {
  const cache = codeCache();
  if (!cache) return '';
  try {
    const st = statSync(bundle);
    const name = script.replace(/[^A-Za-z0-9._-]/g, '~');
    return join(cache.dir, `worker-${name}-${st.size}-${Math.trunc(st.mtimeMs)}-v8-${process.versions.v8}${cache.tag}-f${fnv(process.execArgv.join(' '))}.bin`);
  } catch {
    return '';
  }
}

/** FNV-1a in hex: a file name's part, not a security boundary. */
function fnv(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
