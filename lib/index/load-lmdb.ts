/**
 * The one place lmdb is loaded (the store index and the import spill both use it). Every store
 * command pays for this at start-up, so it is loaded the quickest way available:
 *
 *  - build/lmdb.cjs (made by bin/build.js with esbuild): lmdb's CommonJS build together with
 *    msgpackr, ordered-binary, weak-lru-cache and extended-iterable in one file, its addon found
 *    without a search (lmdb-addon.cts). Through the lmdb package the same code is six files, six
 *    package resolutions and six code-cache reads, twice the bundle's load time
 *    (docs/BENCHMARKS.md). The bundle takes msgpackr without its stream classes, whose definition at
 *    load pulled in Node's whole streams stack (bin/build.js). lmdb's optional dictionary
 *    compression, which reads a file next to lmdb's own code, and msgpackr's stream classes are
 *    what the bundle lacks; the index uses neither.
 *  - Otherwise the lmdb package through require(): its CommonJS build loads faster than its ES
 *    module graph (docs/BENCHMARKS.md).
 *
 * Whenever the addon loader runs (always through the package, rarely through the bundle), its
 * libc detection is skipped where possible: lmdb finds its prebuilt addon with node-gyp-build-optional-packages, which asks detect-libc
 * whether this is glibc or musl, and detect-libc loads node:child_process (and with it net,
 * dgram and the streams) just to be able to ask `ldd`: about 5 ms per command. The loader skips
 * that when the LIBC variable names the libc, so it is set here, for the duration of the
 * require only, from the libc this very process runs on (its own memory map names the loader:
 * ld-musl-* or ld-linux-*). Anything unexpected leaves the variable alone and detection runs.
 * Variables the user set are never changed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../util/package-paths.js';

function ownLibc(): 'glibc' | 'musl' | null {
  if (process.platform !== 'linux') return null;
  try {
    const maps = readFileSync('/proc/self/maps', 'latin1');
    if (maps.includes('/ld-musl-')) return 'musl';
    if (maps.includes('/ld-linux-')) return 'glibc';
  } catch { /* no /proc: let the loader detect */ }
  return null;
}

let loaded: typeof import('lmdb') | undefined;

const bundlePath = join(packageRoot, 'build', 'lmdb.cjs');

/** What `fxcp doctor` reports: which lmdb this process loads. */
export function lmdbSource(): string {
  return existsSync(bundlePath) ? `bundle ${bundlePath}` : 'the lmdb package (no build/lmdb.cjs: run npm run build; starts about 15 ms slower)';
}

/** Sets `name` for the duration of `fn` unless the user set it; restores the environment after. */
function withEnv<T>(name: string, value: string | null, fn: () => T): T {
  const set = value !== null && process.env[name] === undefined;
  if (set) process.env[name] = value;
  try {
    return fn();
  } finally {
    if (set) delete process.env[name];
  }
}

export function lmdb(): typeof import('lmdb') {
  // msgpackr (lmdb's value encoding) also loads a native string decoder through the same
  // loader (3 ms); the index keeps its hot values binary and decodes few msgpack values, so
  // the plain JavaScript decoder is used.
  loaded ??= withEnv('LIBC', ownLibc(), () => withEnv('MSGPACKR_NATIVE_ACCELERATION_DISABLED', 'true',
    () => {
      const load = createRequire(import.meta.url);
      try {
        return load(bundlePath) as typeof import('lmdb');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
        return load('lmdb') as typeof import('lmdb');
      }
    }));
  return loaded;
}

/**
 * Where the lmdb bundle sends what lmdb-js would print with console.error: a failed commit or
 * sync of its write thread (ENOSPC, EIO from an fsync), which it reports nowhere else once a
 * write's promise has resolved. bin/build.js routes the bundle's console.error here; without
 * the bundle (the lmdb package as installed) lmdb-js prints as it always did.
 */
export function lmdbReports(report: (args: unknown[]) => void): void {
  (globalThis as Record<symbol, unknown>)[Symbol.for('foxing.lmdbReport')] = (...args: unknown[]) => report(args);
}
