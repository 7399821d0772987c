/**
 * Free space of the file system holding a path, via statfs(2) (fs.promises.statfs, Node ≥ 18.15).
 * Used before writing a restore or a pack to fail early with a clear message instead of ENOSPC
 * halfway through.
 *
 * Limits: `available` is what an unprivileged user may still write (f_bavail), which on ext4
 * excludes the root reserve; root can write a little more. Quotas, btrfs/ZFS compression and
 * copy-on-write sharing make any up-front figure an estimate, never a promise. Values are
 * bytes as numbers: exact up to 2^53 (8 PiB), which covers any real file system.
 */
import { statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ToolkitError } from '../errors/index.js';
import { fsError } from './fs-error.js';

export interface FreeSpace {
  /** Bytes an unprivileged writer may still use (f_bavail × f_bsize). */
  available: number;
  /** Size of the file system in bytes (f_blocks × f_bsize). */
  total: number;
}

/**
 * Free and total bytes of the file system that holds `path` (which must exist). Synchronous:
 * one statfs, asked once before a command writes (a thread-pool round trip costs more).
 */
export function freeSpace(path: string | Buffer): FreeSpace {
  let st;
  try {
    // bigint so that large file systems multiply without rounding before the final conversion.
    st = statfsSync(path, { bigint: true });
  } catch (e) {
    throw fsError(e, 'read free space of', path, 'statfs');
  }
  return {
    available: Number(st.bavail * st.bsize),
    total: Number(st.blocks * st.bsize),
  };
}

/**
 * Pre-flight: throws NO_SPACE (naming both numbers) when the file system that will hold `path`
 * (or its nearest existing ancestor) has less than `needed` bytes free, before anything is
 * written. `what` names the result ("the archive", "the restore").
 */
export function requireFreeSpace(path: string, needed: number, what: string): void {
  let at = resolve(path);
  while (!statSync(at, { throwIfNoEntry: false }) && dirname(at) !== at) at = dirname(at);
  const { available } = freeSpace(at);
  if (needed > available) {
    throw new ToolkitError('NO_SPACE', `${path}: not enough free space for ${what}: needs ${needed} bytes, the file system has ${available} bytes free`,
      { path, needed, available });
  }
}
