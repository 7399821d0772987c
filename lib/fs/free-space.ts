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
import { constants } from 'node:os';
import { dirname, resolve } from 'node:path';
import { ToolkitError } from '../errors/index.js';
import { errnoOf, fsError } from './fs-error.js';

const osErrno = constants.errno as Record<string, number>;

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

/** The bytes free for a file to be made at `path`: freeSpace's `available` of its nearest existing ancestor. */
export function availableFor(path: string): number {
  let at = resolve(path);
  while (!statSync(at, { throwIfNoEntry: false }) && dirname(at) !== at) at = dirname(at);
  return freeSpace(at).available;
}

/**
 * Pre-flight: throws NO_SPACE (naming both numbers) when the file system that will hold `path`
 * (or its nearest existing ancestor) has less than `needed` bytes free, before anything is
 * written. `what` names the result ("the archive", "the restore").
 */
export function requireFreeSpace(path: string, needed: number, what: string): void {
  const available = availableFor(path);
  if (needed > available) {
    throw new ToolkitError('NO_SPACE', `${path}: not enough free space for ${what}: needs ${needed} bytes, the file system has ${available} bytes free`,
      { path, needed, available });
  }
}

/**
 * True for an error that says the file system is full: ENOSPC, or EDQUOT (the user's quota is
 * used up: the same to the user), as Node reports it ('ENOSPC'), wrapped by fsError, or as lmdb
 * does (errno 28).
 */
export function isNoSpace(err: unknown): boolean {
  const code = errnoOf(err) ?? (err as { code?: unknown } | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  return typeof code === 'number' && (code === osErrno.ENOSPC || code === osErrno.EDQUOT);
}

/**
 * The NO_SPACE error of a write into `path` (a store's root) that found the file system full,
 * or that was stopped before it would: "PATH: no space left: need N bytes, F bytes free".
 * `needed` is what the write needed (the bytes of the failed write, or the estimate a write
 * was refused on); the free figure is read now (-1 if it cannot be).
 */
export function noSpaceError(path: string, needed: number, cause?: unknown): ToolkitError {
  let available = -1;
  try { available = freeSpace(path).available; } catch { /* the message still names the need */ }
  return new ToolkitError('NO_SPACE', `${path}: no space left: need ${needed} bytes, ${available} bytes free`,
    { path, needed, available }, cause === undefined ? undefined : { cause });
}
