/**
 * A new directory's entries written as one group of a batch (write-batcher.ts), made by the
 * addon straight from the directory's listing (native/src/copy_files.cc's RunGroup): the mkdirs
 * of its subdirectories, its regular files, and, when nothing else will be written in it, its
 * own owner, mode and times last. A batch runs a group's rows in order on one pool thread, so
 * the directory's times are set after every entry in it was made.
 *
 * Why: on a cold copy each file was a job object, a promise and its callbacks on the main
 * thread, and each directory three jobs (its mkdir, its files, its attributes); then each file
 * a row packed here from the listing's fields (its two paths copied, eight numbers and four
 * bigints written) and read back: ~7 us a file on the main thread, more than the pool spent
 * copying it. Now a group hands the addon the listing itself and its entries' indices; the
 * addon makes each row and returns the group's totals (files by strategy, bytes, rows that
 * were not plain), which are counted at once. The rows are read one by one only when one was
 * not plain (it failed, or its owner could not be set: it gets its job object then, to be
 * reported as a single job's) or when each file is reported (--json, -v: GroupSink.each).
 *
 * The caller (copy-engine.ts) decides which entries go in (splitDir): regular files a batch
 * takes (no xattrs, not hard-linked, no setuid/setgid bit, whose mode without the owner depends
 * on this process's groups) and subdirectories; the rest (symlinks, specials, such files) are
 * written from the main thread, and the directory's attributes then wait for them (its
 * leaveDir), as do those of a directory split into several groups. `ensure`: the directory is
 * new and its own mkdir (in its parent's group, which may run on the other pool thread at the
 * same time) may not have run yet: each row makes it when missing, as a single job inside it
 * would.
 */
import type { FileMeta } from '../fs/file-meta.js';
import type { CopyStrategy, FastPaths } from '../fs/copy-data.js';
import {
  type BatchItem, type BatchWriter, type FileCopyJob, G_DIR_FLAGS, G_FILE_FLAGS, G_LEVELS, G_PARENT_MODE, G_SELF_FLAGS, G_SELF_GID, G_SELF_MODE,
  G_SELF_UID, groupRows, H_BYTES, H_NOT_PLAIN, H_RANGES, H_READ_WRITES, H_REFLINKS, noteGroupFast, pathBytes, plainRow, rowBytes, rowFlags, rowOutcome,
  rowStrategy,
} from '../fs/copy-files-native.js';
import type { ScannedDir } from '../fs/scan-dir.js';
import { joinPath } from '../fs/fs-path.js';
import { BATCH_BYTES, BATCH_FILES, dataBytes, makeDirJob, NATIVE_MAX, type WriteBatcher } from './write-batcher.js';
import { LONG_PATH } from '../fs/dir-handle.js';

/** What a group reports about directory `dir` (the caller's), by entry index of its listing (-1: the directory's own attributes). */
export interface GroupSink<D> {
  /** Whether each file written is reported (`written`), or the group's totals only (`wroteAll`). */
  readonly each: boolean;
  written(dir: D, i: number, strategy: CopyStrategy, bytes: number): void;
  /** `files` files of `sizes` bytes written, `bytes` of data copied, so many by reflink, copy_file_range, read and write. */
  wroteAll(dir: D, files: number, sizes: number, bytes: number, reflinks: number, ranges: number, readWrites: number): void;
  failed(dir: D, i: number, err: unknown): void;
}

type Ensure = { mode: number; levels: number } | undefined;

/** Files of a group, with their data (holes apart) and sizes. */
export interface GroupFiles {
  files: number[];
  data: number;
  bytes: number;
}

/** A new directory's entries, split (splitDir). */
export interface DirSplit {
  /** Subdirectories its first group makes. */
  dirs: number[];
  /** Files, cut into groups of at most a batch (BATCH_FILES, BATCH_BYTES); one empty group when none. */
  groups: GroupFiles[];
  /** Entries left to the main thread. */
  rest: number;
  /** By entry: 1, a file of a group; 2, a subdirectory made by one. */
  grouped: Uint8Array;
  /** The grouped files and their bytes. */
  files: number;
  bytes: number;
}

/**
 * Which entries of `scan` (a new directory, to be written into a path of `dstLength` bytes)
 * its groups write: the subdirectories, unless their paths are long (made and reached through
 * handles from the main thread); the regular files a batch takes (no xattrs, not hard-linked
 * under `hardLinks`, no setuid/setgid bit, at most NATIVE_MAX bytes of data, on device
 * `srcDev`: a group learns one pair of devices' fast paths).
 */
export function splitDir(scan: ScannedDir, dstLength: number, srcDev: bigint, hardLinks: boolean): DirSplit {
  const n = scan.count, dirs: number[] = [], groups: GroupFiles[] = [], grouped = new Uint8Array(n);
  let g: GroupFiles = { files: [], data: 0, bytes: 0 }, rest = 0, count = 0, bytes = 0;
  for (let i = 0; i < n; i++) {
    const type = scan.type(i);
    if (type === 'dir') {
      if (dstLength + 1 + scan.nameLength(i) > LONG_PATH) rest++;
      else { dirs.push(i); grouped[i] = 2; }
      continue;
    }
    const size = scan.rawSize(i), d = dataBytes(size, scan.blocks(i));
    if (type !== 'file' || scan.xattrBytes(i) !== 0 || (hardLinks && scan.nlink(i) > 1) || scan.mode(i) & 0o6000 || d > NATIVE_MAX ||
      scan.dev(i) !== srcDev) {
      rest++;
      continue;
    }
    if (g.files.length > 0 && (g.files.length + 1 > BATCH_FILES || g.data + d > BATCH_BYTES)) {
      groups.push(g);
      g = { files: [], data: 0, bytes: 0 };
    }
    g.files.push(i);
    g.data += d;
    g.bytes += size;
    grouped[i] = 1;
    count++;
    bytes += size;
  }
  if (g.files.length > 0 || groups.length === 0) groups.push(g);
  return { dirs, groups, rest, grouped, files: count, bytes };
}

export class DirGroup<D = unknown> implements BatchItem {
  /** (No rows in the batch's arrays: the addon makes them from the listing.) */
  readonly rows = 0;
  readonly files: number;
  readonly pathBytes: number;
  readonly data: number;
  readonly group: { entries: number; self: boolean };
  /** Settles (never rejects) once the group's batch has run and every row is reported. */
  readonly done: Promise<void>;
  private resolve!: () => void;
  private fast: FastPaths | null = null;
  /** Its batch's group outs, and where its own starts (BatchWriter.group). */
  private gout: Float64Array | null = null;
  private at = 0;

  /**
   * Subdirectories `dirs` (made) and files `g` (copied; all on device `srcDev`) of `scan`, into
   * destination directory `dst` on device `dev`; `self`: the directory's own attributes, set
   * last (null: its leaveDir sets them).
   */
  constructor(private readonly writer: WriteBatcher, private readonly scan: ScannedDir, private readonly dst: Buffer, private readonly dev: bigint,
    private readonly srcDev: bigint, private readonly dirs: readonly number[], private readonly g: GroupFiles, private readonly self: FileMeta | null,
    private readonly ensure: Ensure, private readonly sink: GroupSink<D>, private readonly ctx: D) {
    this.done = new Promise((r) => { this.resolve = r; });
    this.files = dirs.length + g.files.length + (self ? 1 : 0);
    this.pathBytes = pathBytes(scan.dir) + pathBytes(dst);
    this.data = g.data;
    this.group = { entries: dirs.length + g.files.length, self: self !== null };
  }

  pack(w: BatchWriter): void {
    const e = this.ensure, owner = this.writer.owner, m = this.self;
    const pair = this.fast = w.fastPaths(this.srcDev, this.dev);
    this.gout = w.gout;
    this.at = w.group(this.scan, this.dst, this.dirs, this.g.files, (p, at) => {
      p[at + G_DIR_FLAGS] = rowFlags({ archive: false, chown: false, fresh: false, makeDir: true, parent: e }, pair);
      p[at + G_FILE_FLAGS] = rowFlags({ archive: true, chown: owner, fresh: true, parent: e }, pair);
      p[at + G_PARENT_MODE] = e?.mode ?? 0;
      p[at + G_LEVELS] = e?.levels ?? 0;
      if (!m) return;
      // As WriteBatcher.dirMetaJob: one mode, setuid/setgid kept.
      p[at + G_SELF_FLAGS] = rowFlags({ archive: true, chown: owner, fresh: false, metaOnly: true, parent: e }, pair);
      p[at + G_SELF_MODE] = m.mode & 0o7777;
      p[at + G_SELF_UID] = m.uid;
      p[at + G_SELF_GID] = m.gid;
    }, this.dev, m?.atimeNs ?? 0n, m?.mtimeNs ?? 0n, m !== null);
  }

  settle(): void {
    const out = this.gout!, at = this.at;
    noteGroupFast(out, at, this.fast!);
    if (out[at + H_NOT_PLAIN] === 0 && !this.sink.each) {
      const files = this.g.files.length;
      if (files > 0) this.sink.wroteAll(this.ctx, files, this.g.bytes, out[at + H_BYTES], out[at + H_REFLINKS], out[at + H_RANGES], out[at + H_READ_WRITES]);
    } else this.eachRow(groupRows(out, at));
    this.resolve();
  }

  fail(err: unknown): void {
    for (const i of this.dirs) this.sink.failed(this.ctx, i, err);
    for (const i of this.g.files) this.sink.failed(this.ctx, i, err);
    if (this.self) this.sink.failed(this.ctx, -1, err);
    this.resolve();
  }

  /** Each row reported: `rows`, the group's rows (groupRows). */
  private eachRow(rows: Float64Array): void {
    const scan = this.scan;
    let row = 0;
    for (const i of this.dirs) {
      if (plainRow(rows, row) < 0) this.report(i, makeDirJob(joinPath(this.dst, scan.name(i)), 0, this.ensure), rows, row);
      row++;
    }
    for (const i of this.g.files) {
      const s = plainRow(rows, row);
      if (s >= 0) this.sink.written(this.ctx, i, rowStrategy(s), rowBytes(rows, row));
      else this.report(i, this.fileJob(i), rows, row);
      row++;
    }
    if (this.self && plainRow(rows, row) < 0) this.report(-1, this.writer.dirMetaJob(this.dst, this.self, this.ensure), rows, row);
  }

  /** Row `row` (entry i, job `j`) as a single job's outcome: its warnings, then written or failed. */
  private report(i: number, j: FileCopyJob, rows: Float64Array, row: number): void {
    const o = rowOutcome(j, rows, row);
    if (o.error) return this.sink.failed(this.ctx, i, o.error);
    if (!o.copied) return;
    this.writer.warnings(j, o.ownerError);
    if (!j.makeDir && !j.metaOnly) this.sink.written(this.ctx, i, o.copied.strategy, o.copied.bytes);
  }

  /** Entry i's job, as WriteBatcher.job makes it. */
  private fileJob(i: number): FileCopyJob {
    const scan = this.scan, name = scan.name(i);
    const meta = {
      size: scan.rawSize(i), blocks: scan.blocks(i), ino: scan.ino(i), atimeNs: scan.atimeNs(i), mtimeNs: scan.mtimeNs(i), dev: scan.dev(i),
      uid: scan.uid(i), gid: scan.gid(i), mode: scan.mode(i),
    };
    return this.writer.job(joinPath(scan.dir, name), joinPath(this.dst, name), meta, this.dev, true, 0, true, this.ensure);
  }
}
