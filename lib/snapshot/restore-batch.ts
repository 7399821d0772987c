/**
 * Small files and symlinks of a restore, sent to the restore workers in batches (the restore's
 * side of the snapshot's small-file batches, content-saver.ts). On a tree of small files the
 * cost of a restore is per entry, not per byte: a temporary made, written, truncated, closed
 * and renamed, then lchown, chmod and utimensat, each a system call of tens to hundreds of
 * microseconds on a loaded VM. On the main thread alone they ran one after the other (a full
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
import type { EntryMeta } from '../fs/materialize.js';
import type { WorkerPool } from '../util/worker-pool.js';
import type { RestoreChunk } from './restore-worker.js';
import type { TreeEntry } from './tree-entry.js';

/** One entry of a batch, as it crosses to the worker. */
export interface BatchEntry {
  path: Uint8Array;
  meta: EntryMeta & { segments?: Array<[number, number]> };
  /** Regular files: their chunks, located. */
  chunks: RestoreChunk[];
  /** Symlinks: their target. */
  linkTarget?: Uint8Array;
}

export interface EntriesJob { op: 'restore-entries'; root: Uint8Array; owner: boolean; entries: BatchEntry[] }

export interface EntriesResult {
  /** Entries not restored: index in the batch, message. */
  failed: Array<[number, string]>;
  warnings: Array<[string, string, Record<string, unknown>]>;
}

const MAX_ENTRIES = 64;
const MAX_BYTES = 1 << 20;
const MAX_IN_FLIGHT_PER_WORKER = 4;

const copy = (b: Buffer): Buffer => new Uint8Array(b) as Buffer;

interface Waiting { resolve: () => void; reject: (err: Error) => void }

export class EntryBatcher {
  private entries: BatchEntry[] = [];
  private waiting: Waiting[] = [];
  private bytes = 0;
  private inFlight = 0;
  private readonly sent = new Set<Promise<void>>();
  private readonly room: Array<() => void> = [];

  constructor(private readonly pool: WorkerPool, private readonly root: Buffer, private readonly owner: boolean, private readonly onWarn: Warn) {}

  /** Whether `e` is restored in batches: a regular file that is no hard-link member, or a symlink. */
  static takes(e: TreeEntry): boolean {
    return (e.type === 'file' && e.nlink <= 1) || e.type === 'symlink';
  }

  /**
   * Adds entry `e` (at `path`, its chunks located as `chunks`) to the batch; the returned
   * promise (`done`) settles once the worker has restored it. Resolves itself once the entry is
   * queued (when there is room).
   */
  async add(e: TreeEntry, path: Buffer, chunks: RestoreChunk[], dataBytes: number): Promise<{ done: Promise<void> }> {
    while (this.inFlight >= MAX_IN_FLIGHT_PER_WORKER * this.pool.size) await new Promise<void>((r) => this.room.push(r));
    // Byte arrays copied to their own size: a Buffer may be a view of an 8 KiB pool, which
    // structured clone would copy whole.
    const meta: BatchEntry['meta'] = {
      name: copy(e.name), type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, size: e.size, atimeNs: e.atimeNs, mtimeNs: e.mtimeNs,
      ctimeNs: e.ctimeNs, dev: e.dev, ino: e.ino, nlink: e.nlink, rdev: e.rdev, segments: e.segments,
      xattrs: e.xattrs?.map(([k, v]) => [k, copy(v)]),
    };
    this.entries.push({ path: copy(path), meta, chunks, linkTarget: e.linkTarget && copy(e.linkTarget) });
    this.bytes += dataBytes;
    const done = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (this.entries.length >= MAX_ENTRIES || this.bytes >= MAX_BYTES || this.inFlight < this.pool.size) this.flush();
    return { done };
  }

  /** Sends the batch being filled, if it holds anything. */
  flush(): void {
    if (this.entries.length === 0) return;
    const job: EntriesJob = { op: 'restore-entries', root: this.root, owner: this.owner, entries: this.entries };
    const waiting = this.waiting;
    this.entries = [];
    this.waiting = [];
    this.bytes = 0;
    this.inFlight++;
    const sent: Promise<void> = this.pool.run<EntriesResult>(job).then((r) => {
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
      this.room.shift()?.();
    });
    this.sent.add(sent);
  }

  /** Sends what is left and waits until every batch sent is done. */
  async drain(): Promise<void> {
    this.flush();
    while (this.sent.size > 0) await Promise.all(this.sent);
  }
}
