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

/** Copies `jobs` (on the thread pool; resolves when all are done), an outcome per job. */
export async function copyFilesNative(jobs: readonly FileCopyJob[]): Promise<FileCopyOutcome[]> {
  if (!native) throw new Error('copyFilesNative needs the native addon');
  const n = jobs.length;
  const nums = new Float64Array(n * NUMS);
  const times = new BigInt64Array(n * TIMES);
  const out = new Float64Array(n * OUT);
  let bytes = 0;
  for (const j of jobs) bytes += j.src.length + j.dst.length + 2;
  const paths = Buffer.allocUnsafe(bytes);
  let at = 0;
  // Asked once per pair of devices in a batch (most batches have one).
  const fast: FastPaths[] = new Array(n);
  let srcDev = -1n, dstDev = -1n, pair: FastPaths | null = null;
  for (let i = 0; i < n; i++) {
    const j = jobs[i];
    at += j.src.copy(paths, at);
    paths[at++] = 0;
    at += j.dst.copy(paths, at);
    paths[at++] = 0;
    if (pair === null || j.srcDev !== srcDev || j.dstDev !== dstDev) {
      ({ srcDev, dstDev } = j);
      pair = fastPaths(srcDev, dstDev);
    }
    fast[i] = pair;
    const k = i * NUMS;
    nums[k] = j.size;
    nums[k + 1] = j.mode;
    nums[k + 2] = j.fallbackMode;
    nums[k + 3] = j.uid;
    nums[k + 4] = j.gid;
    nums[k + 5] = (j.archive ? ARCHIVE : 0) | (j.chown ? CHOWN : 0) | (pair.reflink ? TRY_REFLINK : 0) | (pair.copyRange ? TRY_RANGE : 0) | (j.fresh ? FRESH : 0) | (j.metaOnly ? META_ONLY : 0) | (j.cloneOnly ? CLONE_ONLY : 0) |
      (j.makeDir ? MAKE_DIR : 0) | (j.parent ? MAKE_PARENT : 0);
    nums[k + 6] = j.parent?.mode ?? 0;
    nums[k + 7] = j.parent?.levels ?? 0;
    times[i * TIMES] = BigInt.asIntN(64, j.ino);
    times[i * TIMES + 1] = j.atimeNs;
    times[i * TIMES + 2] = j.mtimeNs;
    times[i * TIMES + 3] = BigInt.asIntN(64, j.dstDev);
  }
  await native.copyFilesAsync(paths, nums, times, out);
  const outcomes: FileCopyOutcome[] = new Array(n);
  for (let i = 0; i < n; i++) outcomes[i] = outcome(jobs[i], fast[i], out, i * OUT);
  return outcomes;
}

function outcome(j: FileCopyJob, fast: FastPaths, out: Float64Array, o: number): FileCopyOutcome {
  const stage = out[o] as Stage, errno = out[o + 1];
  if (out[o + 5] !== 0) fast.note('reflink', out[o + 5] < 0 ? true : errnoName(out[o + 5]));
  if (out[o + 6] !== 0) fast.note('copyRange', out[o + 6] < 0 ? true : errnoName(out[o + 6]));
  switch (stage) {
    case Stage.Ok: {
      const copied: CopyDataResult = { strategy: STRATEGIES[out[o + 2]], bytes: out[o + 3], endedEarly: false };
      return out[o + 4] !== 0 ? { copied, ownerError: errnoException(out[o + 4], 'fchown', j.dst) } : { copied };
    }
    case Stage.Changed:
      return { error: new ToolkitError('CHANGED', 'changed while it was copied (no longer the regular file that was listed); not copied') };
    case Stage.Shrank: return { error: new ToolkitError('CHANGED', 'shrank while it was copied; not copied') };
    case Stage.NotCloned: return { notCloned: true };
    case Stage.MakeDir: return fail(errno, 'mkdir', 'create directory', j.makeDir ? j.dst : splitPath(j.dst)[0]);
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
