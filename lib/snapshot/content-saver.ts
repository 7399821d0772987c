/**
 * The file side of a snapshot: stores each file's content through the chunk workers and
 * returns its chunk list, or reuses the parent snapshot's list for an unchanged file.
 *
 * - Files run concurrently, bounded by a number of slots: a caller waits for a slot (this is
 *   what holds the archiver's walk back), never for the content itself.
 * - Small files go to the workers in batches (one message each way for up to BATCH_FILES files).
 *   A batch is sent when it is full, or when the main thread waits (setImmediate: the walk
 *   yielded, or waits for a slot or a tree) while the workers have fewer than two jobs each in
 *   flight; when a job ends the open batch goes if they are then short of work. So busy workers
 *   get many files a message, an idle one waits at most for the walk's next turn (YIELD_MS in
 *   archiver.ts), and a file in a batch never waits on a walk that waits on it. Sending at once
 *   whenever the workers were short of work sent part-filled batches while the walk was still
 *   listing the directory: 100,000 small files in directories of 100 went in 1,916 batches,
 *   now 1,579 (64 files at most).
 * - Hard links to one inode are read once; the other names share the first one's content.
 * - The workers write data packs themselves (chunk-worker.ts); a pack one seals is indexed
 *   here before that worker forgets its chunk ids, so from then on the index answers for them.
 */
import { AbortedError, errorFromJSON, throwIfAborted } from '../errors/index.js';
import type { CodecSpec } from '../codec/codec.js';
import { isLikelySparse, joinSegments, segmentsBytes } from '../fs/index.js';
import type { FileMeta } from '../fs/file-meta.js';
import type { Warn } from '../errors/index.js';
import { ClaimTable, workerTransfer, type ChunkList, type FileJob, type FilePart, type FileResult, type FilesJob, type FilesResult, type SealedPack, type Store } from '../store/index.js';
import { Semaphore } from '../util/semaphore.js';
import { CHUNK_WORKER_LIMITS, defaultPoolSize, WorkerPool, workerReport } from '../util/worker-pool.js';
import type { ChunkRef, TreeEntry } from './tree-entry.js';

/**
 * Files larger than this are chunked in sections of this size by the workers side by side, so
 * one large file (a VM image, sparse or not) uses every core; the cutter restarts at each
 * section (formats/store.md, §5). A section edge costs a chunk or two of dedup when data before it
 * shifts; 128 MiB keeps that under 0.2 % and leaves every file of the bench sets whole.
 */
const SECTION_BYTES = 128 << 20;

/**
 * Files up to this size (and not sparse) are read in batches. A batch holds at most BATCH_FILES
 * files and, past BATCH_BYTES, takes no more: the bytes a worker reads, compresses and packs
 * before it reports (and settles its pack writes) stay around a MiB.
 */
const BATCH_FILE_MAX = 256 << 10;
const BATCH_FILES = 64;
const BATCH_BYTES = 1 << 20;
/** Jobs in flight per worker below which the open batch is sent without waiting to fill. */
const JOBS_PER_WORKER = 2;
/**
 * Batches per worker that the file slots allow once a batch was read cold (files not in the page
 * cache): a worker starts reading the files of the batches queued behind the one it is on
 * (chunk-worker.ts prefetchJob), so the more are queued, the more reads are in flight. Two
 * (the warm figure) left the workers 0.4-0.5 s each of waiting on the disk in a cold first
 * snapshot of the real set; four, 0.15-0.2 s (one set of runs, load 9-11). Each slot holds a
 * path until its file is read.
 */
const COLD_JOBS_PER_WORKER = 4;

interface FileRead { chunks: ChunkRef[]; result: FileResult }

interface Batched { path: Buffer; rel: string; size: number; resolve: (c: Content | null) => void; reject: (err: unknown) => void }

/** What a file's tree entry records of its content. */
export interface Content { chunks: ChunkRef[]; segments?: Array<[number, number]>; size: number }

/** A started file: its content once stored (null: it could not be read). */
export interface Started { content: Promise<Content | null> }

/** A file's chunk list when something else stored its current content (ArchiveOptions.knownContent); undefined: read it. */
export type KnownContent = (meta: FileMeta) => ChunkRef[] | undefined;

export interface ContentOptions {
  codec: CodecSpec;
  forceRehash?: boolean;
  signal?: AbortSignal;
  onWarn: Warn;
  /** A file that could not be read: reported by the caller, left out of the snapshot. */
  onProblem: (rel: string, err: unknown) => void;
  progress?: { readBytes: number };
  /** Chunk workers (default: one per core). */
  workers?: number;
  knownContent?: KnownContent;
  /**
   * Memory before speed (foxingd): one chunk worker until GROW_AFTER_BYTES of files were sent
   * to be read, then the others. Each worker costs 30-40 MiB of RSS (its heap, buffers, packs
   * and its thread's malloc arena); a tree of small files is bound by the walk in the main
   * thread, which one worker keeps up with (a first snapshot of 100,000 files of a few bytes:
   * main thread 3.9 s CPU, two workers 3.2 s between them).
   */
  lowMemory?: boolean;
}

/** With lowMemory: file bytes sent to the one worker before the others start. */
const GROW_AFTER_BYTES = 32 << 20;

export class ContentSaver {
  /** Started on the first file that must be read: a snapshot with nothing new never pays for it. */
  private poolInstance: WorkerPool | null = null;
  private readonly slots: Semaphore;
  private readonly links = new Map<string, Promise<Content | null>>();
  /** The open batch of small files, and its bytes at stat time. */
  private batch: Batched[] = [];
  private batchBytes = 0;
  /** A send of the open batch is scheduled for the main thread's next wait. */
  private sendScheduled = false;
  /** Aborted or closed: a send scheduled before then does nothing. */
  private ended = false;
  /** Worker jobs (files, sections, batches) sent and not done. */
  private jobs = 0;
  /** What was read, reused and added to data packs (tree chunks are counted by the tree writer). */
  readonly stats = { reusedFiles: 0, readBytes: 0, newChunks: 0, newRawBytes: 0, newStoredBytes: 0, lostFiles: 0 };
  /**
   * Set when the parent snapshot is from an earlier loss epoch (lib/index/loss-epoch.ts): an
   * unchanged file's chunk list is reused only if every chunk is still in the store; otherwise
   * the file is read again and what was lost is stored again.
   */
  checkReused = false;

  constructor(private readonly store: Store, private readonly opts: ContentOptions) {
    // Files in flight: queued ones hold only their path, a running one at most two 2 MiB blocks.
    // Enough for every worker's jobs in flight to be full batches, and the open batch.
    this.slots = new Semaphore((defaultPoolSize(opts.workers) * JOBS_PER_WORKER + 1) * BATCH_FILES);
  }

  /** The slots grew for a tree read cold (COLD_JOBS_PER_WORKER). */
  private readAhead = false;

  private claimTable: ClaimTable | null = null;

  /** The snapshot's claim table (made at first use: whether the store held no chunk is decided then). */
  get claims(): ClaimTable {
    if (this.claimTable) return this.claimTable;
    const held = this.store.index.totals();
    return (this.claimTable = ClaimTable.create(undefined, held.chunks === 0 && held.packs === 0));
  }

  private get pool(): WorkerPool {
    // One claim table per snapshot (claim-table.ts): its workers store a new chunk once between
    // them, and into a store that holds no chunk yet, without asking the index about each.
    if (this.poolInstance) return this.poolInstance;
    const claims = this.claims.memory;
    // A store reference per worker: a storage port cannot be shared (port-storage.ts).
    this.poolInstance = new WorkerPool('store/chunk-worker.js', () => {
      const store = this.store.workerRef();
      return { data: { params: this.store.config.chunker, store, claims }, transfer: workerTransfer(store) };
    }, defaultPoolSize(this.opts.workers), undefined, CHUNK_WORKER_LIMITS, this.opts.lowMemory ? 1 : undefined);
    return this.poolInstance;
  }

  /**
   * Starts the chunk workers now rather than at the first file to read: for a snapshot that
   * will read every file (no parent, or --force-rehash). Not with lowMemory (foxingd grows its
   * pool only when the files call for it).
   */
  startWorkers(): void {
    if (!this.opts.lowMemory) void this.pool;
  }

  /** File bytes sent to the workers so far (lowMemory: when the others start). */
  private sentBytes = 0;

  /** Counts `bytes` sent to the workers; with lowMemory, starts the other workers past GROW_AFTER_BYTES. */
  private sending(bytes: number): void {
    this.sentBytes += bytes;
    if (this.opts.lowMemory && this.sentBytes >= GROW_AFTER_BYTES) while (this.pool.grow());
  }

  /**
   * Starts storing a file's content. Waits until a file slot is free, then returns the promise
   * of the content without waiting for it (null: the file could not be read). When a slot is
   * free at once (or none is needed) it returns at once, not a promise: per file, on a walk of
   * small files, the promises and their async hooks were a visible part of the main thread.
   */
  start(path: Buffer, rel: string, meta: FileMeta, parent: TreeEntry | undefined): Started | Promise<Started> {
    if (this.unchanged(meta, parent)) {
      if (!this.checkReused || this.allStored(parent.chunks)) {
        this.stats.reusedFiles++;
        return { content: Promise.resolve({ chunks: parent.chunks ?? [], segments: parent.segments, size: parent.size }) };
      }
      this.stats.lostFiles++;
    }
    if (meta.size === 0) return { content: Promise.resolve({ chunks: [], size: 0 }) };
    const stored = this.storedElsewhere(meta);
    if (stored) return { content: Promise.resolve({ chunks: stored, size: meta.size }) };
    const key = meta.nlink > 1 ? `${meta.dev}:${meta.ino}` : null;
    const known = key ? this.links.get(key) : undefined;
    if (known) return { content: known };
    if (this.slots.tryAcquire()) return this.startHeld(path, rel, meta, key);
    return this.slots.acquire().then(() => this.startHeld(path, rel, meta, key));
  }

  /** start, once the file holds a slot. */
  private startHeld(path: Buffer, rel: string, meta: FileMeta, key: string | null): Started {
    const content = meta.size <= BATCH_FILE_MAX && !isLikelySparse(meta) ? this.queue(path, rel, meta.size) : this.read(path, rel, meta);
    if (key) this.links.set(key, content);
    return { content };
  }

  /** Seals every worker's open data pack and indexes it (the end of a snapshot). */
  async sealPacks(): Promise<void> {
    if (!this.poolInstance) return;
    const sealed = await this.poolInstance.runOnEach<SealedPack[]>({ op: 'seal' });
    for (const packs of sealed) {
      for (const sealed of packs) await this.store.indexSealed(sealed);
    }
  }

  /** Drops the workers' unsealed packs (nothing refers to them); sealed ones stay indexed. */
  async abort(): Promise<void> {
    // The open batch is not sent: its files end with the snapshot (a worker refuses jobs after
    // an abort, chunk-worker.ts).
    this.ended = true;
    this.rejectBatch(new AbortedError());
    await this.poolInstance?.runOnEach({ op: 'abort' }).catch(() => {});
  }

  async close(): Promise<void> {
    this.ended = true;
    await this.poolInstance?.close();
  }

  private unchanged(meta: FileMeta, parent: TreeEntry | undefined): parent is TreeEntry {
    return !!parent && parent.type === 'file' && !this.opts.forceRehash && parent.size === meta.size &&
      parent.mtimeNs === meta.mtimeNs && parent.ctimeNs === meta.ctimeNs && parent.ino === meta.ino;
  }

  /**
   * A chunk list stored by someone else for this file as it is now, when it is the one a read
   * would give: a whole-file cut (no sections, no holes recorded) whose chunks the store still
   * holds (a gc may have run since; it cannot run during this snapshot's lock).
   */
  private storedElsewhere(meta: FileMeta): ChunkRef[] | undefined {
    if (!this.opts.knownContent || this.opts.forceRehash || meta.size > SECTION_BYTES || isLikelySparse(meta)) return undefined;
    const chunks = this.opts.knownContent(meta);
    if (!chunks || !this.allStored(chunks)) return undefined;
    this.stats.reusedFiles++;
    return chunks;
  }

  private allStored(chunks: readonly ChunkRef[] | undefined): boolean {
    return (chunks ?? []).every((c) => this.store.index.hasChunk(c.id));
  }

  /**
   * Reads, chunks and stores one file through the workers; the caller holds a slot, released
   * here. A file larger than SECTION_BYTES is read in sections side by side, their chunk lists
   * and data ranges joined in order; if any section saw the file change, the file is read
   * again as one job, so what is recorded is one consistent read.
   */
  private async read(path: Buffer, rel: string, meta: FileMeta): Promise<Content | null> {
    try {
      throwIfAborted(this.opts.signal);
      // A Buffer is often a view of an 8 KiB pool slab, which postMessage would clone whole: send an exact copy.
      const job: FileJob = { op: 'file', path: new Uint8Array(path), size: meta.size, sparse: isLikelySparse(meta), codec: this.opts.codec };
      if (meta.size > SECTION_BYTES) {
        const sections: FileJob[] = [];
        for (let from = 0; from < meta.size; from += SECTION_BYTES) sections.push({ ...job, section: { from, to: Math.min(meta.size, from + SECTION_BYTES) } });
        const reads = await Promise.all(sections.map((s) => this.readJob(s)));
        if (!reads.some((r) => r.result.changed)) {
          const bytes = reads.reduce((n, r) => n + r.result.bytes, 0);
          this.countRead(bytes, meta.size);
          const extents = joinSegments(reads.flatMap((r) => r.result.segments ?? []));
          const whole = extents.length === 1 && extents[0][0] === 0 && extents[0][1] === meta.size;
          return { chunks: reads.flatMap((r) => r.chunks), segments: whole ? undefined : extents, size: meta.size };
        }
      }
      const { chunks, result } = await this.readJob(job);
      this.countRead(result.segments ? segmentsBytes(result.segments) : result.bytes, result.bytes);
      if (result.changed) this.opts.onWarn('FILE_CHANGED', `${rel}: changed while being read; recorded as read`, { path: rel });
      return { chunks, segments: result.segments ?? undefined, size: result.bytes };
    } catch (err) {
      const report = workerReport(err);
      if (!report) throw err;
      // The store cannot be written (NO_SPACE...): that stops the snapshot, once; it is not a
      // problem of this file.
      if (report.fatal) throw err;
      this.opts.onProblem(rel, err);
      return null;
    } finally {
      this.slots.release();
    }
  }

  /** Adds a small file to the open batch; the caller holds a slot, released when it is done. */
  private queue(path: Buffer, rel: string, size: number): Promise<Content | null> {
    try {
      throwIfAborted(this.opts.signal);
    } catch (err) {
      this.slots.release();
      return Promise.reject(err);
    }
    // The workers start on the first file to read, not at the first send (the walk goes on meanwhile).
    void this.pool;
    return new Promise((resolve, reject) => {
      this.batch.push({ path, rel, size, resolve, reject });
      this.batchBytes += size;
      if (this.batch.length >= BATCH_FILES || this.batchBytes >= BATCH_BYTES) this.sendBatch();
      else if (!this.sendScheduled) {
        this.sendScheduled = true;
        setImmediate(() => {
          this.sendScheduled = false;
          if (this.batch.length > 0 && !this.ended && this.shortOfWork()) this.sendBatch();
        });
      }
    });
  }

  private shortOfWork(): boolean {
    return this.jobs < this.pool.size * JOBS_PER_WORKER;
  }

  private jobDone(): void {
    this.jobs--;
    if (this.batch.length > 0 && this.shortOfWork()) this.sendBatch();
  }

  private rejectBatch(err: unknown): void {
    const files = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    for (const f of files) { f.reject(err); this.slots.release(); }
  }

  private sendBatch(): void {
    const files = this.batch;
    this.sending(this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    const pathEnds: number[] = [];
    let end = 0;
    for (const f of files) pathEnds.push(end += f.path.length);
    const paths = new Uint8Array(end);
    for (let i = 0; i < files.length; i++) paths.set(files[i].path, pathEnds[i] - files[i].path.length);
    const job: FilesJob = { op: 'files', codec: this.opts.codec, paths, pathEnds, sizes: files.map((f) => f.size) };
    this.jobs++;
    this.pool.run<FilesResult>(job, [paths.buffer], (part: FilePart) => {
      if (part.kind === 'sealed') return this.store.indexSealed(part.pack);
    }).then((r) => this.batchDone(files, r), (err) => {
      // Only the worker (the store) or the pool fails a whole batch: that stops the snapshot.
      for (const f of files) f.reject(err);
    }).finally(() => {
      for (let i = 0; i < files.length; i++) this.slots.release();
      this.jobDone();
    });
  }

  private batchDone(files: Batched[], r: FilesResult): void {
    if (r.coldFiles > 0 && !this.readAhead) {
      this.readAhead = true;
      this.slots.grow(this.pool.size * (COLD_JOBS_PER_WORKER - JOBS_PER_WORKER) * BATCH_FILES);
    }
    this.stats.newChunks += r.newChunks;
    this.stats.newRawBytes += r.newRawBytes;
    this.stats.newStoredBytes += r.newStoredBytes;
    const ids = Buffer.from(r.ids.buffer, r.ids.byteOffset, r.ids.byteLength);
    let c = 0;
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      const read = r.files[i];
      if ('error' in read) { this.opts.onProblem(f.rel, errorFromJSON(read.error)); f.resolve(null); continue; }
      const chunks: ChunkRef[] = [];
      for (let k = 0; k < r.counts[i]; k++, c++) chunks.push({ id: ids.subarray(c * 32, c * 32 + 32), length: r.lengths[c] });
      this.countRead(read.bytes, read.bytes);
      if (read.changed) this.opts.onWarn('FILE_CHANGED', `${f.rel}: changed while being read; recorded as read`, { path: f.rel });
      f.resolve({ chunks, size: read.bytes });
    }
  }

  private countRead(dataBytes: number, bytes: number): void {
    this.stats.readBytes += dataBytes;
    if (this.opts.progress) this.opts.progress.readBytes += bytes;
  }

  /** One worker job: a file or a section of one. Its store stats are counted here. */
  private async readJob(job: FileJob): Promise<FileRead> {
    const chunks: ChunkRef[] = [];
    const append = (list: ChunkList) => {
      // Views, not copies: each part's ids arrive in a buffer of their own (transferred), so
      // the ids need no allocation of their own (37,000 of them for the 2 GiB bench set).
      const ids = Buffer.from(list.ids.buffer, list.ids.byteOffset, list.ids.byteLength);
      for (let i = 0; i < list.lengths.length; i++) chunks.push({ id: ids.subarray(i * 32, i * 32 + 32), length: list.lengths[i] });
    };
    this.jobs++;
    this.sending(job.section ? job.section.to - job.section.from : job.size);
    const result = await this.pool.run<FileResult>(job, [], async (part: FilePart) => {
      if (part.kind === 'sealed') return this.store.indexSealed(part.pack);
      append(part);
    }).finally(() => this.jobDone());
    append(result.tail);
    this.stats.newChunks += result.newChunks;
    this.stats.newRawBytes += result.newRawBytes;
    this.stats.newStoredBytes += result.newStoredBytes;
    return { chunks, result };
  }
}
