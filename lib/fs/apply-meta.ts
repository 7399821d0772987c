/**
 * Applying captured metadata (a FileMeta) to an entry that a restore or copy has just created.
 *
 * The order matters and is fixed:
 *   1. lchown (only when `owner`, i.e. running as root): chown clears setuid/setgid and drops
 *      security.capability, so everything below must come after it;
 *   2. chmod (not for symlinks, whose mode Linux ignores): restores the setuid/setgid/sticky bits
 *      that step 1 cleared;
 *   3. extended attributes, ACLs included (lsetxattr each): after chmod, because an access ACL
 *      and the group bits of the mode are the same thing seen twice and the ACL is the finer one;
 *   4. times LAST (nanosecond utimensat, not following symlinks): every step above may touch
 *      ctime only, but a caller that still writes to the entry would move mtime, so times go last.
 *
 * What is lost is a warning (through `onWarn`), not an error: an xattr the target refuses
 * (user.* on a symlink, security.* without privilege, a file system without xattrs), ownership
 * that cannot be set. What leaves the entry wrong in a way the user must hear about as failure
 * throws: the entry is missing, chmod or setting times fails.
 *
 * Limits:
 * - ctime cannot be set (the kernel owns it); birth time is not restored.
 * - Hard links, directory contents and file data are the caller's business. Apply a directory's
 *   meta after its entries have been created, or creating them moves its mtime again.
 * - Existing xattrs that are not in `meta` are not removed (the native binding has no
 *   lremovexattr). A new file can inherit an access ACL from its parent's default ACL; such an
 *   ACL stays when `meta` has none.
 * - setuid/setgid are dropped (with a warning) when the entry will not carry the recorded owner
 *   or group (ownership not restored, or not restorable), like cp -p does: a restore by a user
 *   must not produce a setuid program owned by that user. Directories keep setgid (it only
 *   means "inherit the group").
 * - Without the native addon: no xattrs (one-time warning), and times go through lutimes with
 *   seconds as a float, exact only to about a microsecond (one-time warning).
 * - The path is used by name for each step; a concurrent rename of a parent is not guarded against.
 *   applyMetaFd does the same on a regular file still open (fchown, fchmod, futimens; xattrs by
 *   path), one path lookup fewer per step, and skips the chown its caller knows is not needed.
 *
 * Every step is a synchronous call: each is a few microseconds of inode work, while sending it
 * through libuv's thread pool costs a round trip of ~0.3 ms on a 2-core VM and more main-thread
 * CPU than the call itself. (On a slow network file system this serialises the metadata steps
 * of concurrently restored files; the data writes stay asynchronous.)
 */
import { chmodSync, fchmodSync, fchownSync, futimesSync, lchownSync, lutimesSync, promises as fsp } from 'node:fs';
import { native, nativeLoadError } from '../native/load.js';
import type { FileMeta } from './file-meta.js';
import type { Warn } from '../errors/index.js';
import { FsWarnCode, errnoOf, fsError, warnFallback } from './fs-error.js';
import { displayPath } from './fs-path.js';

export interface ApplyOptions {
  /** Restore uid/gid (true when running as root; see runningAsRoot()). */
  owner: boolean;
  /** Restore extended attributes and ACLs. */
  xattrs: boolean;
  onWarn: Warn;
  /**
   * The entry already has meta's owner (its caller made it as this user, in a directory without
   * setgid, and meta names this user and group): no chown is made, and the owner counts as
   * restored. One system call (a file-system transaction) per entry saved.
   */
  hasOwner?: boolean;
}

const NS_PER_SEC = 1_000_000_000n;
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

/** Splits nanoseconds since the epoch into [seconds, nanoseconds 0..999999999] (floor, so pre-1970 works). */
export function splitNs(ns: bigint): [sec: number, nsec: number] {
  let sec = ns / NS_PER_SEC;
  let nsec = ns % NS_PER_SEC;
  if (nsec < 0n) { sec -= 1n; nsec += NS_PER_SEC; }
  return [Number(sec), Number(nsec)];
}

/** Applies `meta` to the entry at `path` (not following a final symlink). See the header for order and limits. */
export async function applyMeta(path: Buffer, meta: FileMeta, opts: ApplyOptions): Promise<void> {
  const shown = displayPath(path);
  const isLink = meta.type === 'symlink';

  let ownerRestored = opts.owner && opts.hasOwner === true;
  if (opts.owner && !ownerRestored) {
    try {
      lchownSync(path, meta.uid, meta.gid);
      ownerRestored = true;
    } catch (e) {
      const code = errnoOf(e);
      if (code && MISSING.has(code)) throw fsError(e, 'restore owner of', path, 'lchown');
      warnOwnerLost(opts.onWarn, shown, meta, e);
    }
  }

  if (!isLink) {
    let mode = meta.mode & 0o7777;
    if ((mode & (S_ISUID | S_ISGID)) !== 0 && !ownerRestored && meta.type !== 'dir') {
      mode = dropUnownedSetid(mode, meta, shown, opts.onWarn);
    }
    try {
      chmodSync(path, mode);
    } catch (e) {
      throw fsError(e, 'restore permissions of', path, 'chmod');
    }
  }

  if (opts.xattrs && meta.xattrs && meta.xattrs.length > 0) setXattrs(path, meta, opts);

  await applyTimes(path, meta, opts.onWarn);
}

/**
 * applyMeta on regular file `fd` (at `path`, for xattrs and messages), before it is closed, in
 * the same order. Limit: xattrs still go by path (the addon has no fsetxattr; few files carry
 * any).
 */
export function applyMetaFd(fd: number, path: Buffer, meta: FileMeta, opts: ApplyOptions): void {
  let ownerRestored = opts.owner && opts.hasOwner === true;
  if (opts.owner && !ownerRestored) {
    try {
      fchownSync(fd, meta.uid, meta.gid);
      ownerRestored = true;
    } catch (e) {
      warnOwnerLost(opts.onWarn, displayPath(path), meta, e);
    }
  }
  let mode = meta.mode & 0o7777;
  if ((mode & (S_ISUID | S_ISGID)) !== 0 && !ownerRestored) mode = dropUnownedSetid(mode, meta, displayPath(path), opts.onWarn);
  try {
    fchmodSync(fd, mode);
  } catch (e) {
    throw fsError(e, 'restore permissions of', path, 'fchmod');
  }
  if (opts.xattrs && meta.xattrs && meta.xattrs.length > 0) setXattrs(path, meta, opts);
  const [aSec, aNsec] = splitNs(meta.atimeNs);
  const [mSec, mNsec] = splitNs(meta.mtimeNs);
  try {
    if (native) {
      native.futimens(fd, aSec, aNsec, mSec, mNsec);
    } else {
      warnFallback(opts.onWarn, 'utimens', 'file times are restored to about a microsecond, not to the nanosecond', nativeLoadError);
      futimesSync(fd, aSec + aNsec / 1e9, mSec + mNsec / 1e9);
    }
  } catch (e) {
    throw fsError(e, 'restore times of', path, 'futimens');
  }
}

/** Extended attributes and ACLs of `meta` on `path` (applyMeta's step 3). */
function setXattrs(path: Buffer, meta: FileMeta, opts: ApplyOptions): void {
  if (!native) {
    warnFallback(opts.onWarn, 'xattr-write', 'extended attributes and ACLs are not restored', nativeLoadError);
    return;
  }
  for (const [attr, value] of meta.xattrs ?? []) {
    try {
      native.xattrSet(path, attr, value);
    } catch (e) {
      const code = errnoOf(e);
      if (code && MISSING.has(code)) throw fsError(e, `restore extended attribute ${attr} of`, path, 'lsetxattr');
      opts.onWarn(FsWarnCode.XATTR, `cannot restore extended attribute ${attr} of ${displayPath(path)}: ${(e as Error).message}`,
        { path: displayPath(path), attr, errno: code });
    }
  }
}

/**
 * applyTimes done synchronously (one call, no turn of the event loop between reading times and
 * setting them: lib/daemon/mirror.ts); to the microsecond without the addon, and then silently
 * (its caller warned once at start).
 */
export function setTimesSync(path: Buffer, meta: Pick<FileMeta, 'atimeNs' | 'mtimeNs'>): void {
  const [aSec, aNsec] = splitNs(meta.atimeNs);
  const [mSec, mNsec] = splitNs(meta.mtimeNs);
  try {
    if (native) native.utimens(path, aSec, aNsec, mSec, mNsec);
    else lutimesSync(path, aSec + aNsec / 1e9, mSec + mNsec / 1e9);
  } catch (e) {
    throw fsError(e, 'restore times of', path, 'utimensat');
  }
}

/** Sets atime and mtime of `path` (not followed) from `meta`, to the nanosecond when the addon is loaded. */
export async function applyTimes(path: Buffer, meta: Pick<FileMeta, 'atimeNs' | 'mtimeNs'>, onWarn?: Warn): Promise<void> {
  const [aSec, aNsec] = splitNs(meta.atimeNs);
  const [mSec, mNsec] = splitNs(meta.mtimeNs);
  try {
    if (native) {
      native.utimens(path, aSec, aNsec, mSec, mNsec);
    } else {
      warnFallback(onWarn, 'utimens', 'file times are restored to about a microsecond, not to the nanosecond', nativeLoadError);
      await fsp.lutimes(path, aSec + aNsec / 1e9, mSec + mNsec / 1e9);
    }
  } catch (e) {
    throw fsError(e, 'restore times of', path, 'utimensat');
  }
}

/** The OWNER warning: `err` (a failed chown) left the entry owned by this process. */
export function warnOwnerLost(onWarn: Warn, shown: string, meta: Pick<FileMeta, 'uid' | 'gid'>, err: unknown): void {
  onWarn(FsWarnCode.OWNER, `cannot restore owner ${meta.uid}:${meta.gid} of ${shown}: ${(err as Error).message}`,
    { path: shown, uid: meta.uid, gid: meta.gid, errno: errnoOf(err) });
}

/**
 * Permission bits `mode` for a non-directory that did not get its recorded owner (it belongs to
 * this process): setuid kept only if the recorded owner is this user, setgid only if the
 * recorded group is one of ours.
 */
export function unownedMode(mode: number, meta: Pick<FileMeta, 'uid' | 'gid'>): number {
  let out = mode;
  if ((out & S_ISUID) !== 0 && meta.uid !== (process.geteuid?.() ?? -1)) out &= ~S_ISUID;
  if ((out & S_ISGID) !== 0) {
    const groups = new Set<number>([process.getegid?.() ?? -1, ...(process.getgroups?.() ?? [])]);
    if (!groups.has(meta.gid)) out &= ~S_ISGID;
  }
  return out;
}

/** The SETID_DROPPED warning: `applied` was set instead of the recorded mode. */
export function warnSetidDropped(onWarn: Warn, shown: string, meta: Pick<FileMeta, 'uid' | 'gid' | 'mode'>, applied: number): void {
  onWarn(FsWarnCode.SETID_DROPPED, `not restoring setuid/setgid on ${shown}: it is not owned by ${meta.uid}:${meta.gid}`,
    { path: shown, mode: meta.mode, applied });
}

/** unownedMode, with a warning about what is dropped. */
function dropUnownedSetid(mode: number, meta: FileMeta, shown: string, onWarn: Warn): number {
  const out = unownedMode(mode, meta);
  if (out !== mode) warnSetidDropped(onWarn, shown, meta, out);
  return out;
}
