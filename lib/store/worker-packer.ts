/**
 * The data-pack writer of one chunk worker. Each worker appends the new chunks it produces to
 * a pack of its own, so file bytes never leave the worker that read them: the main thread only
 * receives chunk ids (for trees) and sealed-pack trailers (for the index). That keeps the main
 * thread, which also walks the tree, off the data path, which is what lets throughput grow with
 * the number of cores.
 *
 * Deduplication: a chunk is new unless the index (read from this thread) or this worker's own
 * unindexed packs have it. Two workers that meet the same new chunk at the same moment would
 * both store it; the claim table their snapshot or import shares (claim-table.ts, consulted by
 * chunk-intake.ts after `has`) lets only one of them. Two processes writing one store at once
 * share no table: both may store a chunk, the index keeps the first copy, and the other is a
 * duplicate record that `store check` counts and gc drops (formats/store.md). A sealed pack's
 * ids are forgotten only after the main thread has indexed it, so a chunk is always found, in
 * `pending` or in the index, from the moment it is added.
 */
import { StoreIndex } from '../index/store-index.js';
import { workerFailure } from '../util/worker-job.js';
import type { BlobStorage } from './blob-storage.js';
import { PackPipeline } from './pack-pipeline.js';
import { PackWriter, StagePool, type SealedPack } from './pack-writer.js';
import { ChunkBundler, type EncodedBundle, writeBundle } from './chunk-bundler.js';
import { CHUNK_DATA, PACK_MAX_RECORDS, PACK_TARGET_BYTES } from './store-layout.js';
import { storageFrom, type WorkerStoreRef } from './store-location.js';

/** How a writer's bundles are compressed (the writer copies the result before the next bundle). */
export type BundleEncoder = (raw: Buffer) => EncodedBundle;

/** Bytes of the open pack queued for writing before add's caller waits (settle); see chunk-worker.ts BLOCK. */
const QUEUE_LIMIT = 8 << 20;
/** Seals (trailer, fsync, rename, directory fsync) that may run behind the chunks being added. */
const SEALS_IN_FLIGHT = 2;

export class WorkerPacker {
  private readonly storage: BlobStorage;
  private readonly index: StoreIndex;
  private pack: PackWriter | null = null;
  /**
   * Pending ids, seals behind the chunking, queue limit, failure latch. A failure to write the
   * store is the worker's, not the current job's: every later chunk would fail the same way, so
   * the main thread stops the whole command once instead of blaming each source file (issue 18, D6).
   */
  private readonly pipeline = new PackPipeline({ sealsBehind: SEALS_IN_FLIGHT, queueLimit: QUEUE_LIMIT }, workerFailure);
  /** Staging buffers shared by this worker's packs (pack-writer.ts). */
  private readonly stages = new StagePool();
  /** The open bundle (formats/store.md §7.6), and how to compress it: the encoder its last member came with. */
  private readonly bundle = new ChunkBundler();
  private encodeBundle: BundleEncoder | null = null;
  /** Packs sealed and durable but not yet handed out by takeSealed. */
  private sealed: SealedPack[] = [];
  readonly stats = { newChunks: 0, newRawBytes: 0, newStoredBytes: 0 };

  private readonly target: number;
  /** Small new chunks go into bundles (the store's version allows them; formats/store.md §7.6). */
  readonly bundles: boolean;

  /** `store`: Store.workerRef() of the main thread's store. */
  constructor(store: WorkerStoreRef, target = PACK_TARGET_BYTES) {
    this.storage = storageFrom(store.storage);
    this.target = Math.min(target, this.storage.blobTarget ?? target);
    this.bundles = store.bundles;
    // The main thread's Store.open walked the file before any worker started (IndexWalk).
    this.index = StoreIndex.open(store.indexDir, { walk: 'none', mapBudgetBytes: store.mapBudgetBytes });
  }

  has(id: Buffer): boolean {
    return this.pipeline.isPending(id.toString('hex')) || this.index.hasChunk(id);
  }

  /**
   * Appends a new chunk (the caller checked `has`). `stored` is copied before this returns, so
   * it may be a view of a buffer the caller reuses. Synchronous: a pack that fills up starts
   * sealing in the background (its two fsyncs, ~30 ms here, no longer stall the chunking) and
   * the caller calls `settle` now and then (once per read block) to bound what is in flight.
   * Sealed packs are collected with takeSealed; a failed seal is thrown by a later call.
   */
  add(id: Buffer, codec: number, rawLength: number, stored: Uint8Array): void {
    this.pipeline.throwIfFailed();
    this.pipeline.addPending(id.toString('hex'));
    const pack = this.openPack();
    try {
      pack.add(id, CHUNK_DATA, codec, rawLength, stored);
    } catch (err) {
      throw this.pipeline.fail(err);
    }
    this.stats.newChunks++;
    this.stats.newRawBytes += rawLength;
    this.stats.newStoredBytes += stored.byteLength;
    this.sealIfFull();
  }

  /**
   * Appends a new chunk of fewer than BUNDLE_MEMBER_MAX bytes (the caller checked `has`) to the
   * open bundle instead of compressing it alone; the bundle is compressed with `encode` and
   * written once it is full, or before its pack is sealed. Copied, like add's `stored`.
   */
  addToBundle(id: Buffer, chunk: Uint8Array, encode: BundleEncoder): void {
    this.pipeline.throwIfFailed();
    this.pipeline.addPending(id.toString('hex'));
    this.bundle.add(id, chunk);
    this.encodeBundle = encode;
    this.stats.newChunks++;
    this.stats.newRawBytes += chunk.byteLength;
    // A full bundle, or one whose members fill the open pack's records: packs keep PACK_MAX_RECORDS.
    if (this.bundle.full || (this.pack?.count ?? 0) + this.bundle.count + 1 >= PACK_MAX_RECORDS) this.writeBundle();
  }

  /** Writes the open bundle into the open pack (chunk-bundler.ts writeBundle). */
  private writeBundle(): void {
    if (this.bundle.count === 0) return;
    const members = this.bundle.take();
    const pack = this.openPack();
    try {
      this.stats.newStoredBytes += writeBundle(pack, members, this.encodeBundle!(members.raw));
    } catch (err) {
      throw this.pipeline.fail(err);
    }
    this.sealIfFull();
  }

  /** New chunk data is written once and not read back by this run: around the page cache. */
  private openPack(): PackWriter {
    return this.pack ??= PackWriter.create(this.storage, { direct: true, stages: this.stages });
  }

  private sealIfFull(): void {
    if (this.pack && (this.pack.size >= this.target || this.pack.count >= PACK_MAX_RECORDS)) this.startSeal();
  }

  /**
   * Backpressure: waits until at most SEALS_IN_FLIGHT seals run and the open pack's write queue
   * is under QUEUE_LIMIT / 2 once it passed QUEUE_LIMIT. Between two calls a caller adds at
   * most one read block, so memory stays bounded by the limits plus a block. Also lets the
   * event loop turn once: a pack has one write in flight, and the next (of the stages queued
   * meanwhile) starts from that write's completion callback (pack-writer.ts writeNext).
   */
  async settle(): Promise<void> {
    await new Promise<void>((resume) => setImmediate(resume));
    await this.pipeline.waitForSeals();
    if (this.pack) await this.pipeline.bound(this.pack);
    this.pipeline.throwIfFailed();
  }

  /** True when takeSealed has packs to hand out (checked once per block, not per chunk). */
  get hasSealed(): boolean { return this.sealed.length > 0 || this.pipeline.failed !== null; }

  private startSeal(): void {
    const w = this.pack;
    this.pack = null;
    if (w) this.pipeline.startSeal(w, (pack) => { this.sealed.push(pack); });
  }

  /**
   * The packs sealed since the last call: durable and visible under their ids, not yet
   * indexed. The caller reports each to the main thread and calls `indexed` once it is indexed.
   */
  takeSealed(): SealedPack[] {
    this.pipeline.throwIfFailed();
    const out = this.sealed;
    this.sealed = [];
    return out;
  }

  /** Seals the open pack and waits for every seal in flight: the packs not yet taken. */
  async finish(): Promise<SealedPack[]> {
    this.writeBundle();
    this.startSeal();
    await this.pipeline.allSealed();
    return this.takeSealed();
  }

  /** The main thread has indexed `sealed`: its chunks are now found through the index. */
  indexed(sealed: SealedPack): void {
    this.pipeline.indexed(sealed);
  }

  /** Drops the open pack (after a failure): nothing refers to its chunks. Seals in flight finish. */
  async abort(): Promise<void> {
    this.bundle.take();
    const w = this.pack;
    this.pack = null;
    await w?.abort();
    await this.pipeline.allSealed();
  }
}
