/**
 * Where each file write of a copy runs: in batches through the addon (lib/fs/copy-files-native.ts,
 * every system call of a file made on libuv's thread pool, one batch per core at a time), or on
 * the main thread (file-write.ts) for what the batches leave out: files with xattrs, --inplace,
 * files with more than NATIVE_MAX bytes of data that cannot be reflinked, and every file when
 * the addon is not loaded.
 *
 * A tree of small files is bound by per-file system calls (open, create, copy, chown, chmod,
 * utimensat, rename): made from JavaScript they cost about three times what cp pays for them,
 * and on one thread; in a batch they cost the calls, on every core.
 *
 * A batch goes when it holds BATCH_FILES files or BATCH_BYTES, or when the main thread waits
 * (setImmediate) and a pool slot is free for it; while every slot is busy it keeps growing, and
 * the first slot to free takes it. So a walk that runs out of free slots never waits on a batch
 * that is waiting for it, and a busy pool gets full batches: on the small set (10,000 files in
 * 1,111 directories) sealing at every wait made ~1,500 batches, half of them of one file (a
 * directory's attributes), each a thread-pool round trip. Files of one batch are copied one
 * after the other, so a batch is kept short.
 *
 * A batch holds single jobs (write, makeDir, dirMeta) and a new directory's group of rows
 * (dir-group.ts, `add`), whose rows stay together and in order.
 */
import type { Warn } from '../errors/index.js';
import { unownedMode, warnOwnerLost, warnSetidDropped } from '../fs/apply-meta.js';
import { type CopyDataResult, fastPaths } from '../fs/copy-data.js';
import type { FileMeta } from '../fs/file-meta.js';
import { available, type BatchItem, type FileCopyJob, type FileCopyOutcome, JobItem, runBatch } from '../fs/copy-files-native.js';
import { displayPath } from '../fs/fs-path.js';
import type { Materializer } from '../fs/materialize.js';
import { defaultPoolSize } from '../util/worker-pool.js';
import { type FileWrite, writeFileCopy } from './file-write.js';

/** Files per batch ... */
export const BATCH_FILES = 32;
/** ... and bytes: a batch of large files holds fewer. */
export const BATCH_BYTES = 8 << 20;
/** Files with more data (holes apart) are copied on the main thread (async calls, one chunk at a time: interruptible). */
export const NATIVE_MAX = 4 << 20;

/** The bytes of data a file holds: its size, or less when its blocks say it has holes. */
export function dataBytes(size: number, blocks: number): number {
  return Math.min(size, blocks * 512);
}

/** The job making new directory `path` (WriteBatcher.makeDir). */
export function makeDirJob(path: Buffer, mode: number, parent?: { mode: number; levels: number }): FileCopyJob {
  return {
    src: path, dst: path, size: 0, data: 0, ino: 0n, atimeNs: 0n, mtimeNs: 0n, srcDev: 0n, dstDev: 0n,
    fresh: false, makeDir: true, archive: false, chown: false, uid: 0, gid: 0, mode, fallbackMode: mode, parent,
  };
}

export class WriteBatcher {
  private batch: BatchItem[] = [];
  private rows = 0;
  private bytes = 0;
  private scheduled = false;
  private readonly ready: BatchItem[][] = [];
  private running = 0;
  private readonly idle = new Set<Promise<void>>();
  private readonly parallel: number;

  constructor(private readonly out: Materializer, readonly owner: boolean, private readonly onWarn: Warn,
    private readonly signal?: AbortSignal, workers?: number) {
    this.parallel = defaultPoolSize(workers);
  }

  /** Whether a file (without xattrs, not --inplace) can go in a batch. */
  takes(meta: Pick<FileMeta, 'size' | 'blocks'>): boolean {
    return available && dataBytes(meta.size, meta.blocks) <= NATIVE_MAX;
  }

  /**
   * Writes `w` (file-write.ts's rules), in a batch or here. A larger file goes in a batch as a
   * clone-only job where the pair of file systems may reflink (the same time at any size), and
   * is copied here when the clone is refused.
   */
  write(w: FileWrite): Promise<CopyDataResult> {
    const m = w.meta;
    const here = () => writeFileCopy(this.out, w, this.onWarn, this.signal);
    if (w.inplace || !available || (m.xattrs !== undefined && m.xattrs.length > 0)) return here();
    const job = this.job(w.src, w.dst, m, w.dev, w.archive, w.plainMode, w.fresh === true);
    if (this.takes(m)) return this.copy(job);
    if (!fastPaths(m.dev, w.dev).reflink) return here();
    // (No data counted: a clone does not hold the batch as a copy of its bytes would.)
    return this.queue({ ...job, cloneOnly: true, data: 0 }).then((copied) => copied ?? here());
  }

  /**
   * The batch job for a file (`meta`'s fields) written from `src` to `dst`, a directory of device
   * `dev`; with `archive` its owner (as root), mode and times, else mode `plainMode`; `fresh`:
   * nothing was at `dst` when its directory was listed; `parent`: that directory is new and may
   * not be made yet (makeDir).
   */
  job(src: Buffer, dst: Buffer, meta: Pick<FileMeta, 'size' | 'blocks' | 'ino' | 'atimeNs' | 'mtimeNs' | 'dev' | 'uid' | 'gid' | 'mode'>,
    dev: bigint, archive: boolean, plainMode: number, fresh: boolean, parent?: { mode: number; levels: number }): FileCopyJob {
    const mode = archive ? meta.mode & 0o7777 : plainMode;
    return {
      src, dst, size: meta.size, data: dataBytes(meta.size, meta.blocks), ino: meta.ino, atimeNs: meta.atimeNs, mtimeNs: meta.mtimeNs, srcDev: meta.dev, dstDev: dev, fresh,
      archive, chown: archive && this.owner, uid: meta.uid, gid: meta.gid, mode, fallbackMode: archive ? unownedMode(mode, meta) : mode, parent,
    };
  }

  /**
   * Sets the owner (as root), mode and times of directory `path` in a batch, once its entries
   * are written; false when a batch cannot (xattrs to set, no addon): the caller sets them.
   */
  dirMeta(path: Buffer, meta: FileMeta): Promise<CopyDataResult> | false {
    if (!available || (meta.xattrs !== undefined && meta.xattrs.length > 0)) return false;
    return this.copy(this.dirMetaJob(path, meta));
  }

  /** The job setting directory `path`'s attributes (`parent`: it is new and may not be made yet, dir-group.ts). */
  dirMetaJob(path: Buffer, meta: Pick<FileMeta, 'atimeNs' | 'mtimeNs' | 'dev' | 'uid' | 'gid' | 'mode'>, parent?: { mode: number; levels: number }): FileCopyJob {
    // Directories keep setuid/setgid whoever owns them (lib/fs/apply-meta.ts): one mode.
    const mode = meta.mode & 0o7777;
    return {
      src: path, dst: path, size: 0, data: 0, ino: 0n, atimeNs: meta.atimeNs, mtimeNs: meta.mtimeNs, srcDev: meta.dev, dstDev: meta.dev,
      fresh: false, metaOnly: true, archive: true, chown: this.owner, uid: meta.uid, gid: meta.gid, mode, fallbackMode: mode, parent,
    };
  }

  /**
   * Makes the new directory `path` (permission bits `mode`) in a batch, off the main thread;
   * `parent`: the directory holding it is new too (copy-files-native.ts). Jobs for what goes
   * inside it follow it in the batches and carry `parent` themselves: one that runs first
   * (on the other pool thread) makes it. False without the addon: the caller makes it.
   */
  makeDir(path: Buffer, mode: number, parent?: { mode: number; levels: number }): Promise<CopyDataResult> | false {
    if (!available) return false;
    return this.copy(makeDirJob(path, mode, parent));
  }

  /** Copies `job` in a batch (`takes` said yes). */
  copy(job: FileCopyJob): Promise<CopyDataResult> {
    // (Only clone-only jobs, which write() alone queues, resolve with null.)
    return this.queue(job) as Promise<CopyDataResult>;
  }

  /** Queues one job; it resolves with null only when it is clone-only and the clone was refused. */
  private queue(job: FileCopyJob): Promise<CopyDataResult | null> {
    return new Promise((resolve, reject) => this.add(new JobItem(job, (o) => this.settle(job, o, resolve, reject), reject)));
  }

  /**
   * Queues `item` (its rows stay together, in order, in one batch); each of its rows' final
   * paths must lie inside the destination (the caller checks: a group checks its directory).
   */
  add(item: BatchItem): void {
    if (item instanceof JobItem) this.out.assertInside(item.job.dst);
    this.batch.push(item);
    this.rows += item.files;
    this.bytes += item.data;
    if (this.rows >= BATCH_FILES || this.bytes >= BATCH_BYTES) this.flush(true);
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what is queued; resolves once every batch is done. */
  async close(): Promise<void> {
    this.flush();
    while (this.idle.size > 0) await Promise.all(this.idle);
  }

  /** Starts what is ready; `all`: the batch being filled too, even with every slot busy. */
  private flush(all = false): void {
    this.scheduled = false;
    if (this.batch.length > 0 && (all || this.running + this.ready.length < this.parallel)) {
      this.ready.push(this.batch);
      this.batch = [];
      this.rows = 0;
      this.bytes = 0;
    }
    while (this.running < this.parallel && this.ready.length > 0) {
      const b = this.ready.shift()!;
      this.running++;
      const done = runBatch(b).catch((err: unknown) => { for (const it of b) it.fail(err); }).finally(() => {
        this.running--;
        this.idle.delete(done);
        this.flush();
      });
      this.idle.add(done);
    }
  }

  private settle(j: FileCopyJob, o: FileCopyOutcome, resolve: (r: CopyDataResult | null) => void, reject: (e: unknown) => void): void {
    if (o.error) return reject(o.error);
    if (!o.copied) return resolve(null);
    this.warnings(j, o.ownerError);
    resolve(o.copied);
  }

  /** As lib/fs/apply-meta.ts warns after job `j`: the owner not set (`ownerError`), then the setuid/setgid bits that drops. */
  warnings(j: FileCopyJob, ownerError?: Error): void {
    if (ownerError) warnOwnerLost(this.onWarn, displayPath(j.dst), j, ownerError);
    if (j.archive && j.fallbackMode !== j.mode && (!j.chown || ownerError)) warnSetidDropped(this.onWarn, displayPath(j.dst), j, j.fallbackMode);
  }
}
