/**
 * Small files and symlinks of a restore, sent to the restore workers in batches (the restore's
 * side of the snapshot's small-file batches, content-saver.ts). On a tree of small files the
 * cost of a restore is per entry, not per byte: a file made, written, closed (and renamed,
 * outside a new directory), its owner, mode and times set, each a system call of tens to
 * hundreds of microseconds on a loaded VM. On the main thread alone they ran one after the other (a full
 * restore of the real set: 12 s of main-thread time, 8 s of it in those calls); in batches they
 * run on every worker at once, and the main thread only walks the trees and locates chunks.
 *
 * A batch holds at most MAX_ENTRIES entries or MAX_BYTES of data. It is sent when full, or at
 * once while the workers have fewer than one batch each (so none waits for a batch to fill);
 * `flush` sends a partial one, and must be called before anything waits for the entries added.
 * At most MAX_IN_FLIGHT_PER_WORKER batches per worker are sent and not done: `add` waits for
 * room, which bounds memory whatever the tree.
 *
 * Each entry settles on its own: an entry the worker could not restore rejects with an Error
 * carrying the worker's message, the others of its batch resolve. Warnings (an owner or an
 * xattr that could not be restored) reach `onWarn` here, in the order the worker met them.
 * Limits: hard-link groups (nlink > 1) are not batched (their members wait for each other on
 * the main thread's Materializer), nor is anything but regular files and symlinks.
 */
import type { Warn } from '../errors/index.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { BatchWriter } from './restore-batch-codec.js';
import type { RecordBuffers } from './record-buffers.js';
import type { RestoreChunk } from './restore-worker.js';
import type { TreeEntry } from './tree-entry.js';

/** A batch as it crosses to the worker: its entries' bytes (restore-batch-codec.ts, transferred) and pack paths. */
export interface EntriesJob {
  op: 'restore-entries'; root: Uint8Array; owner: boolean; bytes: ArrayBuffer; packs: string[];
  /** Records fetched by the main thread: views of recordBuffer (record-buffers.ts). */
  records: Uint8Array[];
  recordBuffer?: ArrayBuffer;
}

export interface EntriesResult {
  /** Entries not restored: index in the batch, message. */
  failed: Array<[number, string]>;
  warnings: Array<[string, string, Record<string, unknown>]>;
  /** The job's recordBuffer, back. */
  recordBuffer?: ArrayBuffer;
}

const MAX_ENTRIES = 64;
const MAX_BYTES = 1 << 20;
const MAX_IN_FLIGHT_PER_WORKER = 4;

interface Waiting { resolve: () => void; reject: (err: Error) => void }

export class EntryBatcher {
  private readonly batch = new BatchWriter();
  private waiting: Waiting[] = [];
  private bytes = 0;
  private inFlight = 0;
  private readonly sent = new Set<Promise<void>>();
  private readonly roomWaiters: Array<() => void> = [];

  /** The target's path, copied to its own size: a Buffer may be a view of an 8 KiB pool, which every job would clone whole. */
  private readonly root: Uint8Array;

  constructor(private readonly pool: WorkerPool, root: Buffer, private readonly owner: boolean, private readonly onWarn: Warn,
    private readonly recordBuffers: RecordBuffers) {
    this.root = new Uint8Array(root);
  }

  /** Whether `e` is restored in batches: a regular file that is no hard-link member, or a symlink. */
  static takes(e: TreeEntry): boolean {
    return (e.type === 'file' && e.nlink <= 1) || e.type === 'symlink';
  }

  /** Whether add may be called now: fewer batches in flight than the bound. */
  get hasRoom(): boolean {
    return this.inFlight < MAX_IN_FLIGHT_PER_WORKER * this.pool.size;
  }

  /** Resolves once hasRoom. */
  async room(): Promise<void> {
    while (!this.hasRoom) await new Promise<void>((r) => this.roomWaiters.push(r));
  }

  /**
   * Adds entry `e` (at `path`, its chunks located as `chunks`; `fresh`: see BatchEntry) to the
   * batch; the promise settles once the worker has restored it. Only while hasRoom (await
   * room() first): that bounds the batches in flight, and so memory, whatever the tree.
   */
  add(e: TreeEntry, path: Buffer, chunks: RestoreChunk[], dataBytes: number, fresh: boolean): Promise<void> {
    if (!this.hasRoom) throw new Error('EntryBatcher.add without room');
    this.batch.add(path, e, chunks, fresh);
    this.bytes += dataBytes;
    const done = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (this.waiting.length >= MAX_ENTRIES || this.bytes >= MAX_BYTES || this.inFlight < this.pool.size) this.flush();
    return done;
  }

  /** Sends the batch being filled, if it holds anything. */
  flush(): void {
    if (this.waiting.length === 0) return;
    const { bytes, packs, records: fetched } = this.batch.finish();
    const own = fetched.length > 0 ? this.recordBuffers.copy(fetched) : null;
    const job: EntriesJob = { op: 'restore-entries', root: this.root, owner: this.owner, bytes, packs, records: own?.views ?? [], recordBuffer: own?.buffer };
    const waiting = this.waiting;
    this.waiting = [];
    this.bytes = 0;
    this.inFlight++;
    const sent: Promise<void> = this.pool.run<EntriesResult>(job, own ? [bytes, own.buffer] : [bytes]).then((r) => {
      this.recordBuffers.giveBack(r.recordBuffer);
      for (const [code, message, data] of r.warnings) this.onWarn(code, message, data);
      const failed = new Map(r.failed);
      waiting.forEach((w, i) => {
        const message = failed.get(i);
        if (message === undefined) w.resolve();
        else w.reject(new Error(message));
      });
    }, (err: Error) => { for (const w of waiting) w.reject(err); }).finally(() => {
      this.inFlight--;
      this.sent.delete(sent);
      this.roomWaiters.shift()?.();
    });
    this.sent.add(sent);
  }

  /** Sends what is left and waits until every batch sent is done. */
  async drain(): Promise<void> {
    this.flush();
    while (this.sent.size > 0) await Promise.all(this.sent);
  }
}
