/**
 * A new directory's entries written as one group of rows in a batch (write-batcher.ts,
 * native/src/copy_files.cc), packed straight from its listing: the mkdirs of its
 * subdirectories, its regular files, and, when nothing else will be written in it, its own
 * owner, mode and times last. A batch runs its rows in order on one pool thread, so the
 * directory's times are set after every entry in it was made.
 *
 * Why: on a cold copy each file was a job object, a promise and its callbacks on the main
 * thread, and each directory three jobs (its mkdir, its files, its attributes). A directory's
 * group is one object and one promise; its rows are written into the batch's arrays from the
 * listing's packed fields, and what a row did is read back the same way. A row that failed, or
 * whose owner could not be set, gets its job object then (to be reported as a single job's).
 *
 * The caller (copy-engine.ts) decides which entries go in: regular files a batch takes
 * (WriteBatcher.takes; no xattrs, not hard-linked) and subdirectories; the rest (symlinks,
 * specials, files with xattrs) are written from the main thread, and the directory's
 * attributes then wait for them (its leaveDir), as do those of a directory split into several
 * groups. `ensure`: the directory is new and its own mkdir (in its parent's group, which may run
 * on the other pool thread at the same time) may not have run yet: each row makes it when
 * missing, as a single job inside it would.
 */
import type { FileMeta } from '../fs/file-meta.js';
import type { CopyStrategy, FastPaths } from '../fs/copy-data.js';
import {
  type BatchItem, type BatchWriter, type FileCopyJob, pathBytes, plainRow, type Row, rowBytes, rowFlags, rowOutcome, rowStrategy,
} from '../fs/copy-files-native.js';
import { dirCreateMode } from '../fs/materialize.js';
import { unownedMode } from '../fs/apply-meta.js';
import type { ScannedDir } from '../fs/scan-dir.js';
import { joinPath } from '../fs/fs-path.js';
import { BATCH_BYTES, BATCH_FILES, dataBytes, makeDirJob, NATIVE_MAX, type WriteBatcher } from './write-batcher.js';
import { LONG_PATH } from '../fs/dir-handle.js';

/** What a group reports about directory `dir` (the caller's), by entry index of its listing (-1: the directory's own attributes). */
export interface GroupSink<D> {
  written(dir: D, i: number, strategy: CopyStrategy, bytes: number): void;
  failed(dir: D, i: number, err: unknown): void;
}

type Ensure = { mode: number; levels: number } | undefined;

/** A new directory's entries, split (splitDir). */
export interface DirSplit {
  /** Subdirectories its first group makes. */
  dirs: number[];
  /** Files, cut into groups of at most a batch (BATCH_FILES, BATCH_BYTES); one empty group when none. */
  groups: number[][];
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
 * under `hardLinks`, at most NATIVE_MAX bytes of data, on device `srcDev`: a group learns
 * one pair of devices' fast paths).
 */
export function splitDir(scan: ScannedDir, dstLength: number, srcDev: bigint, hardLinks: boolean): DirSplit {
  const n = scan.count, dirs: number[] = [], groups: number[][] = [], grouped = new Uint8Array(n);
  let files: number[] = [], data = 0, rest = 0, count = 0, bytes = 0;
  for (let i = 0; i < n; i++) {
    const type = scan.type(i);
    if (type === 'dir') {
      if (dstLength + 1 + scan.nameLength(i) > LONG_PATH) rest++;
      else { dirs.push(i); grouped[i] = 2; }
      continue;
    }
    const size = scan.rawSize(i), d = dataBytes(size, scan.blocks(i));
    if (type !== 'file' || scan.xattrBytes(i) !== 0 || (hardLinks && scan.nlink(i) > 1) || d > NATIVE_MAX || scan.dev(i) !== srcDev) {
      rest++;
      continue;
    }
    if (files.length > 0 && (files.length + 1 > BATCH_FILES || data + d > BATCH_BYTES)) {
      groups.push(files);
      files = [];
      data = 0;
    }
    files.push(i);
    grouped[i] = 1;
    data += d;
    count++;
    bytes += size;
  }
  if (files.length > 0 || groups.length === 0) groups.push(files);
  return { dirs, groups, rest, grouped, files: count, bytes };
}

export class DirGroup<D = unknown> implements BatchItem {
  readonly rows: number;
  readonly pathBytes: number;
  readonly data: number;
  /** Settles (never rejects) once the group's batch has run and every row is reported. */
  readonly done: Promise<void>;
  private resolve!: () => void;
  private fast: FastPaths | null = null;

  /**
   * Entries `dirs` (made) and `files` (copied; all on device `srcDev`) of `scan`, into
   * destination directory `dst` on device `dev`; `self`: the directory's own attributes, set
   * last (null: its leaveDir sets them).
   */
  constructor(private readonly writer: WriteBatcher, private readonly scan: ScannedDir, private readonly dst: Buffer, private readonly dev: bigint,
    private readonly srcDev: bigint, private readonly dirs: readonly number[], private readonly files: readonly number[], private readonly self: FileMeta | null,
    private readonly ensure: Ensure, private readonly sink: GroupSink<D>, private readonly ctx: D) {
    this.done = new Promise((r) => { this.resolve = r; });
    const src = scan.dir;
    let bytes = 0, data = 0;
    for (const i of dirs) bytes += 2 * pathBytes(dst, scan.nameLength(i));
    for (const i of files) {
      bytes += pathBytes(src, scan.nameLength(i)) + pathBytes(dst, scan.nameLength(i));
      data += dataBytes(scan.rawSize(i), scan.blocks(i));
    }
    if (self) bytes += 2 * pathBytes(dst);
    this.rows = dirs.length + files.length + (self ? 1 : 0);
    this.pathBytes = bytes;
    this.data = data;
  }

  pack(w: BatchWriter): void {
    const scan = this.scan, e = this.ensure, owner = this.writer.owner;
    const pair = this.fast = w.fastPaths(this.srcDev, this.dev);
    const r: Row = { size: 0, mode: 0, fallbackMode: 0, uid: 0, gid: 0, flags: 0, parentMode: e?.mode ?? 0, levels: e?.levels ?? 0, ino: 0n, atimeNs: 0n, mtimeNs: 0n, dstDev: this.dev };
    r.flags = rowFlags({ archive: false, chown: false, fresh: false, makeDir: true, parent: e }, pair);
    for (const i of this.dirs) {
      const name = scan.name(i);
      r.mode = r.fallbackMode = dirCreateMode({ uid: scan.uid(i), gid: scan.gid(i), mode: scan.mode(i) });
      w.add(this.dst, name, this.dst, name, r);
    }
    r.flags = rowFlags({ archive: true, chown: owner, fresh: true, parent: e }, pair);
    for (const i of this.files) {
      const name = scan.name(i), mode = scan.mode(i), uid = scan.uid(i), gid = scan.gid(i);
      r.size = scan.rawSize(i);
      r.mode = mode;
      r.fallbackMode = mode & 0o6000 ? unownedMode(mode, { uid, gid }) : mode;
      r.uid = uid;
      r.gid = gid;
      r.ino = scan.ino(i);
      r.atimeNs = scan.atimeNs(i);
      r.mtimeNs = scan.mtimeNs(i);
      w.add(scan.dir, name, this.dst, name, r);
    }
    const m = this.self;
    if (m) {
      // As WriteBatcher.dirMetaJob: one mode, setuid/setgid kept.
      r.flags = rowFlags({ archive: true, chown: owner, fresh: false, metaOnly: true, parent: e }, pair);
      r.size = 0; r.mode = r.fallbackMode = m.mode & 0o7777; r.uid = m.uid; r.gid = m.gid; r.ino = 0n; r.atimeNs = m.atimeNs; r.mtimeNs = m.mtimeNs;
      w.add(this.dst, null, this.dst, null, r);
    }
  }

  settle(out: Float64Array, first: number): void {
    const scan = this.scan, fast = this.fast!;
    let row = first;
    for (const i of this.dirs) {
      if (plainRow(out, row, fast) < 0) {
        const path = joinPath(this.dst, scan.name(i));
        this.report(i, makeDirJob(path, 0, this.ensure), out, row);
      }
      row++;
    }
    const setid = !this.writer.owner;
    for (const i of this.files) {
      const s = plainRow(out, row, fast);
      if (s >= 0 && !(setid && scan.mode(i) & 0o6000)) this.sink.written(this.ctx, i, rowStrategy(s), rowBytes(out, row));
      else this.report(i, this.fileJob(i), out, row);
      row++;
    }
    if (this.self && plainRow(out, row, fast) < 0) this.report(-1, this.writer.dirMetaJob(this.dst, this.self, this.ensure), out, row);
    this.resolve();
  }

  fail(err: unknown): void {
    for (const i of this.dirs) this.sink.failed(this.ctx, i, err);
    for (const i of this.files) this.sink.failed(this.ctx, i, err);
    if (this.self) this.sink.failed(this.ctx, -1, err);
    this.resolve();
  }

  /** Row `row` (entry i, job `j`) as a single job's outcome: its warnings, then written or failed. */
  private report(i: number, j: FileCopyJob, out: Float64Array, row: number): void {
    const o = rowOutcome(j, out, row);
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
