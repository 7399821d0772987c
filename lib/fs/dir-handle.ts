/**
 * Directories deeper than PATH_MAX: a walk that reaches a directory whose path is long opens a
 * handle on it (an O_PATH descriptor) and names what lies inside as `/proc/self/fd/N/NAME`,
 * which the kernel resolves from that directory, as the *at system calls do with a directory
 * descriptor. Every call that takes a path (Node's, the addon's, a thread pool's) then works at
 * any depth, and the paths stay short: a handle is opened again each time a path grows past
 * LONG_PATH.
 *
 * Why not *at calls: Node's fs has none, and the walk's paths go through Node, the addon and
 * libuv's threads alike; /proc/self/fd/N gives each of them the same resolution.
 *
 * Rules for callers:
 * - The handle is opened on a path that was short already (its parent's, handle or not, plus a
 *   name), so it never fails for length; O_NOFOLLOW: a symlink put in the directory's place is
 *   refused (ENOTDIR), never followed.
 * - A handle's path names the directory only as a prefix (`/proc/self/fd/N/` + names): the bare
 *   `/proc/self/fd/N` is a magic link, and a call that does not follow its last component
 *   (lchown, lutimes, lsetxattr) would act on the link, not the directory.
 * - Close it after everything inside is done; the number may then be reused for another
 *   directory, so a handle path must not outlive its handle (a cache keyed by path would mix
 *   up two directories: lib/fs/scan-dir.ts's scan-ahead is not used under a handle).
 * - Error messages show the handle path (`/proc/self/fd/N/NAME`), not the long one.
 * Limits: Linux with /proc mounted; O_PATH's value is that of x86-64 and arm64.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { fsError } from './fs-error.js';

/** Paths longer than this (bytes) are reached through a handle: PATH_MAX is 4096, NUL included. */
export const LONG_PATH = 3072;

const O_PATH = 0o10000000;
const PREFIX = '/proc/self/fd/';

export class DirHandle {
  private constructor(readonly fd: number, readonly path: Buffer) {}

  /** A handle on directory `dir` (a short path); throws an FsError naming it when it cannot be opened. */
  static open(dir: Buffer): DirHandle {
    let fd: number;
    try {
      fd = openSync(dir, O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    } catch (err) {
      throw fsError(err, 'open directory', dir, 'open');
    }
    return new DirHandle(fd, Buffer.from(`${PREFIX}${fd}`));
  }

  close(): void {
    try { closeSync(this.fd); } catch { /* already closed */ }
  }
}

/** The descriptor number of a handle path (`/proc/self/fd/N` or below it), or -1 for any other path. */
export function handleFd(path: Buffer): number {
  if (path.length <= PREFIX.length || path.toString('latin1', 0, PREFIX.length) !== PREFIX) return -1;
  let fd = 0, at = PREFIX.length;
  for (; at < path.length && path[at] >= 0x30 && path[at] <= 0x39; at++) fd = fd * 10 + path[at] - 0x30;
  return at === PREFIX.length || (at < path.length && path[at] !== 0x2f) ? -1 : fd;
}
