/**
 * The restorer: recreates a snapshot (or the entries a selector picks) under a target
 * directory, byte for byte and with metadata.
 *
 * Safety: names come from verified trees (no '/', '.', '..'); every file is written under a
 * temporary name and renamed into place, so no torn file ever carries a real name; an existing
 * symlink where the snapshot has a directory is replaced, never followed, so nothing is written
 * outside the target. Every chunk is verified against its id before a byte of it is written.
 *
 * Order: contents first, then metadata; a directory's metadata (times!) after its children.
 * Files with holes are written extent by extent and truncated to size, so holes stay holes.
 */
import { promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import { ToolkitError } from '../errors/index.js';
import { WorkerJobError, WorkerPool } from '../util/worker-pool.js';
import { ExtentCursor } from './extent-cursor.js';
import type { RestoreFileJob } from './restore-worker.js';
import { applyMeta, errnoOf, joinPath, makeSpecial, runningAsRoot, toBuffer } from '../fs/index.js';
import type { FileMeta } from '../fs/file-meta.js';
import type { ChunkSource } from './chunk-source.js';
import type { Warn } from '../store/store-lock.js';
import { Semaphore } from '../util/semaphore.js';
import { compileSelector, type PathSelector } from './path-selector.js';
import type { SnapshotRecord } from './snapshot-record.js';
import type { ChunkRef, TreeEntry } from './tree-entry.js';
import { loadTree } from './tree-store.js';
import type { RestorePlan } from './restore-plan.js';
import { randomTag } from '../util/random-tag.js';

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

const READ_AHEAD = 8;
/** Files with at least this much data are restored by a worker (decompress and verify off the main thread). */
const WORKER_MIN_BYTES = 256 * 1024;

export async function restore(store: ChunkSource, record: SnapshotRecord, opts: RestoreOptions): Promise<RestoreResult> {
  return new Restorer(store, opts).run(record);
}

class Restorer {
  private readonly selector: PathSelector;
  private readonly owner = runningAsRoot();
  private readonly hardlinks = new Map<string, Buffer>();
  private readonly slots = new Semaphore(8);
  private readonly result: RestoreResult = { files: 0, dirs: 0, links: 0, others: 0, bytes: 0, problems: [] };
  private readonly target: Buffer;
  /** Started on the first large file (a small selective restore never pays for it). */
  private pool: WorkerPool | null = null;

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
    try {
      return await this.restoreAll(record);
    } finally {
      await this.pool?.close();
    }
  }

  private async restoreAll(record: SnapshotRecord): Promise<RestoreResult> {
    const [root] = await this.loadTree(Buffer.from(record.tree, 'hex'));
    await fsp.mkdir(this.target, { recursive: true });
    if (root.type === 'dir') {
      await this.restoreDir(root.subtree!, this.target, '');
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

  /** Restores the selected part of a tree into `dir`; true when anything was restored. */
  private async restoreDir(treeId: Buffer, dir: Buffer, rel: string, all = false): Promise<boolean> {
    if (this.opts.signal?.aborted) throw new ToolkitError('ABORTED', 'interrupted');
    const entries = await this.loadTree(treeId);
    const pending: Array<Promise<boolean>> = [];
    for (const e of entries) {
      const name = e.name.toString('utf8');
      const childRel = rel ? `${rel}/${name}` : name;
      const path = joinPath(dir, e.name);
      const selected = all || this.selector.selects(childRel);
      if (e.type === 'dir') {
        if (!selected && !this.selector.mayContain(childRel)) continue;
        pending.push(this.restoreSubdir(e, path, childRel, selected));
        await pending[pending.length - 1];
      } else if (selected) {
        await this.slots.acquire();
        pending.push(this.restoreEntry(e, path, childRel).then(() => true).finally(() => this.slots.release()));
      }
    }
    return (await Promise.all(pending)).some(Boolean);
  }

  private async restoreSubdir(e: TreeEntry, path: Buffer, rel: string, all: boolean): Promise<boolean> {
    let created: boolean;
    try {
      created = await this.makeDir(path);
    } catch (err) {
      this.problem(rel, err);
      return false;
    }
    const any = await this.restoreDir(e.subtree!, path, rel, all);
    if (!any && !all) {
      // Only a directory this restore created is taken away again.
      if (created) await fsp.rmdir(path).catch(() => {});
      return false;
    }
    this.result.dirs++;
    await this.apply(path, e).catch((err) => this.problem(rel, err));
    return true;
  }

  /**
   * mkdir that never follows an existing symlink (it is replaced by a real directory).
   * Returns true when it created the directory.
   */
  private async makeDir(path: Buffer): Promise<boolean> {
    try {
      await fsp.mkdir(path, 0o700);
      return true;
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
    const st = await fsp.lstat(path);
    if (st.isDirectory()) return false;
    await fsp.unlink(path);
    await fsp.mkdir(path, 0o700);
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
    const tmp = Buffer.concat([path, Buffer.from(`.fxrestore-${randomTag()}`)]);
    const linkKey = e.nlink > 1 ? `${e.dev}:${e.ino}` : null;
    const first = linkKey ? this.hardlinks.get(linkKey) : undefined;
    if (first) {
      await fsp.link(first, tmp);
      await fsp.rename(tmp, path);
      this.result.files++;
      return;
    }
    const chunks = e.chunks ?? [];
    const extents = e.segments ?? [[0, e.size]];
    const dataBytes = chunks.reduce((n, c) => n + c.length, 0);
    if (dataBytes >= WORKER_MIN_BYTES && this.store.local) {
      await this.restoreInWorker(e, tmp, chunks, extents);
      this.result.bytes += dataBytes;
      if (this.opts.progress) this.opts.progress.bytes += dataBytes;
    } else {
      await this.restoreHere(e, tmp, chunks, extents);
    }
    await fsp.rename(tmp, path);
    if (linkKey) this.hardlinks.set(linkKey, path);
    this.result.files++;
  }

  /** Large files: a worker reads, decompresses, verifies and writes them (see restore-worker.ts). */
  private async restoreInWorker(e: TreeEntry, tmp: Buffer, chunks: ChunkRef[], extents: Array<[number, number]>): Promise<void> {
    const places = [];
    for (const c of chunks) places.push({ id: new Uint8Array(c.id), ...(await this.store.placeOf(c.id)) });
    const job: RestoreFileJob = { op: 'restore-file', tmp: new Uint8Array(tmp), size: e.size, extents, chunks: places };
    this.pool ??= new WorkerPool('snapshot/restore-worker.js', {});
    try {
      await this.pool.run(job);
    } catch (err) {
      if (err instanceof WorkerJobError) throw new ToolkitError(err.info.code, err.info.message, err.info.data ?? {});
      throw err;
    }
  }

  /** Small files: read here, with a few chunks read ahead. */
  private async restoreHere(e: TreeEntry, tmp: Buffer, chunks: ChunkRef[], extents: Array<[number, number]>): Promise<void> {
    const fh = await fsp.open(tmp, 'wx', 0o600);
    try {
      const cursor = new ExtentCursor(extents);
      // Read ahead a few chunks (read + decompress + verify) while earlier ones are written.
      const loads: Array<Promise<Uint8Array>> = [];
      const load = (i: number) => {
        const p = this.store.loadChunk(chunks[i].id);
        p.catch(() => {}); // a failed read-ahead is reported when its turn comes, not as an unhandled rejection
        loads.push(p);
      };
      for (let i = 0; i < Math.min(READ_AHEAD, chunks.length); i++) load(i);
      for (let i = 0; i < chunks.length; i++) {
        const data = await loads[i];
        if (i + READ_AHEAD < chunks.length) load(i + READ_AHEAD);
        let o = 0;
        for (const [pos, len] of cursor.take(data.byteLength)) {
          await writeAll(fh, data.subarray(o, o + len), pos);
          o += len;
        }
        this.result.bytes += data.byteLength;
        if (this.opts.progress) this.opts.progress.bytes += data.byteLength;
      }
      await fh.truncate(e.size);
    } catch (err) {
      await fh.close().catch(() => {});
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
  }
}

async function writeAll(fh: fsp.FileHandle, data: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < data.byteLength) {
    const { bytesWritten } = await fh.write(data, off, data.byteLength - off, position + off);
    off += bytesWritten;
  }
}
