/**
 * The one place lmdb is loaded (the store index and the import spill both use it).
 *
 * Through require(): lmdb's CommonJS build is one bundled file, which loads about 40 ms faster
 * than its ES module graph; every store command pays this at start-up.
 *
 * lmdb finds its prebuilt addon with node-gyp-build-optional-packages, which asks detect-libc
 * whether this is glibc or musl, and detect-libc loads node:child_process (and with it net,
 * dgram and the streams) just to be able to ask `ldd`: about 5 ms per command. The loader skips
 * that when the LIBC variable names the libc, so it is set here, for the duration of the
 * require only, from the libc this very process runs on (its own memory map names the loader:
 * ld-musl-* or ld-linux-*). Anything unexpected leaves the variable alone and detection runs.
 * Variables the user set are never changed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

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
    () => createRequire(import.meta.url)('lmdb') as typeof import('lmdb')));
  return loaded;
}
