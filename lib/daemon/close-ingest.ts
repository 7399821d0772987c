/**
 * Continuous snapshots' first half: a file's new content goes into the store soon after its
 * writer closes it, not at the next cut. Closed files are gathered for BATCH_MS, then read and
 * cut with the store's own chunker (StreamChunker: our gear cuts, BLAKE3 ids, the store's
 * codec, deduplicated against what the store holds) and the packs sealed: once a batch is done
 * its data is on disk in the store. The snapshot cut that follows (snapshot-cutter.ts) reads
 * the file again and finds every chunk present, so it writes only trees and its record.
 *
 * The store is opened with a shared lock per batch, as for a cut, so `store gc` and `snap
 * prune` still get their exclusive lock between batches. Chunks ingested but not yet named by a
 * snapshot are garbage to a gc that runs in between: the cut then stores them again (no loss,
 * only the early durability of those files).
 *
 * The cut does not read such a file again: each file stored here is remembered by its identity
 * (device, inode, size, mtime, ctime, as they were before and after the read) with its chunk
 * list, and the cut takes that list when the file is still the same and the store still holds
 * every chunk (takeKnown; ArchiveOptions.knownContent). That spares the cut the chunk workers'
 * start and a read per changed file.
 *
 * Limits: a file that keeps changing is read at each close; files above INGEST_MAX_BYTES wait
 * for the cut; at most KNOWN_MAX files are remembered between two cuts (the others are read by
 * the cut).
 */
import { type BigIntStats, closeSync, fstatSync, openSync, readSync, constants as fsc } from 'node:fs';
import { parseCodec } from '../codec/codec.js';
import type { Warn } from '../errors/index.js';
import type { ExcludeTest } from '../filter/exclude-rules.js';
import type { FileMeta } from '../fs/file-meta.js';
import { displayPath, relPath } from '../fs/fs-path.js';
import { type ChunkRef, type Store, storeWriters } from '../store/index.js';
import type { FsChange } from './fs-change.js';

export const BATCH_MS = 20;
export const INGEST_MAX_BYTES = 256 * 1024 * 1024;
const PIECE = 1 << 20;
/** Files remembered for the next cut (each ~200 bytes plus 40 per chunk). */
export const KNOWN_MAX = 65_536;

/** A file stored here, as it was when read. */
interface Known { size: bigint; mtimeNs: bigint; ctimeNs: bigint; chunks: ChunkRef[] }

/** Chunk lists of files stored here since the last cut, by identity (takeKnown). */
export type KnownFiles = (meta: FileMeta) => ChunkRef[] | undefined;

export interface IngestOptions {
  onWarn: Warn;
  exclude?: ExcludeTest;
  /** Each file made durable: its path, and the milliseconds from its close's event to the packs sealed. */
  onDurable?(path: Buffer, ms: number): void;
  /** Runs `fn` with the store opened, to itself in this process (the cutter's cuts and these batches take turns). */
  useStore<T>(fn: (store: Store) => Promise<T>): Promise<T>;
}

export class CloseIngest {
  private pending = new Map<string, { path: Buffer; at: number }>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  readonly stats = { files: 0, bytes: 0, batches: 0, failures: 0 };
  private known = new Map<string, Known>();

  constructor(readonly source: Buffer, readonly store: string, private readonly opts: IngestOptions) {}

  change(c: FsChange): void {
    if (this.stopped || c.kind !== 'changed' || !c.closed || c.dir) return;
    const rel = relPath(this.source, c.path);
    if (rel === null || rel.length === 0 || this.opts.exclude?.(rel.toString('utf8'), false)) return;
    this.pending.set(c.path.toString('latin1'), { path: c.path, at: performance.now() });
    if (!this.timer && !this.running) this.timer = setTimeout(() => this.flush(), BATCH_MS);
  }

  /**
   * The files stored since the last call, for a cut to take instead of reading them: a file
   * counts only while its identity is still the one read. Batches and cuts take turns on the
   * store, so what the map holds is durable when a cut looks.
   */
  takeKnown(): KnownFiles {
    const known = this.known;
    this.known = new Map();
    return (meta) => {
      const k = known.get(`${meta.dev}:${meta.ino}`);
      return k && k.size === BigInt(meta.size) && k.mtimeNs === meta.mtimeNs && k.ctimeNs === meta.ctimeNs ? k.chunks : undefined;
    };
  }

  /** Ingests what is pending, then stops taking changes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    await this.running;
    if (this.pending.size > 0) await this.batch();
  }

  private flush(): void {
    this.timer = null;
    this.running = this.batch().finally(() => {
      this.running = null;
      if (this.pending.size > 0 && !this.stopped) this.timer = setTimeout(() => this.flush(), BATCH_MS);
    });
  }

  private async batch(): Promise<void> {
    const files = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.opts.useStore(async (store) => {
        const writers = await storeWriters();
        const writer = new writers.ChunkWriter(store);
        const chunker = new writers.StreamChunker(store, writer, parseCodec('zstd'));
        const done: typeof files = [];
        for (const f of files) {
          const bytes = await this.ingest(f.path, chunker);
          if (bytes === null) continue;
          this.stats.files++;
          this.stats.bytes += bytes;
          done.push(f);
        }
        await writer.flush();
        this.stats.batches++;
        const now = performance.now();
        for (const f of done) this.opts.onDurable?.(f.path, now - f.at);
      });
    } catch (err) {
      this.stats.failures++;
      this.opts.onWarn('SNAPSHOT', `${displayPath(this.source)}: ${files.length} closed file${files.length === 1 ? '' : 's'} not stored early in ${this.store}: ${(err as Error).message}; the next snapshot stores them`, { path: this.store });
    }
  }

  /** The bytes of `path` through `chunker`; null when it is gone, not a file, or too large to take now. */
  private async ingest(path: Buffer, chunker: { add(b: Uint8Array): Promise<void>; finish(): Promise<{ chunks: ChunkRef[] }> }): Promise<number | null> {
    let fd: number;
    try {
      fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NOATIME);
    } catch {
      return null;  // gone, a symlink, or unreadable: the cut deals with it
    }
    let total = 0;
    try {
      const st = fstatSync(fd, { bigint: true });
      if (!st.isFile() || st.size > INGEST_MAX_BYTES) return null;
      const buf = Buffer.allocUnsafe(Math.min(PIECE, Math.max(Number(st.size), 1)));
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        total += n;
        await chunker.add(buf.subarray(0, n));
      }
      const { chunks } = await chunker.finish();
      this.remember(st, fstatSync(fd, { bigint: true }), chunks);
      return total;
    } catch {
      await chunker.finish().catch(() => {});
      return null;  // a directory, or a read error: the cut reads it and reports
    } finally {
      closeSync(fd);
    }
  }

  /** Remembers a file read whole with no change during the read (`before` and `after` agree). */
  private remember(before: BigIntStats, after: BigIntStats, chunks: ChunkRef[]): void {
    const same = before.size === after.size && before.mtimeNs === after.mtimeNs && before.ctimeNs === after.ctimeNs;
    const key = `${after.dev}:${after.ino}`;
    if (!same) { this.known.delete(key); return; }
    if (this.known.size >= KNOWN_MAX && !this.known.has(key)) return;
    this.known.set(key, { size: after.size, mtimeNs: after.mtimeNs, ctimeNs: after.ctimeNs, chunks });
  }
}
