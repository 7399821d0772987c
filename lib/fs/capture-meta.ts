/**
 * Capturing the metadata of one directory entry (a FileMeta) without following symlinks.
 *
 * This runs once per entry of trees with millions of files, so it makes only the calls it
 * needs: one lstat always; one readlink for a symlink; llistxattr (plus one lgetxattr per
 * attribute) only when xattrs are asked for. No open(), no statx: the bigint lstat already
 * gives nanosecond times and 64-bit inode numbers.
 *
 * Limits:
 * - Birth time is not captured (not in FileMeta; it cannot be restored anyway).
 * - Extended attributes need the native addon; without it none are captured and a one-time
 *   NATIVE_FALLBACK warning says so. A file system without xattr support (ENOTSUP) simply has
 *   none, silently. An attribute that vanishes between list and get (ENODATA) is skipped; any
 *   other per-attribute failure is a warning and the attribute is left out.
 * - The entry may change between the calls (a live tree): what is returned is each call's view,
 *   not an atomic snapshot. A symlink's `size` is the length of the target actually read.
 * - Names of xattrs are strings (the kernel requires a namespace prefix such as "user."; in
 *   practice they are ASCII); values are raw bytes.
 */
import { promises as fsp, constants as C, lstatSync, readlinkSync } from 'node:fs';
import { native, nativeLoadError } from '../native/load.js';
import type { EntryType, FileMeta } from './file-meta.js';
import type { Warn } from '../errors/index.js';
import { FsError, FsWarnCode, fsError, warnFallback } from './fs-error.js';
import { displayPath } from './fs-path.js';

export interface CaptureOptions {
  /** Capture extended attributes (including POSIX ACLs, which are system.posix_acl_* xattrs). */
  xattrs: boolean;
  onWarn?: Warn;
}

/** st_mode file-type bits to EntryType, or null for a type the toolkit does not know. */
export function entryTypeOf(mode: number): EntryType | null {
  switch (mode & C.S_IFMT) {
    case C.S_IFREG: return 'file';
    case C.S_IFDIR: return 'dir';
    case C.S_IFLNK: return 'symlink';
    case C.S_IFIFO: return 'fifo';
    case C.S_IFCHR: return 'chardev';
    case C.S_IFBLK: return 'blockdev';
    case C.S_IFSOCK: return 'socket';
    default: return null;
  }
}

/** st_mode file-type bits for an EntryType (what mknod needs). */
export function modeTypeBits(type: EntryType): number {
  switch (type) {
    case 'file': return C.S_IFREG;
    case 'dir': return C.S_IFDIR;
    case 'symlink': return C.S_IFLNK;
    case 'fifo': return C.S_IFIFO;
    case 'chardev': return C.S_IFCHR;
    case 'blockdev': return C.S_IFBLK;
    case 'socket': return C.S_IFSOCK;
  }
}

/** Byte order of the UTF-8 encodings (equals string order for the usual ASCII names). */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const NO_XATTR_SUPPORT = new Set(['ENOTSUP', 'EOPNOTSUPP']);

/**
 * The metadata of the entry at `path` (not followed if a symlink); `name` is stored as the
 * entry's name (the last component, raw bytes). Throws NotFoundError when the entry is gone,
 * FsError for other failures, both naming the path.
 */
export async function captureMeta(path: Buffer, name: Buffer, opts: CaptureOptions): Promise<FileMeta> {
  let st;
  try {
    st = await fsp.lstat(path, { bigint: true });
  } catch (e) {
    throw fsError(e, 'read metadata of', path, 'lstat');
  }
  const meta = metaFromStats(path, name, st);
  let target: Buffer | undefined;
  if (meta.type === 'symlink') {
    try {
      target = await fsp.readlink(path, { encoding: 'buffer' });
    } catch (e) {
      throw fsError(e, 'read symlink', path, 'readlink');
    }
  }
  return completeMeta(meta, path, target, opts);
}

/**
 * captureMeta with synchronous calls. For walking trees whose metadata is in the page cache
 * (the common case: a backup of a live system, a second snapshot), a synchronous lstat costs a
 * few microseconds where a round trip through libuv's thread pool costs tens; the walk is a
 * chain of such calls, so this is what makes an unchanged tree fast to re-snapshot.
 */
export function captureMetaSync(path: Buffer, name: Buffer, opts: CaptureOptions): FileMeta {
  let st;
  try {
    st = lstatSync(path, { bigint: true });
  } catch (e) {
    throw fsError(e, 'read metadata of', path, 'lstat');
  }
  return completeMetaSync(metaFromStats(path, name, st), path, opts);
}

/** Reads what lstat does not give (a symlink's target; the xattrs when asked) into `meta`. */
export function completeMetaSync(meta: FileMeta, path: Buffer, opts: CaptureOptions): FileMeta {
  let target: Buffer | undefined;
  if (meta.type === 'symlink') {
    try {
      target = readlinkSync(path, { encoding: 'buffer' });
    } catch (e) {
      throw fsError(e, 'read symlink', path, 'readlink');
    }
  }
  return completeMeta(meta, path, target, opts);
}

/** Adds the symlink target (its length is the entry's size) and, when asked, the xattrs. */
function completeMeta(meta: FileMeta, path: Buffer, target: Buffer | undefined, opts: CaptureOptions): FileMeta {
  if (target) {
    meta.linkTarget = target;
    meta.size = target.length;
  }
  if (opts.xattrs) {
    const xattrs = readXattrs(path, opts.onWarn);
    if (xattrs !== undefined) meta.xattrs = xattrs;
  }
  return meta;
}

/** The lstat fields a FileMeta is made of: a BigIntStats, or native statDir's packed values. */
export interface StatFields {
  mode: number | bigint; uid: number | bigint; gid: number | bigint; size: number | bigint;
  nlink: number | bigint; rdev: number | bigint; blocks: number | bigint;
  atimeNs: bigint; mtimeNs: bigint; ctimeNs: bigint; dev: bigint; ino: bigint;
}

/** A FileMeta without symlink target or xattrs; FsError for a file type the toolkit does not know. */
export function metaFromStats(path: Buffer, name: Buffer, st: StatFields): FileMeta {
  const rawMode = Number(st.mode);
  const type = entryTypeOf(rawMode);
  if (type === null) {
    throw new FsError(`cannot capture ${displayPath(path)}: unknown file type (mode 0${rawMode.toString(8)})`,
      { path: displayPath(path), mode: rawMode });
  }
  const meta: FileMeta = {
    name,
    type,
    mode: rawMode & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: type === 'file' || type === 'symlink' ? Number(st.size) : 0,
    atimeNs: st.atimeNs,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    dev: st.dev,
    ino: st.ino,
    nlink: Number(st.nlink),
    rdev: type === 'chardev' || type === 'blockdev' ? Number(st.rdev) : 0,
    blocks: Number(st.blocks),
  };
  return meta;
}

/**
 * All extended attributes of `path` (not followed), sorted by name (byte order of the UTF-8
 * names, which for ASCII names is plain string order). Returns undefined when there are none,
 * when the file system has no xattrs, or when the native addon is missing (one-time warning).
 */
export function readXattrs(path: Buffer, onWarn?: Warn): Array<[string, Buffer]> | undefined {
  if (!native) {
    warnFallback(onWarn, 'xattr-read', 'extended attributes and ACLs are not captured', nativeLoadError);
    return undefined;
  }
  let names: string[];
  try {
    names = native.xattrList(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && NO_XATTR_SUPPORT.has(code)) return undefined;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw fsError(e, 'list extended attributes of', path, 'llistxattr');
    // Anything else (EACCES, EIO, ...) loses the attributes, not the file.
    onWarn?.(FsWarnCode.XATTR, `cannot list extended attributes of ${displayPath(path)}: ${(e as Error).message}`,
      { path: displayPath(path), errno: code });
    return undefined;
  }
  if (names.length === 0) return undefined;
  if (names.length > 1) names.sort(compareUtf8);
  const out: Array<[string, Buffer]> = [];
  for (const attr of names) {
    try {
      out.push([attr, native.xattrGet(path, attr)]);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENODATA') continue; // removed since the list: it is simply not there now
      onWarn?.(FsWarnCode.XATTR,
        `cannot read extended attribute ${attr} of ${displayPath(path)}: ${(e as Error).message}`,
        { path: displayPath(path), attr, errno: code });
    }
  }
  return out.length > 0 ? out : undefined;
}
