/**
 * Whole-file copies in batches, each file's system calls made by the addon on libuv's thread
 * pool (native/src/copy_files.cc): the fast path for trees of small files, where calling each
 * of a file's ten system calls from JavaScript costs more than the calls do.
 *
 * Each file is written as lib/copy/file-write.ts writes one, with the same rules: the source
 * opened without following a link and checked to be the inode listed (else CHANGED); the data
 * into a temporary in the destination's directory (a new file: an unnamed one, O_TMPFILE,
 * linked to its name when complete) by reflink, copy_file_range or read/write
 * (lib/fs/copy-data.ts's per file-system-pair probes decide which are tried, and learn from
 * the outcome); owner, mode and times set on the temporary; then renamed onto the name. The
 * errors and warnings are those of the JavaScript path (fsError, OWNER, SETID_DROPPED).
 *
 * A batch runs on one pool thread: its rows in order, single jobs (FileCopyJob,
 * copyFilesNative), then its groups (BatchItem, runBatch: a new directory's entries, made by the
 * addon from the directory's listing, lib/copy/dir-group.ts), with no object per entry.
 *
 * Sources with holes are copied extent by extent (SEEK_DATA/SEEK_HOLE), holes kept. What it
 * does not do, and leaves to the caller: files with xattrs, --inplace, hard-link groups. Without
 * the addon it is not available (`available`).
 */
import { getSystemErrorMap } from 'node:util';
import { FsError, ToolkitError } from '../errors/index.js';
import { native } from '../native/load.js';
import { type CopyDataResult, type CopyStrategy, type FastPaths, fastPaths } from './copy-data.js';
import { fsError } from './fs-error.js';
import { displayPath, splitPath } from './fs-path.js';
import type { ScannedDir } from './scan-dir.js';

/** One file to copy. */
export interface FileCopyJob {
  src: Buffer;
  /** The final name (inside a directory that exists). */
  dst: Buffer;
  size: number;
  /** Bytes of data (holes apart), which bound the batch's time. */
  data: number;
  /** The listed source's inode (checked after open) and times. */
  ino: bigint;
  atimeNs: bigint;
  mtimeNs: bigint;
  srcDev: bigint;
  /** The destination directory's device. */
  dstDev: bigint;
  /** Nothing was at `dst` when its directory was listed: written unnamed (O_TMPFILE) and linked there. */
  fresh: boolean;
  /** No data: the owner (`chown`), mode and times of the directory at `dst` (`src` is not read). */
  metaOnly?: boolean;
  /** No data: a new directory made at `dst` with permission bits `mode` (one there is kept; a non-directory is replaced). */
  makeDir?: boolean;
  /**
   * The directory holding `dst` is new to this copy and may not be made yet (its job can run
   * beside this one): made with `mode` if missing, and the `levels` - 1 new directories above
   * it (0700) if they are missing too. Nothing above the copy's new directories is ever made.
   * For a metaOnly job, `dst` itself is that new directory (a group's last row, dir-group.ts).
   */
  parent?: { mode: number; levels: number };
  /**
   * A reflink or nothing: a file too large to copy inside a batch (it would hold the batch and
   * a Ctrl-C), whose clone takes the same time at any size. A refused clone gives the outcome
   * `notCloned`, leaving nothing behind, and the caller copies it another way.
   */
  cloneOnly?: boolean;
  /** Set owner (with `chown`), mode and times; without, only `mode`. */
  archive: boolean;
  chown: boolean;
  uid: number;
  gid: number;
  /** Permission bits when the owner is set (or without `archive`) ... */
  mode: number;
  /** ... and when it is not (lib/fs/apply-meta.ts's unownedMode). */
  fallbackMode: number;
}

export type FileCopyOutcome =
  /** Copied; `ownerError`: the chown that failed (the file belongs to this process). */
  | { copied: CopyDataResult; ownerError?: Error; error?: undefined }
  | { error: ToolkitError; copied?: undefined }
  /** A clone-only job's clone was refused: nothing written. */
  | { notCloned: true; copied?: undefined; error?: undefined };

export const available = native !== null;

// The layout of native/src/copy_files.cc.
const NUMS = 8;
const TIMES = 4;
const OUT = 7;
const ARCHIVE = 1, CHOWN = 2, TRY_REFLINK = 4, TRY_RANGE = 8, FRESH = 16, META_ONLY = 32, CLONE_ONLY = 64, MAKE_DIR = 128, MAKE_PARENT = 256;
const STRATEGIES: readonly CopyStrategy[] = ['reflink', 'copy-range', 'read-write'];
const enum Stage {
  Ok = 0, OpenSource, Changed, CreateTemp, Clone, CopyRange, Read, Write, Shrank, Truncate, Chmod, SetTimes, Close, Rename, Seek, Stat, NotCloned, MakeDir,
}

/**
 * The fields of one row of a batch: a FileCopyJob's, with the flags worked out (rowFlags) and
 * the paths given apart (BatchWriter.add).
 */
interface Row {
  size: number;
  mode: number;
  fallbackMode: number;
  uid: number;
  gid: number;
  flags: number;
  parentMode: number;
  levels: number;
  ino: bigint;
  atimeNs: bigint;
  mtimeNs: bigint;
  dstDev: bigint;
}

/** A row's flags for the addon. */
export function rowFlags(j: Omit<FileCopyJob, 'src' | 'dst' | 'size' | 'data' | 'ino' | 'atimeNs' | 'mtimeNs' | 'srcDev' | 'dstDev' | 'uid' | 'gid' | 'mode' | 'fallbackMode'>, pair: FastPaths): number {
  return (j.archive ? ARCHIVE : 0) | (j.chown ? CHOWN : 0) | (pair.reflink ? TRY_REFLINK : 0) | (pair.copyRange ? TRY_RANGE : 0) | (j.fresh ? FRESH : 0) |
    (j.metaOnly ? META_ONLY : 0) | (j.cloneOnly ? CLONE_ONLY : 0) | (j.makeDir ? MAKE_DIR : 0) | (j.parent ? MAKE_PARENT : 0);
}

/**
 * The arrays of one batch (native/src/copy_files.cc's layout), filled row by row: the addon's
 * whole input, sized once for the batch's items (BatchItem.rows and pathBytes).
 */
export class BatchWriter {
  readonly nums: Float64Array;
  readonly times: BigInt64Array;
  readonly out: Float64Array;
  readonly paths: Buffer;
  /** The groups' listings, and their arrays (native/src/copy_files.cc's layout; BatchWriter.group). */
  readonly scans: Uint8Array[] = [];
  readonly gparams: Float64Array;
  readonly gentries: Uint32Array;
  readonly gtimes: BigInt64Array;
  readonly gout: Float64Array;
  private row = 0;
  private at = 0;
  /** Where the next group's paths go in `paths` (after every row's), its entries, its out. */
  private groupAt: number;
  private entryAt = 0;
  private outAt = 0;
  private last: { src: bigint; dst: bigint; fast: FastPaths } | null = null;

  /** Sized for `items` (BatchItem.rows, pathBytes, group). */
  constructor(items: readonly BatchItem[]) {
    let rows = 0, rowBytes = 0, groupBytes = 0, groups = 0, entries = 0, outs = 0;
    for (const it of items) {
      if (it.group) {
        groups++;
        groupBytes += it.pathBytes;
        entries += it.group.entries;
        outs += GROUP_HEAD + OUT * (it.group.entries + (it.group.self ? 1 : 0));
      } else {
        rows += it.rows;
        rowBytes += it.pathBytes;
      }
    }
    this.nums = new Float64Array(rows * NUMS);
    this.times = new BigInt64Array(rows * TIMES);
    this.out = new Float64Array(rows * OUT);
    this.paths = Buffer.allocUnsafe(rowBytes + groupBytes);
    this.groupAt = rowBytes;
    this.gparams = new Float64Array(groups * GROUP_PARAMS);
    this.gentries = new Uint32Array(entries);
    this.gtimes = new BigInt64Array(groups * 3);
    this.gout = new Float64Array(outs);
  }

  /** The next row: from `src` to `dst`. */
  add(src: Buffer, dst: Buffer, r: Row): void {
    this.at = this.path(src, this.at);
    this.at = this.path(dst, this.at);
    const k = this.row * NUMS, t = this.row * TIMES, nums = this.nums, times = this.times;
    nums[k] = r.size;
    nums[k + 1] = r.mode;
    nums[k + 2] = r.fallbackMode;
    nums[k + 3] = r.uid;
    nums[k + 4] = r.gid;
    nums[k + 5] = r.flags;
    nums[k + 6] = r.parentMode;
    nums[k + 7] = r.levels;
    times[t] = BigInt.asIntN(64, r.ino);
    times[t + 1] = r.atimeNs;
    times[t + 2] = r.mtimeNs;
    times[t + 3] = BigInt.asIntN(64, r.dstDev);
    this.row++;
  }

  /**
   * The next group (native/src/copy_files.cc's RunGroup): entries `dirs` (made), then `files`
   * (copied) of listing `scan`, from its directory into `dst`; `params` filled in by the caller
   * (GROUP_PARAMS numbers, the counts set here), `times` the destination's device and the
   * directory's atime and mtime. Returns where its out starts in `gout` (groupRows).
   */
  group(scan: ScannedDir, dst: Buffer, dirs: readonly number[], files: readonly number[], params: (p: Float64Array, at: number) => void,
    dev: bigint, atimeNs: bigint, mtimeNs: bigint, self: boolean): number {
    const k = this.scans.length, p = this.gparams, at = k * GROUP_PARAMS;
    this.scans.push(scan.packed);
    this.groupAt = this.path(scan.dir, this.groupAt);
    this.groupAt = this.path(dst, this.groupAt);
    p[at + G_COUNT] = scan.count;
    p[at + G_ENTRIES] = dirs.length + files.length;
    p[at + G_DIRS] = dirs.length;
    params(p, at);
    const e = this.gentries;
    for (const i of dirs) e[this.entryAt++] = i;
    for (const i of files) e[this.entryAt++] = i;
    const t = this.gtimes;
    t[k * 3] = BigInt.asIntN(64, dev);
    t[k * 3 + 1] = atimeNs;
    t[k * 3 + 2] = mtimeNs;
    const out = this.outAt;
    this.outAt += GROUP_HEAD + OUT * (dirs.length + files.length + (self ? 1 : 0));
    return out;
  }

  /** What to try between two devices (lib/fs/copy-data.ts), asked once for a run of rows between the same two. */
  fastPaths(src: bigint, dst: bigint): FastPaths {
    const l = this.last;
    if (l && l.src === src && l.dst === dst) return l.fast;
    const fast = fastPaths(src, dst);
    this.last = { src, dst, fast };
    return fast;
  }

  /**
   * Writes path `p` and a NUL at `at` of `paths`; returns where it ends. (With TypedArray's
   * set: Buffer's copy checks its arguments in JavaScript first, ~1 us a call.)
   */
  private path(p: Buffer, at: number): number {
    this.paths.set(p, at);
    this.paths[at + p.length] = 0;
    return at + p.length + 1;
  }
}

/** Bytes path `p` takes in a batch: itself and its NUL. */
export function pathBytes(p: Buffer): number {
  return p.length + 1;
}

/**
 * What a batch holds: single jobs, and groups of rows packed straight from a directory's
 * listing (lib/copy/dir-group.ts). A batch runs its rows in order on one pool thread.
 */
export interface BatchItem {
  /** Rows it adds to the batch's arrays (a group adds none: the addon makes them from its listing) ... */
  readonly rows: number;
  /** ... and entries it writes (the batch's size). */
  readonly files: number;
  /** A group (BatchWriter.group): its entries and whether its directory's attributes follow them. */
  readonly group?: { entries: number; self: boolean };
  /** Bytes of its rows' paths (pathBytes each; a group's, its two directories'). */
  readonly pathBytes: number;
  /** Bytes of data its rows copy (bounds a batch's time). */
  readonly data: number;
  /** Adds its `rows` rows to `w`, in order. */
  pack(w: BatchWriter): void;
  /** The batch ran: its rows' results are those of `out` from row `first` (kOut numbers a row). */
  settle(out: Float64Array, first: number): void;
  /** The batch could not run at all. */
  fail(err: unknown): void;
}

/** Runs `items` as one batch on the thread pool; every item is settled or failed once it ends. */
export async function runBatch(items: readonly BatchItem[]): Promise<void> {
  if (!native) throw new Error('a batch of copies needs the native addon');
  const w = new BatchWriter(items);
  for (const it of items) it.pack(w);
  try {
    await (w.scans.length > 0 ? native.copyBatchAsync(w.paths, w.nums, w.times, w.out, w.scans, w.gparams, w.gentries, w.gtimes, w.gout)
      : native.copyBatchAsync(w.paths, w.nums, w.times, w.out));
  } catch (err) {
    for (const it of items) it.fail(err);
    return;
  }
  let first = 0;
  for (const it of items) {
    it.settle(w.out, first);
    first += it.rows;
  }
}

/** The row of a single job. */
function jobRow(j: FileCopyJob, pair: FastPaths): Row {
  return {
    size: j.size, mode: j.mode, fallbackMode: j.fallbackMode, uid: j.uid, gid: j.gid, flags: rowFlags(j, pair),
    parentMode: j.parent?.mode ?? 0, levels: j.parent?.levels ?? 0, ino: j.ino, atimeNs: j.atimeNs, mtimeNs: j.mtimeNs, dstDev: j.dstDev,
  };
}

/** One job as a batch item: its outcome to `done`. */
export class JobItem implements BatchItem {
  readonly rows = 1;
  readonly files = 1;
  readonly pathBytes: number;
  readonly data: number;
  private fast: FastPaths | null = null;

  constructor(readonly job: FileCopyJob, private readonly done: (o: FileCopyOutcome) => void, private readonly failed: (err: unknown) => void) {
    this.pathBytes = pathBytes(job.src) + pathBytes(job.dst);
    this.data = job.data;
  }

  pack(w: BatchWriter): void {
    this.fast = w.fastPaths(this.job.srcDev, this.job.dstDev);
    w.add(this.job.src, this.job.dst, jobRow(this.job, this.fast));
  }

  settle(out: Float64Array, first: number): void { this.done(outcome(this.job, this.fast!, out, first * OUT)); }
  fail(err: unknown): void { this.failed(err); }
}

/** Copies `jobs` (on the thread pool; resolves when all are done), an outcome per job. */
export async function copyFilesNative(jobs: readonly FileCopyJob[]): Promise<FileCopyOutcome[]> {
  const outcomes: FileCopyOutcome[] = new Array(jobs.length);
  let error: unknown = null;
  await runBatch(jobs.map((j, i) => new JobItem(j, (o) => { outcomes[i] = o; }, (e) => { error = e; })));
  if (error !== null) throw error;
  return outcomes;
}

/**
 * Row `row`'s result when it is plain (copied, its owner set as asked): the strategy's index
 * (0 reflink, 1 copy-range, 2 read-write; its bytes at out[row * OUT + 3]). -1 otherwise:
 * rowOutcome then tells what happened.
 */
export function plainRow(out: Float64Array, row: number): number {
  const o = row * OUT;
  return out[o] === Stage.Ok && out[o + 4] === 0 ? out[o + 2] : -1;
}

/**
 * A group's layout (native/src/copy_files.cc's RunGroup): GROUP_PARAMS numbers in (G_*), and
 * out: GROUP_HEAD totals (H_*), then OUT numbers a row, as a single job's.
 */
export const GROUP_PARAMS = 11;
const G_COUNT = 0, G_ENTRIES = 1, G_DIRS = 2;
export const G_DIR_FLAGS = 3, G_FILE_FLAGS = 4, G_SELF_FLAGS = 5, G_PARENT_MODE = 6, G_LEVELS = 7, G_SELF_MODE = 8, G_SELF_UID = 9, G_SELF_GID = 10;
export const GROUP_HEAD = 9;
export const H_NOT_PLAIN = 0, H_REFLINKS = 1, H_RANGES = 2, H_READ_WRITES = 3, H_BYTES = 4;
const H_REFLINK = 5, H_REFLINK_REFUSED = 6, H_RANGE = 7, H_RANGE_REFUSED = 8;

/** The rows of the group whose out starts at `at` of `gout` (rowOutcome, plainRow and rowBytes read them). */
export function groupRows(gout: Float64Array, at: number): Float64Array {
  return gout.subarray(at + GROUP_HEAD);
}

/** What the files of the group whose out starts at `at` found of the fast paths, noted in `fast` (as a single job's are). */
export function noteGroupFast(gout: Float64Array, at: number, fast: FastPaths): void {
  noteGroupPath(fast, 'reflink', gout[at + H_REFLINK], gout[at + H_REFLINK_REFUSED]);
  noteGroupPath(fast, 'copyRange', gout[at + H_RANGE], gout[at + H_RANGE_REFUSED]);
}

function noteGroupPath(fast: FastPaths, path: 'reflink' | 'copyRange', outcome: number, refused: number): void {
  if (outcome < 0) fast.note(path, true);
  // (Refusals count one by one: some settle the pair only after several files, copy-data.ts.)
  else for (let k = Math.min(refused, 16); k > 0; k--) fast.note(path, errnoName(outcome));
}

/** Bytes row `row` copied. */
export function rowBytes(out: Float64Array, row: number): number {
  return out[row * OUT + 3];
}

export const rowStrategy = (s: number): CopyStrategy => STRATEGIES[s];

/** Row `row`'s outcome for job `j` (made for it only now: rows of a group have none). */
export function rowOutcome(j: FileCopyJob, out: Float64Array, row: number): FileCopyOutcome {
  return decode(j, out, row * OUT);
}

function noteFast(out: Float64Array, o: number, fast: FastPaths): void {
  if (out[o + 5] !== 0) fast.note('reflink', out[o + 5] < 0 ? true : errnoName(out[o + 5]));
  if (out[o + 6] !== 0) fast.note('copyRange', out[o + 6] < 0 ? true : errnoName(out[o + 6]));
}

function outcome(j: FileCopyJob, fast: FastPaths, out: Float64Array, o: number): FileCopyOutcome {
  noteFast(out, o, fast);
  return decode(j, out, o);
}

function decode(j: FileCopyJob, out: Float64Array, o: number): FileCopyOutcome {
  const stage = out[o] as Stage, errno = out[o + 1];
  switch (stage) {
    case Stage.Ok: {
      const copied: CopyDataResult = { strategy: STRATEGIES[out[o + 2]], bytes: out[o + 3], endedEarly: false };
      return out[o + 4] !== 0 ? { copied, ownerError: errnoException(out[o + 4], 'fchown', j.dst) } : { copied };
    }
    case Stage.Changed:
      return { error: new ToolkitError('CHANGED', 'changed while it was copied (no longer the regular file that was listed); not copied') };
    case Stage.Shrank: return { error: new ToolkitError('CHANGED', 'shrank while it was copied; not copied') };
    case Stage.NotCloned: return { notCloned: true };
    case Stage.MakeDir: return fail(errno, 'mkdir', 'create directory', j.makeDir || j.metaOnly ? j.dst : splitPath(j.dst)[0]);
    case Stage.OpenSource: return fail(errno, 'open', 'read', j.src);
    case Stage.Stat: return j.metaOnly ? fail(errno, 'lstat', 'restore attributes of', j.dst) : fail(errno, 'fstat', 'read', j.src);
    case Stage.Seek: return fail(errno, 'lseek', 'read', j.src);
    case Stage.Read: return fail(errno, 'read', 'read', j.src);
    case Stage.Clone: return fail(errno, 'ioctl FICLONE', 'copy data of', j.src);
    case Stage.CopyRange: return fail(errno, 'copy_file_range', 'copy data of', j.src);
    case Stage.CreateTemp: return fail(errno, 'open', 'create a temporary file in', splitPath(j.dst)[0]);
    case Stage.Write: return fail(errno, 'write', 'write', j.dst);
    case Stage.Truncate: return fail(errno, 'ftruncate', 'write', j.dst);
    case Stage.Close: return fail(errno, 'close', 'write', j.dst);
    case Stage.Chmod: return fail(errno, 'fchmod', 'restore permissions of', j.dst);
    case Stage.SetTimes: return fail(errno, 'futimens', 'restore times of', j.dst);
    case Stage.Rename: {
      const name = errnoName(errno);
      if (name === 'EISDIR' || name === 'ENOTEMPTY' || name === 'EEXIST') {
        const shown = displayPath(j.dst);
        return { error: new FsError(`cannot replace ${shown}: a directory is in the way (${name})`, { path: shown, syscall: 'rename', errno: name }) };
      }
      return fail(errno, 'rename', 'replace', j.dst);
    }
    default: return { error: new FsError(`cannot copy ${displayPath(j.src)}: the addon reported an unknown stage ${stage}`, { path: displayPath(j.src) }) };
  }
}

function fail(errno: number, syscall: string, what: string, path: Buffer): FileCopyOutcome {
  return { error: fsError(errnoException(errno, syscall, path), what, path, syscall) };
}

let errnoMap: Map<number, [string, string]> | null = null;

function errnoName(errno: number): string {
  return (errnoMap ??= getSystemErrorMap()).get(-errno)?.[0] ?? `errno ${errno}`;
}

/** An error shaped like Node's own fs errors ("ENOENT: no such file or directory, open '/x'"). */
function errnoException(errno: number, syscall: string, path: Buffer): NodeJS.ErrnoException {
  const [code, text] = (errnoMap ??= getSystemErrorMap()).get(-errno) ?? [`errno ${errno}`, 'unknown error'];
  return Object.assign(new Error(`${code}: ${text}, ${syscall} '${displayPath(path)}'`), { code, errno: -errno, syscall, path: displayPath(path) });
}
