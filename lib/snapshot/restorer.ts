/**
 * The restorer: recreates a snapshot (or the entries a selector picks) under a target
 * directory, byte for byte and with metadata.
 *
 * Safety: names come from verified trees (no '/', '.', '..'); the writing is lib/fs/materialize.ts
 * (temporary plus rename, so no torn file ever carries a real name; an existing symlink where the
 * snapshot has a directory is replaced, never followed; no path outside the target). Every chunk
 * is verified against its id before a byte of it is written.
 * A directory not yet in the target is made under a temporary name (DirFrame.temp) and renamed
 * into place once complete; below it everything is written at final names (DirFrame.fresh):
 * on the real set (29,655 files, nearly all in new directories) that removed a rename and a
 * temporary name per file, and with it the chown of root's files restored by root (strace -c:
 * rename 29,655 -> 3, lchown 33,975 -> 3). Entry paths inside are the temporary's (`at`), and
 * error messages show them so.
 *
 * Order: contents first, then metadata; a directory's metadata (times!) after its children.
 * Files with holes are written extent by extent and truncated to size, so holes stay holes.
 *
 * I/O: directories are made with synchronous calls on this thread. Files under WORKER_MIN_BYTES
 * and symlinks go to the workers in batches (restore-batch.ts), larger files to the workers in
 * parts, unless the whole restore is small (SMALL_RESTORE_BYTES): starting the pool costs more
 * than it saves there, and every entry is then made here with synchronous calls (each a few
 * system calls, where a thread-pool round trip costs more than the call: restoring one small
 * file took about 5 ms of them). Hard-link groups are made here (their members wait for each
 * other), their data by workers when large.
 * From a store whose packs a worker cannot open (a bucket) this thread fetches the records (one
 * reader, in the walk's order, served by read-ahead windows) and hands them to the workers, a
 * part's or a batch's copied into one buffer that goes there and back (record-buffers.ts): the
 * workers check, decompress, verify and write them as they do records they read themselves. On
 * a full restore from a bucket this thread had been the bottleneck, busy ~95 % of the time with
 * all of it.
 */
import { mkdirSync, promises as fsp, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { CHUNK_WORKER_LIMITS, defaultPoolSize, WorkerPool } from '../util/worker-pool.js';
import { ExtentCursor } from './extent-cursor.js';
import type { RestoreChunk, RestorePartJob } from './restore-worker.js';
import { RecordBuffers } from './record-buffers.js';
import { runningAsRoot, toBuffer } from '../fs/index.js';
import { type ContentSource, Materializer } from '../fs/materialize.js';
import { removeStaleTemps, tempDirDone } from '../fs/temp-name.js';
import type { ChunkSource } from './chunk-source.js';
import type { Warn } from '../errors/index.js';
import { Semaphore } from '../util/semaphore.js';
import { compileSelector, type PathSelector } from './path-selector.js';
import type { SnapshotRecord } from './snapshot-record.js';
import { type ChunkRef, entriesNamed, type TreeEntry } from './tree-entry.js';
import { loadTree } from './tree-store.js';
import { END, LEAVE, TREE, TreeCursor } from './tree-walk.js';
import type { RestorePlan } from './restore-plan.js';
import { EntryBatcher } from './restore-batch.js';

export interface RestoreOptions {
  target: string;
  files?: string[];
  onWarn: Warn;
  signal?: AbortSignal;
  /** Live counters: regular files restored and their sizes, as the snapshot's stats (or a plan's fileBytes) count them. */
  progress?: { files: number; bytes: number };
  /** The plan that sized this restore (restore-plan.ts): its trees are not loaded again. */
  plan?: RestorePlan;
  /** Restore workers (default: one per core). */
  workers?: number;
  /** A restore writing at most this many bytes runs on this thread alone (default SMALL_RESTORE_BYTES). */
  poolFromBytes?: number;
}

export interface RestoreProblem { path: string; message: string }

export interface RestoreResult { files: number; dirs: number; links: number; others: number; bytes: number; problems: RestoreProblem[] }

/** Files with at least this much data are restored by a worker (decompress and verify off the main thread). */
const WORKER_MIN_BYTES = 256 * 1024;
/**
 * A restore writing at most this many bytes (all of it, or what the plan selected) runs on this
 * thread alone; RestoreOptions.poolFromBytes (the CLI's FOXING_RESTORE_POOL_BYTES) overrides it.
 * The pool's start-up (each worker loads its modules) costs more than it saves below about
 * 50 MiB on 2 cores (docs/BENCHMARKS.md); more cores favour the pool.
 */
const SMALL_RESTORE_BYTES = 32 << 20;
/**
 * A file restored by workers is cut into parts of about this much data, restored side by side
 * (so one large file uses every core); a smaller file is one part: the writes to one file
 * serialise on its inode lock, the decompression and verification do not (docs/BENCHMARKS.md).
 */
const PART_BYTES = 32 << 20;
/**
 * Records fetched on this thread (ChunkSource.fetchedPlace) go with their part: parts of this
 * much data, at most FETCHED_PARTS of them fetched and not yet written, so the windows they hold
 * stay bounded whatever the files' sizes (small files' batches are bounded by restore-batch.ts).
 */
const FETCHED_PART_BYTES = 4 << 20;
const FETCHED_PARTS = 4;

/**
 * Entries restored at once (files, links, specials): several per worker, so none idles while
 * the main thread starts the next, and the main thread's own small files run beside them.
 */
const restoresAtOnce = (workers?: number) => Math.max(8, 4 * defaultPoolSize(workers));

const SLASH = Buffer.from('/');

/** A batched entry's chunks, located, and its data bytes. */
interface Located { chunks: RestoreChunk[]; dataBytes: number }

/** A directory being walked: the restores started inside it, settled before its metadata. */
interface DirFrame {
  e: TreeEntry;
  /** Its final path. */
  path: Buffer;
  /** Where it is while restored: `path`, or under its temporary ancestor's (or its own) temporary name. */
  at: Buffer;
  /** Made by this restore under a temporary name, or inside such a directory: its entries are made at their names. */
  fresh: boolean;
  /** Its parent is fresh (so what it holds was made as this user, without setgid: Materializer FileHow). */
  inFresh: boolean;
  /** `at` is its own temporary name, renamed to `path` once it is complete. */
  temp: boolean;
  rel: string;
  /** Selected whole (everything below is restored). */
  all: boolean;
  /** Made by this restore (so taken away again when nothing in it was selected). */
  created: boolean;
  pending: Array<Promise<void>>;
}

export async function restore(store: ChunkSource, record: SnapshotRecord, opts: RestoreOptions): Promise<RestoreResult> {
  return new Restorer(store, opts).run(record);
}

class Restorer {
  private readonly selector: PathSelector;
  private readonly slots: Semaphore;
  private readonly result: RestoreResult = { files: 0, dirs: 0, links: 0, others: 0, bytes: 0, problems: [] };
  private readonly target: Buffer;
  /** Where the relative path (for the selector and messages) starts in an entry's path. */
  private readonly relStart: number;
  private readonly out: Materializer;
  /** The directories of the walk's current path, the target first. */
  private readonly dirs: DirFrame[] = [];
  /** Started on the first large file (a small restore never pays for it). */
  private pool: WorkerPool | null = null;
  /** Whether files go to the pool: the restore is not small, and workers can read the store or are handed its records. */
  private workers = false;
  /** Records are fetched here and handed to the workers (a bucket), not read by them. */
  private readonly fetched: boolean;
  /** Parts whose records this thread fetched and the workers have not yet written. */
  private readonly fetchedParts = new Semaphore(FETCHED_PARTS);
  /** The buffers fetched records go to the workers in (record-buffers.ts). */
  private readonly recordBuffers = new RecordBuffers();
  /** Small files and symlinks for the pool, when it is used. */
  private batcher: EntryBatcher | null = null;
  private readonly owner = runningAsRoot();
  private readonly here: ContentSource<TreeEntry> = { fill: (fd, _tmp, e) => this.fillHere(fd, e) };
  private readonly inWorkers: ContentSource<TreeEntry> = { fill: (_fd, tmp, e) => this.fillInWorkers(tmp, e) };

  constructor(private readonly store: ChunkSource, private readonly opts: RestoreOptions) {
    this.selector = compileSelector(opts.files ?? []);
    this.slots = new Semaphore(restoresAtOnce(opts.workers));
    this.target = toBuffer(resolve(opts.target));
    this.relStart = this.target[this.target.length - 1] === 0x2f ? this.target.length : this.target.length + 1;
    this.out = new Materializer({ root: this.target, owner: this.owner, onWarn: opts.onWarn });
    this.fetched = !store.local && store.fetchesRecords === true;
  }

  private loadTree(id: Uint8Array): Promise<TreeEntry[]> {
    return this.opts.plan ? this.opts.plan.trees.take(this.store, id) : loadTree(this.store, id);
  }

  private problem(rel: string, err: unknown): void {
    const message = `${rel}: ${(err as Error).message}`;
    this.result.problems.push({ path: rel, message });
    this.opts.onWarn('RESTORE_ERROR', message, { path: rel });
  }

  async run(record: SnapshotRecord): Promise<RestoreResult> {
    const bytes = this.opts.plan?.bytes ?? ((this.opts.files ?? []).length === 0 ? record.stats.bytes : Infinity);
    this.workers = (this.store.local || this.fetched) && bytes > (this.opts.poolFromBytes ?? SMALL_RESTORE_BYTES);
    if (this.workers) this.batcher = new EntryBatcher(this.workerPool(), this.target, this.owner, this.opts.onWarn, this.recordBuffers);
    try {
      return await this.restoreAll(record);
    } finally {
      await this.pool?.close();
    }
  }

  /**
   * Walks the selected part of the snapshot into the target (tree-walk.ts), starting each entry's
   * restore as it goes (at most restoresAtOnce() at a time, wherever they are in the tree): the
   * walk waits for a free slot, never for a directory to finish, so files of different
   * directories (one each, in many trees) are restored side by side. A directory's metadata is
   * applied once everything restored inside it is in place.
   * Memory: the walk holds the trees of the current path; finished directories hold only the
   * promises of restores still running.
   */
  private async restoreAll(record: SnapshotRecord): Promise<RestoreResult> {
    const walk = new TreeCursor(this.store, Buffer.from(record.tree, 'hex'), {
      prefix: this.target,
      signal: this.opts.signal,
      load: (id) => this.loadTree(id),
      narrow: (entries) => {
        const d = this.dirs[this.dirs.length - 1];
        const names = d.all ? null : this.selector.childNames(d.rel);
        return names ? entriesNamed(entries, names) : entries;
      },
    });
    try {
      for (let s = walk.step(); s !== END; s = walk.step()) {
        if (s === TREE) await walk.load();
        else if (s === LEAVE) await this.leaveDir();
        else if (walk.depth === 1) await this.enterSource(walk);
        else {
          const rel = this.enter(walk);
          if (rel === null) continue;
          const d = this.dirs[this.dirs.length - 1];
          const at = d.fresh ? this.inside(d, walk.entry) : walk.path;
          if (this.batcher && this.batches(walk.entry)) {
            // Without a promise when the chunks are local and the batcher has room, the common
            // case: a file of a tree of small files was ~6 promises on this thread.
            const located = this.fetched ? await this.fetchedPlaces(walk.entry, rel) : this.places(walk.entry, rel);
            if (!located) continue;
            if (!this.batcher.hasRoom) await this.batcher.room();
            this.queueInBatch(this.batcher, walk.entry, at, rel, d.fresh, located);
            continue;
          }
          await this.slots.acquire();
          d.pending.push(this.restoreEntry(walk.entry, at, rel, d.fresh).finally(() => this.slots.release()));
        }
      }
    } catch (err) {
      // Interrupted: let the restores already started finish (or fail) and clean up first,
      // then put what was finished in place (a directory under a temporary name holds only
      // complete files: a file that failed was removed), without its directory's metadata.
      await this.idle();
      for (let i = this.dirs.length - 1; i >= 0; i--) {
        const d = this.dirs[i];
        await Promise.all(d.pending);
        if (d.temp) try { this.out.publishDir(d.at, d.path); } catch (e) { this.problem(d.rel, e); }
      }
      throw err;
    }
    return this.result;
  }

  /** The root tree's entry, the source itself: a directory is the target, anything else goes into it. */
  private async enterSource(walk: TreeCursor): Promise<void> {
    const e = walk.entry;
    // A target that was there may hold temporaries of an earlier restore killed with -9.
    if (mkdirSync(this.target, { recursive: true }) === undefined) removeStaleTemps(this.target);
    if (e.type === 'dir') {
      this.dirs.push({ e, path: this.target, at: this.target, fresh: false, inFresh: false, temp: false, rel: '', all: false, created: false, pending: [] });
    } else if (this.selector.selects(e.name.toString('utf8'))) {
      await this.restoreEntry(e, walk.path, e.name.toString('utf8'), false);
    }
  }

  /**
   * An entry below the source: a directory is made (or the walk kept out of it); returns the
   * relative path of anything else the selector picks, for the caller to restore, else null.
   */
  private enter(walk: TreeCursor): string | null {
    const e = walk.entry, path = walk.path;
    const rel = path.toString('utf8', this.relStart);
    const selected = this.dirs[this.dirs.length - 1].all || this.selector.selects(rel);
    if (e.type !== 'dir') return selected ? rel : null;
    if (!selected && !this.selector.mayContain(rel)) {
      walk.skip();
      return null;
    }
    const parent = this.dirs[this.dirs.length - 1];
    let created: boolean, at = path, temp = false;
    try {
      // A new directory below one that was there is made under a temporary name, its subtree
      // at final names inside (materialize.ts): no temporary and rename per file.
      if (parent.fresh) created = this.out.makeDir(at = this.inside(parent, e));
      else if ((at = this.out.makeTempDir(path) ?? path) !== path) created = temp = true;
      else created = this.out.makeDir(path);
    } catch (err) {
      this.problem(rel, err);
      walk.skip();
      return null;
    }
    if (!created) removeStaleTemps(path);
    this.dirs.push({ e, path, at, fresh: parent.fresh || temp, inFresh: parent.fresh, temp, rel, all: selected, created, pending: [] });
    return null;
  }

  /** Where entry `e` of directory `d` is written (its final path when `d` is not fresh). */
  private inside(d: DirFrame, e: TreeEntry): Buffer {
    return Buffer.concat([d.at, SLASH, e.name]);
  }

  /** A directory's walk is over: its metadata once everything inside it is restored. */
  private async leaveDir(): Promise<void> {
    const d = this.dirs.pop()!;
    const done = Promise.all(d.pending);
    if (this.dirs.length === 0) {
      this.batcher?.flush();
      await done;
      // The target itself takes the source directory's metadata only on a full restore.
      if ((this.opts.files ?? []).length === 0) {
        this.result.dirs++;
        await this.out.applyMeta(this.target, d.e);
      }
      return;
    }
    if (d.pending.length === 0 && !d.all) {
      // Only a directory this restore created is taken away again.
      if (d.created) await fsp.rmdir(d.at).then(() => { if (d.temp) tempDirDone(d.at); }, () => {});
      return;
    }
    this.result.dirs++;
    // Its metadata (the mtime above all) once everything inside it is in place; then, made
    // under a temporary name, it takes its own (before its parent's metadata: that changes the
    // parent's mtime), whatever became of its metadata.
    const placed = done.then(() => this.out.applyMeta(d.at, d.e, d.inFresh)).catch((err) => this.problem(d.rel, err));
    this.dirs[this.dirs.length - 1].pending.push(d.temp ? placed.then(() => this.out.publishDir(d.at, d.path)).catch((err) => this.problem(d.rel, err)) : placed);
  }

  /** Waits until no entry restore is running (every slot is free), then frees the slots again. */
  private async idle(): Promise<void> {
    await this.batcher?.drain();
    const n = restoresAtOnce(this.opts.workers);
    for (let i = 0; i < n; i++) await this.slots.acquire();
    for (let i = 0; i < n; i++) this.slots.release();
  }

  private workerPool(): WorkerPool {
    // Records fetched here keep this thread busy with the requests: the workers take the other
    // cores (on 2 cores, one worker: a second cost ~0.15 CPU-s for its start and heap, and only
    // shared the same core).
    const size = this.opts.workers ?? (this.fetched ? Math.max(1, defaultPoolSize() - 1) : undefined);
    return this.pool ??= new WorkerPool('snapshot/restore-worker.js', {}, defaultPoolSize(size), undefined, CHUNK_WORKER_LIMITS);
  }

  /** Where a worker finds chunk `id`: its pack file, or the record itself, fetched here. */
  private async locate(id: Uint8Array): Promise<RestoreChunk> {
    return this.fetched ? { id: new Uint8Array(id), ...(await this.store.fetchedPlace!(id)) } : this.placeHere(id);
  }

  /** Where a worker finds chunk `id` in a local file (an index lookup). */
  private placeHere(id: Uint8Array): RestoreChunk {
    return { id: new Uint8Array(id), ...this.store.placeOf(id) };
  }

  /** Whether `e` goes to the workers in a batch: a small file (no hard-link member) or a symlink. */
  private batches(e: TreeEntry): boolean {
    return EntryBatcher.takes(e) && (e.type !== 'file' || sumLengths(e.chunks ?? []) < WORKER_MIN_BYTES);
  }

  /** `e`'s chunks in local files, and its data bytes; null (reported) when one cannot be located. */
  private places(e: TreeEntry, rel: string): Located | null {
    try {
      return { chunks: (e.chunks ?? []).map((c) => this.placeHere(c.id)), dataBytes: sumLengths(e.chunks ?? []) };
    } catch (err) {
      this.problem(rel, err);
      return null;
    }
  }

  /** `e`'s chunks with their records fetched (a store in a bucket); null (reported) when one cannot be. */
  private async fetchedPlaces(e: TreeEntry, rel: string): Promise<Located | null> {
    const chunks: RestoreChunk[] = [];
    try {
      for (const c of e.chunks ?? []) chunks.push(await this.locate(c.id));
    } catch (err) {
      this.problem(rel, err);
      return null;
    }
    return { chunks, dataBytes: sumLengths(e.chunks ?? []) };
  }

  /** Queues `e` (the batcher must have room); once the worker is done, counts it (or reports its problem). */
  private queueInBatch(batcher: EntryBatcher, e: TreeEntry, path: Buffer, rel: string, fresh: boolean, { chunks, dataBytes }: Located): void {
    const done = batcher.add(e, path, chunks, dataBytes, fresh);
    this.dirs[this.dirs.length - 1].pending.push(done.then(() => {
      if (e.type === 'symlink') {
        this.result.links++;
        return;
      }
      this.result.files++;
      this.result.bytes += dataBytes;
      if (this.opts.progress) { this.opts.progress.files++; this.opts.progress.bytes += e.size; }
    }, (err) => this.problem(rel, err)));
  }

  /** Restores `e` at `path` (`fresh`: in a directory made under a temporary name, or inside one). */
  private async restoreEntry(e: TreeEntry, path: Buffer, rel: string, fresh: boolean): Promise<void> {
    try {
      switch (e.type) {
        case 'file': {
          const dataBytes = e.chunks ? sumLengths(e.chunks) : 0;
          const source = dataBytes >= WORKER_MIN_BYTES && this.workers ? this.inWorkers : this.here;
          // Its metadata on the open file, unless it is linked to an earlier member.
          const how = await this.out.file(path, e, source, undefined, { fresh, meta: true });
          this.result.files++;
          // Progress counts what the snapshot's stats count, each file's size: its data as the
          // fills write it, here the rest (a sparse file's holes, all of a linked member).
          if (this.opts.progress) { this.opts.progress.files++; this.opts.progress.bytes += how === 'linked' ? e.size : e.size - dataBytes; }
          if (how === 'written') return;
          break;
        }
        case 'symlink':
          await this.out.symlink(path, e.linkTarget!);
          this.result.links++;
          break;
        case 'socket':
          this.opts.onWarn('SKIPPED_SOCKET', `${rel}: sockets are not restored (a program creates them when it runs)`, { path: rel });
          return;
        default:
          await this.out.special(path, e);
          this.result.others++;
      }
      await this.out.applyMeta(path, e, fresh);
    } catch (err) {
      this.problem(rel, err);
    }
  }

  /**
   * Large files: workers read, decompress, verify and write them (see restore-worker.ts) into
   * the temporary file at `tmp`, in parts of PART_BYTES side by side, each part started as soon
   * as its chunks are located. Settles once no part is writing any more.
   */
  private async fillInWorkers(tmp: Buffer, e: TreeEntry): Promise<void> {
    const pool = this.workerPool();
    const chunks = e.chunks ?? [];
    const extents = e.segments ?? [[0, e.size]];
    // Each part's outcome, caught as it is started (a part may fail while later ones are located).
    const running: Array<Promise<{ reason: unknown } | undefined>> = [];
    let failure: { reason: unknown } | undefined;
    let dataBytes = 0;
    const partLimit = this.fetched ? FETCHED_PART_BYTES : PART_BYTES;
    /** A place among the fetched parts is taken for the part being fetched. */
    let holding = false;
    try {
      let places: RestoreChunk[] = [], partBytes = 0, skip = 0;
      for (const [i, c] of chunks.entries()) {
        if (this.fetched && !holding) {
          await this.fetchedParts.acquire();
          holding = true;
        }
        places.push(await this.locate(c.id));
        partBytes += c.length;
        dataBytes += c.length;
        if (partBytes >= partLimit || i === chunks.length - 1) {
          const fetched = places.filter((p) => p.record !== undefined);
          const own = fetched.length > 0 ? this.recordBuffers.copy(fetched.map((p) => p.record!)) : null;
          fetched.forEach((p, k) => { p.record = own!.views[k]; });
          const job: RestorePartJob = { op: 'restore-part', tmp: new Uint8Array(tmp), extents, skip, chunks: places, recordBuffer: own?.buffer };
          const done = partBytes;
          let sent = pool.run<{ recordBuffer?: ArrayBuffer }>(job, own ? [own.buffer] : []).then((r) => this.recordBuffers.giveBack(r.recordBuffer));
          if (holding) sent = sent.finally(() => this.fetchedParts.release());
          holding = false;
          running.push(sent.then(() => { if (this.opts.progress) this.opts.progress.bytes += done; return undefined; }, (reason: unknown) => ({ reason })));
          skip += partBytes;
          places = [];
          partBytes = 0;
        }
      }
    } catch (reason) {
      failure = { reason };
      if (holding) this.fetchedParts.release();
    }
    const outcomes = await Promise.all(running);
    failure ??= outcomes.find((o) => o !== undefined);
    if (failure) {
      const err = failure.reason;
      throw err;
    }
    this.result.bytes += dataBytes;
  }

  /**
   * Small files (and any file of a source whose chunks workers cannot read): read, verified and
   * written here, one chunk after the other.
   */
  private async fillHere(fd: number, e: TreeEntry): Promise<void> {
    const cursor = new ExtentCursor(e.segments ?? [[0, e.size]]);
    for (const c of e.chunks ?? []) {
      const data = await this.store.loadChunkPreferSync(c.id);
      let o = 0;
      for (const [pos, len] of cursor.take(data.byteLength)) {
        writeAll(fd, data.subarray(o, o + len), pos);
        o += len;
      }
      this.result.bytes += data.byteLength;
      if (this.opts.progress) this.opts.progress.bytes += data.byteLength;
    }
  }
}

function sumLengths(chunks: readonly ChunkRef[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

function writeAll(fd: number, data: Uint8Array, position: number): void {
  for (let off = 0; off < data.byteLength;) off += writeSync(fd, data, off, data.byteLength - off, position + off);
}
