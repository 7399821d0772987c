/**
 * The restorer: recreates a snapshot (or the entries a selector picks) under a target
 * directory, byte for byte and with metadata.
 *
 * Safety: names come from verified trees (no '/', '.', '..'); every file is written under a
 * short temporary name of its own (lib/fs/temp-name.ts: whatever the length of the real one)
 * and renamed into place, so no torn file ever carries a real name; an existing
 * symlink where the snapshot has a directory is replaced, never followed, so nothing is written
 * outside the target. Every chunk is verified against its id before a byte of it is written.
 *
 * Order: contents first, then metadata; a directory's metadata (times!) after its children.
 * Files with holes are written extent by extent and truncated to size, so holes stay holes.
 *
 * I/O: directories and files under WORKER_MIN_BYTES are made with synchronous calls on this
 * thread (each is a few system calls of microseconds, where a thread-pool round trip costs more
 * than the call: restoring one small file took about 5 ms of them); larger files go to workers,
 * unless the whole restore is small (SMALL_RESTORE_BYTES): starting the pool costs more than
 * decompressing and verifying that much here.
 */
import { closeSync, ftruncateSync, lstatSync, mkdirSync, openSync, promises as fsp, truncateSync, unlinkSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { abortPoint } from '../errors/index.js';
import { defaultPoolSize, WorkerPool } from '../util/worker-pool.js';
import { ExtentCursor } from './extent-cursor.js';
import type { RestoreChunk, RestorePartJob } from './restore-worker.js';
import { applyMeta, errnoOf, joinPath, makeSpecial, runningAsRoot, splitPath, toBuffer } from '../fs/index.js';
import { removeStaleTemps, TempEntry } from '../fs/temp-name.js';
import type { FileMeta } from '../fs/file-meta.js';
import type { ChunkSource } from './chunk-source.js';
import type { Warn } from '../errors/index.js';
import { Semaphore } from '../util/semaphore.js';
import { compileSelector, type PathSelector } from './path-selector.js';
import type { SnapshotRecord } from './snapshot-record.js';
import { type ChunkRef, entriesNamed, type TreeEntry } from './tree-entry.js';
import { loadTree } from './tree-store.js';
import type { RestorePlan } from './restore-plan.js';

export interface RestoreOptions {
  target: string;
  files?: string[];
  onWarn: Warn;
  signal?: AbortSignal;
  progress?: { files: number; bytes: number };
  /** The plan that sized this restore (restore-plan.ts): its trees are not loaded again. */
  plan?: RestorePlan;
}

export interface RestoreProblem { path: string; message: string }

export interface RestoreResult { files: number; dirs: number; links: number; others: number; bytes: number; problems: RestoreProblem[] }

/** Files with at least this much data are restored by a worker (decompress and verify off the main thread). */
const WORKER_MIN_BYTES = 256 * 1024;
/**
 * A restore writing at most this many bytes (all of it, or what the plan selected) runs on this
 * thread alone; FOXING_RESTORE_POOL_BYTES overrides it. Measured (2 vCPUs, mixed set): the pool
 * costs ~60 ms before its first byte (each worker loads its modules) and then restores ~2.5 ms
 * per MiB against ~4.8 here, so it pays from ~50 MiB: one 9 MiB file took 118 ms here against
 * 184 with the pool, 26 MiB 141 against 196, 97 MiB 484 against 374. More cores favour the pool.
 */
const SMALL_RESTORE_BYTES = 32 << 20;
/**
 * A file restored by workers is cut into parts of about this much data, restored side by side
 * (so one large file uses every core); a smaller file is one part. Measured (2 vCPUs, one
 * 421 MiB file of text and objects): 898 ms in one part, 791 ms in parts; the writes to one
 * file serialise on its inode lock, the decompression and verification do not.
 */
const PART_BYTES = 32 << 20;

function poolFromBytes(): number {
  const env = Number(process.env.FOXING_RESTORE_POOL_BYTES);
  return process.env.FOXING_RESTORE_POOL_BYTES && Number.isSafeInteger(env) && env >= 0 ? env : SMALL_RESTORE_BYTES;
}
/**
 * Entries restored at once (files, links, specials): several per worker, so none idles while
 * the main thread starts the next, and the main thread's own small files run beside them.
 */
const RESTORES_AT_ONCE = Math.max(8, 4 * defaultPoolSize());

interface Walked { any: boolean; done: Promise<void> }

export async function restore(store: ChunkSource, record: SnapshotRecord, opts: RestoreOptions): Promise<RestoreResult> {
  return new Restorer(store, opts).run(record);
}

class Restorer {
  private readonly selector: PathSelector;
  private readonly owner = runningAsRoot();
  /** Per hard-link group, the path its data was restored to (null if that failed), once it is there. */
  private readonly hardlinks = new Map<string, Promise<Buffer | null>>();
  private readonly slots = new Semaphore(RESTORES_AT_ONCE);
  private readonly result: RestoreResult = { files: 0, dirs: 0, links: 0, others: 0, bytes: 0, problems: [] };
  private readonly target: Buffer;
  /** Started on the first large file (a small restore never pays for it). */
  private pool: WorkerPool | null = null;
  /** Whether large files go to the pool: the store can be read there and the restore is not small. */
  private workers = false;

  constructor(private readonly store: ChunkSource, private readonly opts: RestoreOptions) {
    this.selector = compileSelector(opts.files ?? []);
    this.target = toBuffer(resolve(opts.target));
  }

  private loadTree(id: Uint8Array): Promise<TreeEntry[]> {
    return this.opts.plan ? this.opts.plan.trees.take(this.store, id) : loadTree(this.store, id);
  }

  private problem(rel: string, err: unknown): void {
    const message = `${rel}: ${(err as Error).message}`;
    this.result.problems.push({ path: rel, message });
    this.opts.onWarn('RESTORE_ERROR', message, { path: rel });
  }

  private meta(e: TreeEntry): FileMeta {
    return { ...e, blocks: 0 };
  }

  private apply(path: Buffer, e: TreeEntry): Promise<void> {
    return applyMeta(path, this.meta(e), { owner: this.owner, xattrs: true, onWarn: this.opts.onWarn });
  }

  async run(record: SnapshotRecord): Promise<RestoreResult> {
    const bytes = this.opts.plan?.bytes ?? ((this.opts.files ?? []).length === 0 ? record.stats.bytes : Infinity);
    this.workers = this.store.local && bytes > poolFromBytes();
    try {
      return await this.restoreAll(record);
    } finally {
      await this.pool?.close();
    }
  }

  private async restoreAll(record: SnapshotRecord): Promise<RestoreResult> {
    const [root] = await this.loadTree(Buffer.from(record.tree, 'hex'));
    // A target that was there may hold temporaries of an earlier restore killed with -9.
    if (mkdirSync(this.target, { recursive: true }) === undefined) removeStaleTemps(this.target);
    if (root.type === 'dir') {
      let walked: Walked;
      try {
        walked = await this.walkDir(root.subtree!, this.target, '');
      } catch (err) {
        // Interrupted: let the restores already started finish (or fail) and clean up first.
        await this.idle();
        throw err;
      }
      await walked.done;
      // The target itself takes the source directory's metadata only on a full restore.
      if ((this.opts.files ?? []).length === 0) {
        this.result.dirs++;
        await this.apply(this.target, root);
      }
    } else if (this.selector.selects(root.name.toString('utf8'))) {
      await this.restoreEntry(root, joinPath(this.target, root.name), root.name.toString('utf8'));
    }
    return this.result;
  }

  /** Waits until no entry restore is running (every slot is free), then frees the slots again. */
  private async idle(): Promise<void> {
    for (let i = 0; i < RESTORES_AT_ONCE; i++) await this.slots.acquire();
    for (let i = 0; i < RESTORES_AT_ONCE; i++) this.slots.release();
  }

  /**
   * Walks the selected part of a tree into `dir`, depth first, starting each entry's restore as
   * it goes (at most RESTORES_AT_ONCE at a time, wherever they are in the tree): the walk waits
   * for a free slot, never for a directory to finish, so files of different directories (one
   * each, in many trees) are restored side by side. Returns whether anything was selected, and a
   * promise settled once all of it is restored (directory metadata included).
   * Memory: the walk holds the trees of the current path; finished walks hold only the promises
   * of restores still running.
   */
  private async walkDir(treeId: Buffer, dir: Buffer, rel: string, all = false): Promise<Walked> {
    await abortPoint(this.opts.signal);
    const entries = await this.loadTree(treeId);
    const names = all ? null : this.selector.childNames(rel);
    const pending: Array<Promise<void>> = [];
    for (const e of names ? entriesNamed(entries, names) : entries) {
      const name = e.name.toString('utf8');
      const childRel = rel ? `${rel}/${name}` : name;
      const path = joinPath(dir, e.name);
      const selected = all || this.selector.selects(childRel);
      if (e.type === 'dir') {
        if (!selected && !this.selector.mayContain(childRel)) continue;
        const sub = await this.walkSubdir(e, path, childRel, selected);
        if (sub) pending.push(sub.done);
      } else if (selected) {
        await this.slots.acquire();
        pending.push(this.restoreEntry(e, path, childRel).finally(() => this.slots.release()));
      }
    }
    return { any: pending.length > 0, done: Promise.all(pending).then(() => {}) };
  }

  /**
   * A subdirectory's walk; null when nothing in it was selected, else its restore's promise
   * (wrapped: an async function returning a bare promise would wait for it).
   */
  private async walkSubdir(e: TreeEntry, path: Buffer, rel: string, all: boolean): Promise<{ done: Promise<void> } | null> {
    let created: boolean;
    try {
      created = this.makeDir(path);
    } catch (err) {
      this.problem(rel, err);
      return null;
    }
    if (!created) removeStaleTemps(path);
    const { any, done } = await this.walkDir(e.subtree!, path, rel, all);
    if (!any && !all) {
      // Only a directory this restore created is taken away again.
      if (created) await fsp.rmdir(path).catch(() => {});
      return null;
    }
    this.result.dirs++;
    // Its metadata (the mtime above all) once everything inside it is in place.
    return { done: done.then(() => this.apply(path, e)).catch((err) => this.problem(rel, err)) };
  }

  /**
   * mkdir that never follows an existing symlink (it is replaced by a real directory).
   * Returns true when it created the directory.
   */
  private makeDir(path: Buffer): boolean {
    try {
      mkdirSync(path, 0o700);
      return true;
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
    if (lstatSync(path).isDirectory()) return false;
    unlinkSync(path);
    mkdirSync(path, 0o700);
    return true;
  }

  /** Removes a non-directory at path so a new entry can take its place. */
  private async clear(path: Buffer): Promise<void> {
    const st = await fsp.lstat(path).catch(() => null);
    if (!st) return;
    if (st.isDirectory()) await fsp.rmdir(path);
    else await fsp.unlink(path);
  }

  private async restoreEntry(e: TreeEntry, path: Buffer, rel: string): Promise<void> {
    try {
      switch (e.type) {
        case 'file': await this.restoreFile(e, path); break;
        case 'symlink':
          await this.clear(path);
          await fsp.symlink(e.linkTarget!, path);
          this.result.links++;
          break;
        case 'socket':
          this.opts.onWarn('SKIPPED_SOCKET', `${rel}: sockets are not restored (a program creates them when it runs)`, { path: rel });
          return;
        default:
          await this.clear(path);
          await makeSpecial(path, e);
          this.result.others++;
      }
      if (this.opts.progress) this.opts.progress.files++;
      await this.apply(path, e);
    } catch (err) {
      this.problem(rel, err);
    }
  }

  private async restoreFile(e: TreeEntry, path: Buffer): Promise<void> {
    const [dir] = splitPath(path);
    const linkKey = e.nlink > 1 ? `${e.dev}:${e.ino}` : null;
    // A later member of a hard-link group links to the first one's file once it is in place
    // (restores run side by side); if that one failed, this one restores the data itself.
    const first = linkKey ? await this.hardlinks.get(linkKey) : null;
    if (first) {
      // Linked under a temporary name and renamed: link(2) cannot replace an existing file.
      (await TempEntry.create(dir, (tmp) => fsp.link(first, tmp))).temp.commit(path);
      this.result.files++;
      return;
    }
    let placed: (at: Buffer | null) => void = () => {};
    if (linkKey) this.hardlinks.set(linkKey, new Promise((resolve) => { placed = resolve; }));
    try {
      const chunks = e.chunks ?? [];
      const extents = e.segments ?? [[0, e.size]];
      const dataBytes = chunks.reduce((n, c) => n + c.length, 0);
      let temp: TempEntry;
      if (dataBytes >= WORKER_MIN_BYTES && this.workers) {
        temp = await this.restoreInWorker(e, dir, chunks, extents);
        this.result.bytes += dataBytes;
        if (this.opts.progress) this.opts.progress.bytes += dataBytes;
      } else {
        temp = await this.restoreHere(e, dir, chunks, extents);
      }
      // Removes the temporary when the rename fails (a directory in the way, say).
      temp.commit(path);
    } catch (err) {
      placed(null);
      throw err;
    }
    placed(path);
    this.result.files++;
  }

  /**
   * Large files: workers read, decompress, verify and write them (see restore-worker.ts), in
   * parts of PART_BYTES side by side, each part started as soon as its chunks are located. The
   * temporary file is made in `dir` here and, when anything failed, removed here once no part
   * is writing to it any more; returned complete otherwise.
   */
  private async restoreInWorker(e: TreeEntry, dir: Buffer, chunks: ChunkRef[], extents: Array<[number, number]>): Promise<TempEntry> {
    const pool = this.pool ??= new WorkerPool('snapshot/restore-worker.js', {});
    const { temp } = await TempEntry.create(dir, (tmp) => closeSync(openSync(tmp, 'wx', 0o600)));
    const tmp = temp.path;
    // Each part's outcome, caught as it is started (a part may fail while later ones are located).
    const running: Array<Promise<{ reason: unknown } | undefined>> = [];
    let failure: { reason: unknown } | undefined;
    try {
      let places: RestoreChunk[] = [], partBytes = 0, skip = 0;
      for (const [i, c] of chunks.entries()) {
        places.push({ id: new Uint8Array(c.id), ...(await this.store.placeOf(c.id)) });
        partBytes += c.length;
        if (partBytes >= PART_BYTES || i === chunks.length - 1) {
          const job: RestorePartJob = { op: 'restore-part', tmp: new Uint8Array(tmp), extents, skip, chunks: places };
          running.push(pool.run(job).then(() => undefined, (reason: unknown) => ({ reason })));
          skip += partBytes;
          places = [];
          partBytes = 0;
        }
      }
    } catch (reason) {
      failure = { reason };
    }
    const outcomes = await Promise.all(running);
    failure ??= outcomes.find((o) => o !== undefined);
    try {
      if (failure) throw failure.reason;
      truncateSync(tmp, e.size);
    } catch (err) {
      temp.discard();
      throw err;
    }
    return temp;
  }

  /**
   * Small files (and any file of a source whose chunks workers cannot read): read, verified and
   * written here, one chunk after the other, into a temporary file in `dir`, returned complete.
   */
  private async restoreHere(e: TreeEntry, dir: Buffer, chunks: ChunkRef[], extents: Array<[number, number]>): Promise<TempEntry> {
    const { temp, value: fd } = await TempEntry.create(dir, (tmp) => openSync(tmp, 'wx', 0o600));
    let open = true;
    try {
      const cursor = new ExtentCursor(extents);
      for (const c of chunks) {
        const data = await this.store.loadChunkPreferSync(c.id);
        let o = 0;
        for (const [pos, len] of cursor.take(data.byteLength)) {
          writeAll(fd, data.subarray(o, o + len), pos);
          o += len;
        }
        this.result.bytes += data.byteLength;
        if (this.opts.progress) this.opts.progress.bytes += data.byteLength;
      }
      ftruncateSync(fd, e.size);
      open = false;
      closeSync(fd);
    } catch (err) {
      if (open) try { closeSync(fd); } catch { /* the first error is the one to report */ }
      temp.discard();
      throw err;
    }
    return temp;
  }
}

function writeAll(fd: number, data: Uint8Array, position: number): void {
  for (let off = 0; off < data.byteLength;) off += writeSync(fd, data, off, data.byteLength - off, position + off);
}
