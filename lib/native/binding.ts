/**
 * The shape of the native addon (native/, node-addon-api). Only lib/native/load.ts loads it;
 * everything else imports `native` from there and must cope with `null` (the addon did not build),
 * using the pure TypeScript twin and saying so.
 *
 * Paths are `string | Buffer`: a Buffer carries a file name's raw bytes, so names that are not
 * valid UTF-8 survive a snapshot and a restore unchanged. Errors are thrown like Node's own:
 * an Error with `code` ('ENOENT', 'ENOTSUP', ...), `errno`, `syscall` and `path`.
 */
export type NativePath = string | Buffer;

export interface NativeBinding {
  /**
   * FastCDC gear scan over `buf`, which starts at a chunk boundary. Returns the lengths of the
   * complete chunks found from the start of `buf`. When `final` is false the unfinished tail
   * (bytes after the last cut, shorter than `max`) is not returned: the caller carries it into
   * the next call. When `final` is true the tail is returned as a last chunk. Identical cut
   * points to lib/chunker/gear-chunker.ts (parity-tested).
   */
  gearChunkLengths(buf: Uint8Array, gear: Uint32Array, min: number, avg: number, max: number,
    maskS: number, maskL: number, final: boolean): Uint32Array;
  /** llistxattr: names of the extended attributes of path (symlinks not followed). */
  xattrList(path: NativePath): string[];
  /** lgetxattr. */
  xattrGet(path: NativePath, name: string): Buffer;
  /** lsetxattr (flags 0: create or replace). */
  xattrSet(path: NativePath, name: string, value: Uint8Array): void;
  /** lseek(fd, offset, SEEK_DATA): next data offset at or after offset, or -1 at ENXIO (no more data). */
  seekData(fd: number, offset: number): number;
  /** lseek(fd, offset, SEEK_HOLE): next hole offset at or after offset (EOF counts as a hole). */
  seekHole(fd: number, offset: number): number;
  /** utimensat(AT_FDCWD, path, ..., AT_SYMLINK_NOFOLLOW) with exact nanoseconds. */
  utimens(path: NativePath, atimeSec: number, atimeNsec: number, mtimeSec: number, mtimeNsec: number): void;
  /** mknod(path, mode, dev): fifos (S_IFIFO), character and block devices. */
  mknod(path: NativePath, mode: number, dev: number): void;
  /** The address of buf's first byte modulo align (a power of two): for O_DIRECT buffers. */
  addressOffset(buf: Uint8Array, align: number): number;
  /**
   * The entries of directory `path` ('.' and '..' left out) sorted by byte order, each lstat'ed
   * (fstatat relative to the directory, symlinks not followed), packed into `out` (8-byte
   * aligned) for n entries as: n * 9 doubles (errno, 0 when stat'ed; mode, uid, gid, size,
   * nlink, rdev, blocks, and the bytes of its xattr name list: llistxattr's answer when
   * `xattrSizes`, 0 on a file system without xattrs, otherwise -1), n * 5 int64s (atime, mtime,
   * ctime in ns since the epoch, dev, ino), n uint32 name ends, then the names back to back.
   * Returns n, or minus the bytes needed when `out` is too small. Throws (syscall 'scandir')
   * when the directory cannot be read. `walk` (nonzero): the number of a walk that goes on into
   * the subdirectories, which a thread of the addon then scans ahead (native/src/scan_ahead.cc).
   */
  statDir(path: NativePath, out: Uint8Array, xattrSizes?: boolean, walk?: number): number;
  /** BLAKE3-256 of `data` into out[0..32): a plain implementation for small inputs (native/src/blake3.cc). */
  blake3Into(data: Uint8Array, out: Uint8Array): void;
}
