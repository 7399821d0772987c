/**
 * lib/fs: the toolkit's only door to the file system's metadata (and, through lib/native, to the
 * native addon). Nouns used here and by every caller:
 *
 * - **path**: a `Buffer` of raw bytes. Linux file names are bytes, not always UTF-8, so paths
 *   stay bytes from readdir to restore and become strings only for messages (`displayPath`,
 *   lossy). String paths are accepted where convenient and mean their UTF-8 bytes.
 * - **name**: one path component (no '/'), raw bytes, as readdir returns it. Directory listings
 *   are sorted by byte order (`listDir`), so a tree's entry order is the same on every machine.
 * - **entry**: one directory entry of any type (EntryType: file, dir, symlink, fifo, chardev,
 *   blockdev, socket); never followed if a symlink.
 * - **meta** (FileMeta, lib/fs/file-meta.ts): what is captured about an entry (`captureMeta`) and
 *   applied back on restore (`applyMeta`): type, mode with setuid/setgid/sticky, owner, size,
 *   ns times as bigint, identity (dev, ino, nlink: for hard links), rdev, blocks, link target,
 *   xattrs (POSIX ACLs are the system.posix_acl_* xattrs).
 * - **segment**: an [offset, length] range of a file that holds data; the rest are **holes**,
 *   read as zeros and left unwritten on restore (`dataSegments`).
 * - **fallback**: what lib/fs does when the native addon is not loaded (no xattrs, µs times, no
 *   hole map, mkfifo by command, no device nodes); each one is announced once per process as
 *   a NATIVE_FALLBACK warning through the caller's `onWarn`. lib/fs never prints.
 *
 * Errors are ToolkitErrors naming the path (NotFoundError for a missing entry, FsError otherwise,
 * `errnoOf(e)` gives 'ENOENT' etc.); what is lost but not fatal is a warning (Warn, lib/errors/warn.ts).
 */
export type { EntryType, FileMeta } from './file-meta.js';
export * from './fs-path.js';
export * from './fs-error.js';
export * from './list-dir.js';
export * from './scan-dir.js';
export * from './capture-meta.js';
export * from './data-segments.js';
export * from './apply-meta.js';
export * from './make-special.js';
export * from './is-root.js';
export * from './free-space.js';
export * from './copy-data.js';
export * from './rename-noreplace.js';
