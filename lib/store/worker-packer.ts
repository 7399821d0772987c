/**
 * The data-pack writer of one chunk worker. Each worker appends the new chunks it produces to
 * a pack of its own, so file bytes never leave the worker that read them: the main thread only
 * receives chunk ids (for trees) and sealed-pack trailers (for the index). That keeps the main
 * thread, which also walks the tree, off the data path, which is what lets throughput grow with
 * the number of cores.
 *
 * Deduplication: a chunk is new unless the index (read from this thread) or this worker's own
 * unindexed packs have it. Two workers that meet the same new chunk at the same moment may both
 * store it; the index keeps the first copy and the other is unreferenced (a few bytes, reclaimed
 * by gc). A sealed pack's ids are forgotten only after the main thread has indexed it.
 */
import { join } from 'node:path';
import { StoreIndex } from '../index/store-index.js';
import { FsStorage } from './fs-storage.js';
import { PackWriter, type SealedPack } from './pack-writer.js';
import { CHUNK_DATA, DIRS, PACK_TARGET_BYTES } from './store-layout.js';

const QUEUE_LIMIT = 16 << 20;

export class WorkerPacker {
  private readonly storage: FsStorage;
  private readonly index: StoreIndex;
  private pack: PackWriter | null = null;
  private readonly pending = new Set<string>();
  readonly stats = { newChunks: 0, newRawBytes: 0, newStoredBytes: 0 };

  constructor(storeRoot: string, private readonly target = PACK_TARGET_BYTES) {
    this.storage = new FsStorage(storeRoot);
    this.index = StoreIndex.open(join(storeRoot, DIRS.index));
  }

  has(id: Buffer): boolean {
    return this.pending.has(id.toString('hex')) || this.index.hasChunk(id);
  }

  /**
   * Appends a new chunk (the caller checked `has`). `stored` must stay unchanged until written:
   * pass a buffer this call may keep. Returns a pack when this chunk filled one; the caller
   * reports it for indexing and then calls `indexed` with it.
   */
  async add(id: Buffer, codec: number, rawLength: number, stored: Uint8Array): Promise<SealedPack | null> {
    const key = id.toString('hex');
    this.pending.add(key);
    this.pack ??= await PackWriter.open(this.storage);
    this.pack.add(id, CHUNK_DATA, codec, rawLength, stored);
    this.stats.newChunks++;
    this.stats.newRawBytes += rawLength;
    this.stats.newStoredBytes += stored.byteLength;
    if (this.pack.size >= this.target) return this.seal();
    if (this.pack.queued > QUEUE_LIMIT) await this.pack.drain();
    return null;
  }

  /** Seals the open pack, if any (durable and visible under its id, not yet indexed). */
  async seal(): Promise<SealedPack | null> {
    const w = this.pack;
    this.pack = null;
    if (!w) return null;
    if (w.count === 0) { await w.abort(); return null; }
    return w.seal();
  }

  /** The main thread has indexed `sealed`: its chunks are now found through the index. */
  indexed(sealed: SealedPack): void {
    for (const e of sealed.entries) this.pending.delete(e.id.toString('hex'));
  }

  /** Drops the open pack (after a failure): nothing refers to its chunks. */
  async abort(): Promise<void> {
    const w = this.pack;
    this.pack = null;
    await w?.abort();
  }
}
