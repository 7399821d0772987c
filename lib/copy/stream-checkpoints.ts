/**
 * Checkpoints of `fxcp - DEST` (stream-write.ts): every interval, a point-in-time copy of what
 * the stream has written so far, the newest `keep` kept.
 *
 * - Where the file system shares extents (XFS, btrfs), a checkpoint is a reflink of the
 *   temporary file, `DEST.ckpt-YYYYMMDDTHHMMSSZ`: it costs no data, whatever the file's size.
 * - Elsewhere (ext4, tmpfs, NFS; or without the native addon) it is a snapshot of the file in a
 *   chunk store of its own, `DEST.ckpt` (a store of docs/lifecycle.md: `fxcp snap list`, `snap
 *   restore --at`, `prune` and `check` work on it), tagged `checkpoint` with DEST as its source.
 *   A stream grows at its end, so each checkpoint stores only the chunks written since the one
 *   before (a copy would store the whole file again each time). Limit: each reads the file so
 *   far again (its chunks are hashed to be found in the store), so its cost in reading grows
 *   with the file.
 * The first checkpoint decides: a reflink that the file system refuses sends it, and every later
 * one, to the store. Checkpoints dropped from the store are removed as records at once, and
 * their space is freed by one gc when the stream ends (most of their chunks are the next one's).
 */
import { closeSync, ftruncateSync, openSync, readdirSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseCodec } from '../codec/codec.js';
import type { Warn } from '../errors/index.js';
import { native } from '../native/load.js';
import { archive } from '../snapshot/archiver.js';
import { collectGarbage } from '../snapshot/garbage-collect.js';
import { listSnapshots, shortId } from '../snapshot/snapshot-catalogue.js';
import { withStore } from '../store/index.js';

export const CHECKPOINT_TAG = 'checkpoint';

/** The store of a stream's checkpoints where reflinks cannot be had. */
export function checkpointStore(dest: string): string {
  return `${resolve(dest)}.ckpt`;
}

export interface CheckpointOptions { keep: number; onWarn: Warn; signal?: AbortSignal }

export class StreamCheckpoints {
  private mode: 'unknown' | 'reflink' | 'store' = 'unknown';
  /** Checkpoints removed from the store, whose space the final gc frees. */
  private dropped = 0;

  constructor(private readonly dest: string, private readonly opts: CheckpointOptions) {}

  /**
   * A checkpoint of the first `size` bytes of the temporary file `path` (open as `fd`; it is
   * truncated to `size`, the bytes the stream has written); what it is (a file, or the store and
   * the snapshot's id).
   */
  async take(fd: number, path: string, size: number, at: Date): Promise<string> {
    ftruncateSync(fd, size);
    if (this.mode !== 'store') {
      const name = this.reflink(fd, at);
      if (name !== null) {
        this.mode = 'reflink';
        this.pruneFiles();
        return name;
      }
      this.mode = 'store';
    }
    return this.snapshot(path);
  }

  /** After the stream: the space of the checkpoints dropped from the store freed. */
  async finish(): Promise<void> {
    if (this.dropped === 0) return;
    await withStore(checkpointStore(this.dest), { lock: 'exclusive', command: 'fxcp - (checkpoints gc)', onWarn: this.opts.onWarn, signal: this.opts.signal },
      async (store) => { await collectGarbage(store, { onWarn: this.opts.onWarn, signal: this.opts.signal }); });
    this.dropped = 0;
  }

  /** `DEST.ckpt-STAMP` sharing the file's extents, or null where the file system (or a missing addon) cannot. */
  private reflink(fd: number, at: Date): string | null {
    if (!native || this.mode === 'store') return null;
    const name = `${this.dest}.ckpt-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
    const out = openSync(name, 'wx', 0o600);
    let shared = false;
    try {
      native.ficlone(out, fd);
      shared = true;
    } catch (err) {
      // Anything but "not here" (EOPNOTSUPP, EXDEV, EINVAL: no shared extents on this file
      // system) is a real failure of the first checkpoint, and the stream's.
      if (this.mode === 'reflink' || !['EOPNOTSUPP', 'ENOTSUP', 'EXDEV', 'EINVAL', 'ENOTTY'].includes((err as NodeJS.ErrnoException).code ?? '')) {
        closeSync(out);
        unlinkSync(name);
        throw err;
      }
    }
    closeSync(out);
    if (!shared) unlinkSync(name);
    return shared ? name : null;
  }

  /** The newest `keep` reflinked checkpoints of DEST kept, the others removed. */
  private pruneFiles(): void {
    const prefix = `${basename(this.dest)}.ckpt-`;
    const all = readdirSync(dirname(this.dest)).filter((n) => n.startsWith(prefix)).sort();
    for (const n of all.slice(0, Math.max(0, all.length - this.opts.keep))) unlinkSync(join(dirname(this.dest), n));
  }

  /** A snapshot of the file so far in DEST.ckpt, the store's older checkpoints of DEST past `keep` removed. */
  private async snapshot(path: string): Promise<string> {
    const { onWarn, signal, keep } = this.opts;
    const store = checkpointStore(this.dest);
    return withStore(store, { create: true, lock: 'exclusive', command: 'fxcp - (checkpoint)', onWarn, signal }, async (s) => {
      const r = await archive(s, { source: path, recordSource: this.dest, tags: [CHECKPOINT_TAG], codec: parseCodec('zstd'), onWarn, signal, workers: 1 });
      const source = resolve(this.dest);
      const mine = listSnapshots(s).filter((x) => x.record.source === source && x.record.tags.includes(CHECKPOINT_TAG));
      const drop = mine.slice(0, Math.max(0, mine.length - keep)).map((x) => x.id);
      if (drop.length > 0) {
        await s.removeSnapshots(drop);
        this.dropped += drop.length;
      }
      return `${store} ${shortId(r.id)}`;
    });
  }
}
