/**
 * The data copier: writes the data of one source file into a new, empty destination file by the
 * cheapest way the two file systems allow, holes kept. The copy engine calls it for each regular
 * file; its contract is that of `ContentSource.fill` (lib/fs/materialize.ts): the destination is
 * a temporary the caller created, open for writing; each extent is written at its offset, holes
 * are never written; the caller truncates to the size, closes and renames afterwards.
 *
 * Strategies, tried in this order for each file:
 * - 'reflink': FICLONE, the destination shares the source's extents (btrfs, XFS with reflink);
 *   constant time whatever the size, holes included.
 * - 'copy-range': copy_file_range per data extent (the SEEK_DATA/SEEK_HOLE map), never across a
 *   hole; the kernel moves the data without it entering this process (ext4, tmpfs, NFS server
 *   side). Short counts are continued; a 0 before the extent's end (the source shrank, or a
 *   pseudo file system that cannot) hands the rest of the file to read/write.
 * - 'sendfile': sendfile per data extent, across file systems (copy_file_range answers EXDEV
 *   there since Linux 5.19): the kernel copies page cache to page cache, one copy where
 *   pread/pwrite make two (about a quarter faster on 100 MiB here).
 * - 'read-write': pread/pwrite per data extent through one bounded buffer (CHUNK).
 * A route refused mid-file hands the rest of the file to the next one.
 * A fast path refused (one of the codes below) falls back instead of failing. Whether a path works
 * is mostly a property of the pair of file systems: the first file of each (source dev,
 * destination dev) pair probes it and the answer is kept for the process. Only the pair's own
 * refusals (EXDEV, EOPNOTSUPP, ENOTTY, ENOSYS) settle it at once; EINVAL, EPERM and ETXTBSY can
 * be about one file (btrfs will not clone between nodatacow and datacow files; an append-only
 * destination; a swap file), so they settle it only after PER_FILE_LIMIT files and no success,
 * and a pair that has worked once is never given up.
 *
 * Without the native addon: read-write, the whole file as one extent; when the source is likely
 * sparse (fewer blocks than its size needs) all-zero 4 KiB blocks are not written, so holes
 * stay holes (zeros that were written become holes too). Announced once through `onWarn`.
 *
 * Calls: `copyFileDataSync` does everything with blocking calls (for workers, and for small
 * files, where one thread-pool round trip costs more than the copy; docs/copy-strategies.md has
 * the figures). `copyFileData` runs files up to SYNC_MAX the same way and larger ones with
 * thread-pool calls, one chunk at a time (CHUNK, SEND_CHUNK, RANGE_CHUNK), so the event loop is
 * never blocked for long and `signal` is honoured between chunks.
 */
import { fstatSync, ftruncateSync, read, readSync, write, writeSync } from 'node:fs';
import type { Warn } from '../errors/index.js';
import { native, nativeLoadError } from '../native/load.js';
import { dataSegments, isLikelySparse, isZeroBlock, type Segment } from './data-segments.js';
import { errnoOf, fsError, warnFallback } from './fs-error.js';

export type CopyStrategy = 'reflink' | 'copy-range' | 'sendfile' | 'read-write';

export interface CopySource {
  fd: number;
  /** The size to copy (as stat'ed); a file that grew since is copied up to it. */
  size: number;
  /** st_dev, as Node's bigint stat gives it. */
  dev: bigint;
  /** st_blocks: without the native addon, tells a likely-sparse file (see above). */
  blocks?: number;
  /** For error messages only. */
  path?: Buffer | string;
}

export interface CopyTarget {
  fd: number;
  dev: bigint;
  /** For error messages only. */
  path?: Buffer | string;
}

export interface CopyDataOptions {
  signal?: AbortSignal;
  /** Hears the one-time NATIVE_FALLBACK warning. */
  onWarn?: Warn;
  /** `copyFileData` copies files up to this size with blocking calls (default SYNC_MAX). */
  syncMax?: number;
}

export interface CopyDataResult {
  /** The strategy that copied the file; the last one used when a file was handed down mid-way. */
  strategy: CopyStrategy;
  /** Data bytes written or cloned (holes not counted; for a reflink, the size). */
  bytes: number;
  /** The source ended before `size` (it shrank while being copied): the copy is its shorter content. */
  endedEarly: boolean;
}

/** Errors of a fast path that mean "not here": fall back. */
const PAIR_REFUSALS = new Set(['ENOSYS', 'EXDEV', 'EOPNOTSUPP', 'ENOTSUP', 'ENOTTY']);
const FILE_REFUSALS = new Set(['EINVAL', 'EPERM', 'ETXTBSY']);
/** Refusals of single files after which a pair that never worked is taken as not working. */
const PER_FILE_LIMIT = 8;
/** Bytes per copy_file_range or read/write call: a thread-pool job's size and the buffer's. */
export const CHUNK = 1 << 20;
/** Larger copy_file_range calls: within one file system the kernel often only links extents. */
const RANGE_CHUNK = 64 << 20;
/** sendfile calls: the data is copied (page cache to page cache), 8 MiB take a few ms. */
const SEND_CHUNK = 8 << 20;
/** Files up to this size are copied with blocking calls even by `copyFileData`. */
export const SYNC_MAX = 256 << 10;
const BLOCK = 4096;

/** Per (source dev, destination dev): whether each fast path works; absent while unknown. */
interface PairState { reflink?: boolean; copyRange?: boolean; sendfile?: boolean }
const pairs = new Map<string, PairState>();
/** Per pair and path ('dev:dev:reflink'), the files refused while the pair's answer is unknown. */
const refusals = new Map<string, number>();

/** Forgets what was learnt about file system pairs (tests). */
export function resetCopyProbes(): void {
  pairs.clear();
  refusals.clear();
}

/** What was learnt about a pair so far (tests, `fxcp doctor`). */
export function copyProbe(srcDev: bigint, dstDev: bigint): Readonly<PairState> {
  return { ...pairs.get(`${srcDev}:${dstDev}`) };
}

// The copy is written once, as a generator yielding the system calls it needs; a sync and an
// async driver run it. So both calls share one implementation of the extent walk.
type Op =
  | { op: 'clone' }
  | { op: 'range' | 'send'; at: number; length: number }
  | { op: 'read'; buf: Buffer; length: number; at: number }
  | { op: 'write'; buf: Buffer; length: number; at: number };
/** An op's outcome: bytes transferred, or the error it failed with. */
type Outcome = { n: number; err?: undefined } | { n: 0; err: unknown };
type Plan = Generator<Op, CopyDataResult, Outcome>;

function* plan(src: CopySource, dst: CopyTarget, opts: CopyDataOptions, buffer: () => Buffer): Plan {
  if (src.size <= 0) return { strategy: 'read-write', bytes: 0, endedEarly: false };
  if (!native) {
    const skipZeros = likelySparse(src);
    if (skipZeros) ftruncateSync(dst.fd, src.size);
    return yield* readWrite(src, dst, [[0, src.size]], opts, buffer(), skipZeros, 0);
  }
  const [key, pair] = pairOf(src.dev, dst.dev);
  if (pair.reflink !== false) {
    const r = yield { op: 'clone' };
    if (r.err === undefined) {
      pair.reflink = true;
      // The clone takes the source as it is now, with its size: smaller means it shrank.
      const cloned = fstatSync(dst.fd).size;
      return { strategy: 'reflink', bytes: Math.min(cloned, src.size), endedEarly: cloned < src.size };
    }
    fallBackOrThrow(r.err, key, pair, 'reflink', 'clone', src);
  }
  opts.signal?.throwIfAborted();
  const segments = dataSegments(src.fd, src.size, opts.onWarn);
  const last = segments[segments.length - 1];
  const dataEnd = last ? last[0] + last[1] : 0;
  // A map that ends before `size` is a trailing hole or a source that shrank: fstat tells.
  const shrunk = dataEnd < src.size && fstatSync(src.fd).size < src.size;
  // With holes, the destination gets its size first, so that every write lands below its end:
  // XFS preallocates past the end of a file being extended, blocks that the caller's truncate
  // would then turn into (zero) data inside a hole.
  if (segments.length > 1 || dataEnd < src.size) ftruncateSync(dst.fd, src.size);
  // copy_file_range, then sendfile, then read/write; each goes on from where the one before was refused.
  let rest: readonly Segment[] = segments;
  let bytes = 0;
  for (const route of ROUTES) {
    if (pair[route.path] === false) continue;
    const r = yield* kernelCopy(route, rest, bytes, pair, opts);
    if (!('err' in r)) {
      if (r.strategy) return { strategy: r.strategy, bytes: r.bytes, endedEarly: shrunk };
      return yield* readWrite(src, dst, r.rest, opts, buffer(), false, r.bytes, shrunk);
    }
    fallBackOrThrow(r.err, key, pair, route.path, 'copy data of', src);
    rest = r.rest;
    bytes = r.bytes;
  }
  return yield* readWrite(src, dst, rest, opts, buffer(), false, bytes, shrunk);
}

/** The routes where the kernel moves the data, tried in this order. */
const ROUTES = [
  { op: 'range', path: 'copyRange', strategy: 'copy-range', chunk: RANGE_CHUNK },
  { op: 'send', path: 'sendfile', strategy: 'sendfile', chunk: SEND_CHUNK },
] as const;
type Route = (typeof ROUTES)[number];
/** How a route ended: done (strategy), the source ended early (strategy null), or refused (err); `rest` is left to copy. */
type RouteEnd = { strategy: CopyStrategy | null; bytes: number; rest: Segment[] } | { err: unknown; bytes: number; rest: Segment[] };

/**
 * Copies the segments with one kernel route, each call within one segment (never across a
 * hole). Returns the strategy when done; `strategy: null` with the rest when the source had no
 * byte where one was expected (read/write then finds out how much there is); or the error that
 * refused the route, with the rest still to copy.
 */
function* kernelCopy(route: Route, segments: readonly Segment[], bytesBefore: number, pair: PairState,
  opts: CopyDataOptions): Generator<Op, RouteEnd, Outcome> {
  let bytes = bytesBefore;
  for (let i = 0; i < segments.length; i++) {
    const [start, length] = segments[i];
    let at = start;
    const end = start + length;
    while (at < end) {
      opts.signal?.throwIfAborted();
      const r = yield { op: route.op, at, length: Math.min(end - at, route.chunk) };
      const rest: Segment[] = [[at, end - at], ...segments.slice(i + 1)];
      if (r.err !== undefined) return { err: r.err, bytes, rest };
      // No byte at `at`: the source shrank, or a file system (procfs-like) that reports 0.
      if (r.n === 0) return { strategy: null, bytes, rest };
      pair[route.path] = true;
      at += r.n;
      bytes += r.n;
    }
  }
  return { strategy: route.strategy, bytes, rest: [] };
}

/** pread/pwrite of each segment through `buf`; with `skipZeros`, all-zero aligned blocks are left as holes. */
function* readWrite(src: CopySource, dst: CopyTarget, segments: readonly Segment[], opts: CopyDataOptions,
  buf: Buffer, skipZeros: boolean, bytesBefore: number, shrunk = false): Plan {
  let bytes = bytesBefore;
  for (const [start, length] of segments) {
    let at = start;
    const end = start + length;
    while (at < end) {
      opts.signal?.throwIfAborted();
      const r = yield { op: 'read', buf, length: Math.min(end - at, buf.length), at };
      if (r.err !== undefined) throw fsError(r.err, 'read', shown(src), 'read');
      if (r.n === 0) return { strategy: 'read-write', bytes, endedEarly: true };
      // Write what was read, in runs of non-zero blocks when holes are to be made from zeros.
      let off = 0;
      while (off < r.n) {
        let runEnd = r.n;
        if (skipZeros) {
          off = skipZeroBlocks(buf, off, r.n, at);
          if (off >= r.n) break;
          runEnd = nextZeroBlock(buf, off, r.n, at);
        }
        const w = yield { op: 'write', buf: buf.subarray(off), length: runEnd - off, at: at + off };
        if (w.err !== undefined) throw fsError(w.err, 'write', shown(dst), 'write');
        if (w.n === 0) throw fsError(new Error('write wrote nothing'), 'write', shown(dst), 'write');
        off += w.n;
        bytes += w.n;
      }
      at += r.n;
    }
  }
  return { strategy: 'read-write', bytes, endedEarly: shrunk };
}

/** The first offset >= off in buf (file offset `at` + i) not starting a whole all-zero block. */
function skipZeroBlocks(buf: Buffer, off: number, n: number, at: number): number {
  while (off < n) {
    const blockEnd = Math.min(n, off + BLOCK - ((at + off) % BLOCK));
    // Only whole blocks become holes; a zero tail shorter than a block is written.
    if (blockEnd - off < BLOCK || !isZeroBlock(buf.subarray(off, blockEnd))) return off;
    off = blockEnd;
  }
  return off;
}

/** The end of the run of non-zero blocks that starts at off. */
function nextZeroBlock(buf: Buffer, off: number, n: number, at: number): number {
  let p = off + BLOCK - ((at + off) % BLOCK);
  while (p < n) {
    if (p + BLOCK <= n && isZeroBlock(buf.subarray(p, p + BLOCK))) return p;
    p += BLOCK;
  }
  return n;
}

function shown(f: CopySource | CopyTarget): Buffer | string {
  return f.path ?? `fd ${f.fd}`;
}

function likelySparse(src: CopySource): boolean {
  return src.blocks !== undefined && isLikelySparse({ blocks: src.blocks, size: src.size });
}

const SYSCALL: Record<keyof PairState, string> = { reflink: 'ioctl FICLONE', copyRange: 'copy_file_range', sendfile: 'sendfile' };

/** A fast path's failure: a refusal returns (the caller falls back) and may settle the pair; anything else is thrown. */
function fallBackOrThrow(err: unknown, key: string, pair: PairState, path: keyof PairState, what: string, src: CopySource): void {
  if (!noteRefusal(key, pair, path, errnoOf(err) ?? '')) throw fsError(err, what, shown(src), SYSCALL[path]);
}

/** Records that fast path `path` refused with errno `code`; false when `code` is no refusal (a real failure). */
function noteRefusal(key: string, pair: PairState, path: keyof PairState, code: string): boolean {
  if (PAIR_REFUSALS.has(code)) {
    if (pair[path] !== true) pair[path] = false;
    return true;
  }
  if (!FILE_REFUSALS.has(code)) return false;
  if (pair[path] !== undefined) return true;
  const n = (refusals.get(`${key}:${path}`) ?? 0) + 1;
  refusals.set(`${key}:${path}`, n);
  if (n >= PER_FILE_LIMIT) pair[path] = false;
  return true;
}

function pairOf(srcDev: bigint, dstDev: bigint): [key: string, pair: PairState] {
  const key = `${srcDev}:${dstDev}`;
  let pair = pairs.get(key);
  if (!pair) pairs.set(key, (pair = {}));
  return [key, pair];
}

/** Between two file systems: which fast paths to try, and what a try taught (see `fastPaths`). */
export interface FastPaths {
  reflink: boolean;
  copyRange: boolean;
  /** The path worked (true) or refused with errno `code` (recorded as this module's own copies record it). */
  note(path: 'reflink' | 'copyRange', outcome: true | string): void;
}

/**
 * The fast paths worth trying between two file systems (those not yet found not to work), for a
 * copier that runs the plan elsewhere (lib/fs/copy-files-native.ts). Read when asked.
 */
export function fastPaths(srcDev: bigint, dstDev: bigint): FastPaths {
  const [key, pair] = pairOf(srcDev, dstDev);
  return {
    reflink: native !== null && pair.reflink !== false,
    copyRange: native !== null && pair.copyRange !== false,
    note(path, outcome) {
      if (outcome === true) pair[path] = true;
      else noteRefusal(key, pair, path, outcome);
    },
  };
}

function noteFallback(opts: CopyDataOptions): void {
  if (!native) {
    warnFallback(opts.onWarn, 'copy-data', 'files are copied by read and write (no reflink, no copy_file_range; holes kept only where zero blocks are found)', nativeLoadError);
  }
}

let syncBuffer: Buffer | null = null;

/** Copies with blocking calls (see the module comment). */
export function copyFileDataSync(src: CopySource, dst: CopyTarget, opts: CopyDataOptions = {}): CopyDataResult {
  noteFallback(opts);
  const it = plan(src, dst, opts, () => (syncBuffer ??= Buffer.allocUnsafe(CHUNK)));
  let step = it.next();
  while (!step.done) step = it.next(runSync(step.value, src, dst));
  return step.value;
}

function runSync(o: Op, src: CopySource, dst: CopyTarget): Outcome {
  try {
    switch (o.op) {
      case 'clone': native!.ficlone(dst.fd, src.fd); return { n: 0 };
      case 'range': return { n: native!.copyFileRange(src.fd, o.at, dst.fd, o.at, o.length) };
      case 'send': return { n: native!.sendFile(src.fd, o.at, dst.fd, o.at, o.length) };
      case 'read': return { n: readSync(src.fd, o.buf, 0, o.length, o.at) };
      case 'write': return { n: writeSync(dst.fd, o.buf, 0, o.length, o.at) };
    }
  } catch (err) {
    return { n: 0, err };
  }
}

// Plain wrappers rather than util.promisify at module level: no call runs when this is imported.
function readAsync(fd: number, buf: Buffer, length: number, at: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, 0, length, at, (e, n) => (e ? reject(e) : resolve(n))));
}

function writeAsync(fd: number, buf: Buffer, length: number, at: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, buf, 0, length, at, (e, n) => (e ? reject(e) : resolve(n))));
}

/** Copies the data of `src` into `dst` (see the module comment); small files synchronously. */
export async function copyFileData(src: CopySource, dst: CopyTarget, opts: CopyDataOptions = {}): Promise<CopyDataResult> {
  opts.signal?.throwIfAborted();
  if (src.size <= (opts.syncMax ?? SYNC_MAX)) return copyFileDataSync(src, dst, opts);
  noteFallback(opts);
  // The buffer is made only when the file goes to read/write: reflinks and kernel copies need none.
  const it = plan(src, dst, opts, () => Buffer.allocUnsafe(Math.min(CHUNK, src.size)));
  let step = it.next();
  while (!step.done) step = it.next(await runAsync(step.value, src, dst));
  return step.value;
}

async function runAsync(o: Op, src: CopySource, dst: CopyTarget): Promise<Outcome> {
  try {
    switch (o.op) {
      case 'clone': await native!.ficloneAsync(dst.fd, src.fd); return { n: 0 };
      case 'range': return { n: await native!.copyFileRangeAsync(src.fd, o.at, dst.fd, o.at, o.length) };
      case 'send': return { n: await native!.sendFileAsync(src.fd, o.at, dst.fd, o.at, o.length) };
      case 'read': return { n: await readAsync(src.fd, o.buf, o.length, o.at) };
      case 'write': return { n: await writeAsync(dst.fd, o.buf, o.length, o.at) };
    }
  } catch (err) {
    return { n: 0, err };
  }
}
