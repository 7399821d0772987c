/**
 * What the toolkit captures about one directory entry, and applies again on restore.
 * Times are nanoseconds since the epoch as bigint, so they round-trip exactly.
 * `name` is the entry's raw bytes (file names on Linux are bytes, not always UTF-8).
 */
export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'chardev' | 'blockdev' | 'socket';

export interface FileMeta {
  name: Buffer;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Apparent size in bytes (files), target length (symlinks), 0 otherwise. */
  size: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  dev: bigint;
  ino: bigint;
  nlink: number;
  /** Device number for chardev/blockdev. */
  rdev: number;
  /** Blocks actually allocated, in 512-byte units (hints at holes). */
  blocks: number;
  /** Symlink target bytes. */
  linkTarget?: Buffer;
  /** Extended attributes (user.*, trusted.*, security.*, system.posix_acl_*), sorted by name. */
  xattrs?: Array<[string, Buffer]>;
}
