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
  /** futimens(fd, ...) with exact nanoseconds (an open file's times, set before it is closed). */
  futimens(fd: number, atimeSec: number, atimeNsec: number, mtimeSec: number, mtimeNsec: number): void;
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
  /**
   * Two packed scans (statDir's layout) of a copy's source and destination directory, matched
   * by name, and the source entries the quick check finds unchanged flagged, as
   * lib/fs/scan-pair.ts's portable twin does it (its header has the arguments and rules).
   * Returns the number of unchanged entries.
   */
  pairScans(src: Uint8Array, srcCount: number, dst: Uint8Array, dstCount: number, flags: number, temp: Uint8Array,
    match: Int32Array, ids: Uint8Array, stats: Float64Array): number;
  /**
   * Starts a walk at directory `path` on the scan-ahead thread now, before its walker is ready
   * (fxcp's launcher: lib/cli/cli-loader.cts); returns its number, 0 when too many are started
   * and unclaimed. `xattrSizes` as statDir's.
   */
  scanAhead(path: NativePath, xattrSizes: boolean): number;
  /** The number of the walk scanAhead started at `path` with the same `xattrSizes`, claimed (once, within a second of its start); 0 when none. */
  claimScanAhead(path: NativePath, xattrSizes: boolean): number;
  /** The xattr list size of each stat'ed entry of a packed scan of directory `dir` made without them, written into the scan in place. */
  sizeXattrs(dir: NativePath, packed: Uint8Array, count: number): void;
  /**
   * The bytes of the regular files under directory `dir` (symlinks not followed, unlistable
   * directories left out), counted on the thread pool (native/src/tree_bytes.cc); -1 once
   * stop[0] is set non-zero.
   */
  treeBytesAsync(dir: NativePath, stop: Int32Array): Promise<number>;
  /** BLAKE3-256 of `data` into out[0..32): a plain implementation for small inputs (native/src/blake3.cc). */
  blake3Into(data: Uint8Array, out: Uint8Array): void;
  /**
   * ioctl(dstFd, FICLONE, srcFd): dst's whole content becomes a reflink of src's (sizes included),
   * sharing extents copy-on-write. Fails with EOPNOTSUPP/ENOTTY/EINVAL where the file system has
   * no shared extents and EXDEV across file systems (native/src/clone.cc).
   */
  ficlone(dstFd: number, srcFd: number): void;
  /** ficlone on libuv's thread pool. */
  ficloneAsync(dstFd: number, srcFd: number): Promise<number>;
  /**
   * ioctl FICLONERANGE: reflink [srcOffset, srcOffset + length) of src at dstOffset of dst
   * (length 0: to src's end). Offsets and length block-aligned, except a range ending at src's end.
   */
  ficloneRange(srcFd: number, srcOffset: number, length: number, dstFd: number, dstOffset: number): void;
  /**
   * copy_file_range(2) with explicit offsets (file positions untouched): returns the bytes
   * copied, possibly fewer than `length` (loop), 0 when src has no byte at srcOffset. EXDEV
   * across file systems (Linux >= 5.19), EINVAL/EOPNOTSUPP where unsupported (native/src/copy_range.cc).
   */
  copyFileRange(srcFd: number, srcOffset: number, dstFd: number, dstOffset: number, length: number): number;
  /** copyFileRange on libuv's thread pool. */
  copyFileRangeAsync(srcFd: number, srcOffset: number, dstFd: number, dstOffset: number, length: number): Promise<number>;
  /**
   * sendfile(2) from src at srcOffset to dst at dstOffset (dst's file position is moved there
   * first and left after the data: dst must not be shared with a concurrent writer). Works across
   * file systems; returns the bytes copied (loop), 0 when src has no byte at srcOffset.
   */
  sendFile(srcFd: number, srcOffset: number, dstFd: number, dstOffset: number, length: number): number;
  /** sendFile on libuv's thread pool. */
  sendFileAsync(srcFd: number, srcOffset: number, dstFd: number, dstOffset: number, length: number): Promise<number>;
  /**
   * fallocate(2): 'allocate' reserves and extends the size, 'keep-size' reserves without changing
   * it, 'punch-hole' deallocates the range (reads as zeros, size unchanged). EOPNOTSUPP where unsupported.
   */
  fallocate(fd: number, mode: 'allocate' | 'keep-size' | 'punch-hole', offset: number, length: number): void;
  /**
   * statx(2) of a path (symlinks not followed unless `follow`) or of an open fd. Not the file
   * system's type: Node's fs.statfs gives f_type (native/src/statx.cc).
   */
  statx(target: NativePath | number, follow?: boolean): Statx;
  /**
   * renameat2(from, to, RENAME_NOREPLACE): EEXIST when `to` exists, atomically; EINVAL where the
   * file system lacks the flag (lib/fs/rename-noreplace.ts falls back).
   */
  renameNoReplace(from: NativePath, to: NativePath): void;
  /**
   * A batch of whole-file copies on libuv's thread pool, each into a temporary renamed into
   * place with its attributes; the layout of the arguments and of `out` is
   * lib/fs/copy-files-native.ts's (native/src/copy_files.cc). Settles when every file is done;
   * each file's outcome is in `out`. Then groups: new directories' entries made from their
   * listings (`scans`; lib/copy/dir-group.ts), run after the rows.
   */
  copyBatchAsync(paths: Buffer, nums: Float64Array, times: BigInt64Array, out: Float64Array, scans?: Uint8Array[], gparams?: Float64Array,
    gentries?: Uint32Array, gtimes?: BigInt64Array, gout?: Float64Array): Promise<void>;
  /**
   * A batch of small files read whole, one after the other (native/src/read_files.cc): file i
   * (the path ending at pathEnds[i] in `paths`) into `out` at the sum of the sizes before it, at
   * most sizes[i] bytes, opened relative to its directory (O_NOATIME where allowed). results[2i]:
   * the bytes read or -errno; results[2i+1]: 1 when its size changed since stat; results[2n], when
   * there is room for it: how many files were not wholly in the page cache (those are read side by
   * side). Returns the sum of the sizes.
   */
  readFiles(paths: Uint8Array, pathEnds: Uint32Array, sizes: Uint32Array, out: Uint8Array, results: Int32Array): number;
  /**
   * readahead(2) of the first sizes[i] bytes of each file (paths as readFiles), without waiting
   * for the reads: the jobs a chunk worker has queued, while the tree reads cold. Returns how
   * many were started.
   */
  prefetchFiles(paths: Uint8Array, pathEnds: Uint32Array, sizes: Uint32Array): number;
  /**
   * A batch of new files made at their names (O_EXCL), written whole, with mode and times on the
   * open file (native/src/write_files.cc): nums 6 per file (size, mode, atime s, ns, mtime s,
   * ns); results 2 per file (0 or -errno, the failing stage).
   */
  writeNewFiles(paths: Uint8Array, pathEnds: Uint32Array, data: Uint8Array, dataEnds: Uint32Array, nums: Float64Array, results: Int32Array): void;
  /** inotify_init1(IN_NONBLOCK | IN_CLOEXEC): the descriptor (lib/daemon/inotify-source.ts). */
  inotifyInit(): number;
  /** inotify_add_watch: the watch descriptor; throws as Node's fs errors do (ENOSPC: the watch limit). */
  inotifyAddWatch(fd: number, path: NativePath, mask: number): number;
  /** inotify_rm_watch; a watch the kernel dropped already is no error. */
  inotifyRmWatch(fd: number, wd: number): void;
  /** fanotify_init(flags | FAN_NONBLOCK | FAN_CLOEXEC): the descriptor (root only: EPERM otherwise). */
  fanotifyInit(flags: number): number;
  /** fanotify_mark(fd, flags, mask, AT_FDCWD, path). */
  fanotifyMark(fd: number, flags: number, mask: number, path: NativePath): void;
  /**
   * The path a `struct file_handle` (u32 length, i32 type, bytes) stands for now, opened
   * relative to `mountFd`: null when the inode is gone or unreachable, undefined when its path
   * is longer than a page.
   */
  pathOfHandle(mountFd: number, handle: Uint8Array): Buffer | null | undefined;
  /** fanotify_mark(fd, flags, mask) on the directory a `struct file_handle` names (opened relative to `mountFd`); false when it is gone. */
  fanotifyMarkHandle(fd: number, flags: number, mask: number, mountFd: number, handle: Uint8Array): boolean;
  /** Whether the directory a `struct file_handle` names is at or below the directory `rootFd` is open on (by "..", for a path too long to be told); null when it is gone. */
  handleUnder(rootFd: number, handle: Uint8Array): boolean | null;
  /** One datagram `message` to the AF_UNIX socket `path` ('@…': abstract), for sd_notify. */
  sendUnixDatagram(path: NativePath, message: string): void;
  /**
   * madvise(MADV_DONTNEED) over every shared mapping of the file at `path` in this process (as
   * /proc/self/maps lists them, by device and inode): their pages stop counting in the RSS and
   * stay in the page cache. With `offset` and `length`, only the pages that hold that part of
   * the file. Returns the bytes of address space advised (native/src/file_maps.cc).
   */
  releaseFileMaps(path: NativePath, offset?: number, length?: number): number;
  /** The resident bytes of this process's shared mappings of the file at `path` (/proc/self/smaps), what releaseFileMaps gives back. */
  fileMapsResident(path: NativePath): number;
  /** read() of a non-blocking descriptor into `buf`: the bytes read, 0 when nothing is waiting. */
  readAvailable(fd: number, buf: Uint8Array): number;
  /**
   * A poll of descriptor `fd` on Node's event loop: `onReadable` runs each time it is readable,
   * until stop(); it keeps the process alive unless unref()'d. The descriptor stays the caller's.
   */
  FdPoll: new (fd: number, onReadable: (err?: Error) => void) => { stop(): void; unref(): void; ref(): void };
}

/** What `statx` returns. `btimeNs` and `mntId` are null when the file system or kernel did not fill them. */
export interface Statx {
  /** The STATX_* bits the kernel filled. */
  mask: number;
  devMajor: number;
  devMinor: number;
  /** makedev(devMajor, devMinor): equal to Node's bigint `stat().dev`. */
  dev: bigint;
  ino: bigint;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  /** 512-byte blocks allocated. */
  blocks: number;
  blksize: number;
  rdevMajor: number;
  rdevMinor: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  btimeNs: bigint | null;
  /** The mount's id (as in /proc/self/mountinfo), Linux >= 5.8. */
  mntId: bigint | null;
}
