/**
 * Adds chunks to a store: skips chunks the store (or this writer) already has, appends the
 * rest to the open pack of their type, seals packs as they fill, and indexes each pack only
 * after it is durable. Data and tree chunks go to separate packs so that reading metadata
 * (listing, diff, restore planning) touches only small tree packs.
 *
 * Free space: with a SpaceGuard, every record (and its trailer entry) is granted before it is
 * queued, counting the bytes other packs still have queued, so an import stops with NO_SPACE
 * before the write that would fill the disk (one statfs per guard interval, not per chunk).
 *
 * Memory: the ids of chunks written but not yet indexed (a few packs' worth) plus the queued
 * bytes of open packs (bounded: `add` waits when more than QUEUE_LIMIT bytes are unwritten).
 */
import { AbortedError } from '../errors/index.js';
import { SpaceGuard } from '../fs/space-guard.js';
import { BUNDLE_MEMBER_PAYLOAD_BYTES, CHUNK_DATA, CHUNK_TREE, PACK_MAX_RECORDS, PACK_TARGET_BYTES, RECORD_HEADER_BYTES, TRAILER_ENTRY_BYTES } from './store-layout.js';
import type { Store } from './chunk-store.js';
import { PackPipeline } from './pack-pipeline.js';
import { PackWriter, StagePool, type SealedPack } from './pack-writer.js';
import { CLAIM_FIRST, CLAIM_TAKEN, type ClaimTable } from './claim-table.js';
import { type BundleMembers, type EncodedBundle, writeBundle } from './chunk-bundler.js';
import { CODEC_IDS } from '../codec/codec-ids.js';

/** Bytes of an open pack unwritten before `add` waits (pack-pipeline.ts bound). */
const QUEUE_LIMIT = 16 << 20;
/**
 * Kept free by a store's space guard: pack trailer tails, the index pages the new packs add
 * (LMDB copies pages on write) and the snapshot records written after the last pack.
 */
const STORE_SPACE_MARGIN = 4 << 20;

/**
 * A guard for writes of packs into `store` (one statfs per 16 MiB of packs); `what` names the
 * job. Undefined when packs are not local files (an s3:// store): they go to the bucket, whose
 * room is not ours to measure, and the local cache takes only index pages; counting the packs
 * against the cache's disk refused transfers the bucket had room for.
 */
export function storeSpaceGuard(store: Pick<Store, 'local' | 'localDir'>, what: string): SpaceGuard | undefined {
  return store.local ? new SpaceGuard(store.localDir, what, STORE_SPACE_MARGIN) : undefined;
}
/** Seals at once: a seal starts once fewer than this many run. */
const MAX_SEALING = 2;

export interface WriteStats {
  newChunks: number;
  newRawBytes: number;
  newStoredBytes: number;
  packs: number;
}

export class ChunkWriter {
  private readonly open = new Map<number, PackWriter>();
  private readonly opening = new Map<number, Promise<PackWriter>>();
  private readonly pipeline = new PackPipeline({ sealsBehind: MAX_SEALING - 1, queueLimit: QUEUE_LIMIT });
  private readonly stages = new StagePool();
  private aborted = false;
  readonly stats: WriteStats = { newChunks: 0, newRawBytes: 0, newStoredBytes: 0, packs: 0 };

  private readonly packTarget: number;

  constructor(private readonly store: Store, packTarget = PACK_TARGET_BYTES, private readonly guard: SpaceGuard | null = null) {
    this.packTarget = Math.min(packTarget, store.storage.blobTarget ?? packTarget);
  }

  /** The run's claim table, when its chunks are indexed at its end (useClaims). */
  private claims: ClaimTable | null = null;

  /**
   * Asks `claims` before the index from now on (a run into an empty store whose packs are
   * indexed at its end, deferred-indexing.ts): the index does not list this run's chunks until
   * then. `has` then claims: false means the caller is the one to `add` the chunk.
   */
  useClaims(claims: ClaimTable): void {
    this.claims = claims;
  }

  /** True when the chunk is already in the store or queued by this writer (or, with claims, by the run). */
  has(id: Uint8Array): boolean {
    if (this.pipeline.isPending(Buffer.from(id.buffer, id.byteOffset, 32).toString('hex'))) return true;
    if (this.claims) {
      const state = this.claims.claimState(id);
      if (state === CLAIM_TAKEN) return true;
      if (state === CLAIM_FIRST && this.claims.storeWasEmpty) return false;
    }
    return this.store.index.hasChunk(id);
  }

  /**
   * Adds one chunk unless present. `stored` is the payload as stored (compressed with `codec`,
   * or raw for codec 0). Returns true when the chunk was new.
   */
  add(id: Buffer, type: number, codec: number, rawLength: number, stored: Uint8Array): Promise<boolean> {
    // Adds are serialized: choosing the open pack, appending and sealing must not interleave
    // (an add that resumed after another add sealed the pack would write to a closed pack).
    const next = this.queue.then(() => this.addNow(id, type, codec, rawLength, stored));
    this.queue = next.then(() => {}, () => {});
    return next;
  }

  private queue: Promise<void> = Promise.resolve();

  private async addNow(id: Buffer, type: number, codec: number, rawLength: number, stored: Uint8Array): Promise<boolean> {
    this.pipeline.throwIfFailed();
    if (this.aborted) throw new AbortedError('pack writer aborted');
    const key = id.toString('hex');
    if (this.pipeline.isPending(key) || this.store.index.hasChunk(id)) return false;
    this.pipeline.addPending(key);
    const w = await this.writerFor(type);
    // abort() dropped the pack while it was being opened.
    if (this.aborted) throw new AbortedError('pack writer aborted');
    if (this.guard) {
      const bytes = RECORD_HEADER_BYTES + stored.byteLength + TRAILER_ENTRY_BYTES;
      const pending = this.unwritten();
      try {
        await this.guard.reserve({ bytes, pending, step: `the pending pack (its next chunk and the ${pending} bytes queued)` });
      } catch (err) {
        this.pipeline.dropPending(key);
        throw err;
      }
    }
    w.add(id, type, codec, rawLength, stored);
    this.stats.newChunks++;
    this.stats.newRawBytes += rawLength;
    this.stats.newStoredBytes += stored.byteLength;
    await this.sealIfFull(w, type);
    return true;
  }

  /**
   * Adds a bundle of new small data chunks (verified-bundles.ts: an import's, a
   * transfer's): the bundle record, then its members' records, in one pack (chunk-bundler.ts
   * writeBundle; a pack that could not take them all under PACK_MAX_RECORDS is sealed first).
   * A member the store or this writer holds by now makes the others go one by one, raw: the
   * bundle's bytes would store that one twice. Returns the new chunks and their stored bytes.
   */
  addBundle(b: BundleMembers & { encoded: EncodedBundle }): Promise<{ chunks: number; storedBytes: number }> {
    const next = this.queue.then(() => this.addBundleNow(b));
    this.queue = next.then(() => {}, () => {});
    return next;
  }

  private async addBundleNow(b: BundleMembers & { encoded: EncodedBundle }): Promise<{ chunks: number; storedBytes: number }> {
    this.pipeline.throwIfFailed();
    if (this.aborted) throw new AbortedError('pack writer aborted');
    const keys = b.ids.map((id) => id.toString('hex'));
    if (keys.some((k, i) => this.pipeline.isPending(k) || this.store.index.hasChunk(b.ids[i]))) {
      let chunks = 0, storedBytes = 0;
      for (let i = 0, at = 0; i < b.ids.length; at += b.lengths[i++]) {
        if (await this.addNow(b.ids[i], CHUNK_DATA, CODEC_IDS.none, b.lengths[i], b.raw.subarray(at, at + b.lengths[i]))) {
          chunks++;
          storedBytes += b.lengths[i];
        }
      }
      return { chunks, storedBytes };
    }
    for (const k of keys) this.pipeline.addPending(k);
    let w = await this.writerFor(CHUNK_DATA);
    if (this.aborted) throw new AbortedError('pack writer aborted');
    if (w.count > 0 && w.count + b.ids.length + 1 > PACK_MAX_RECORDS) {
      this.open.delete(CHUNK_DATA);
      await this.seal(w);
      w = await this.writerFor(CHUNK_DATA);
    }
    if (this.guard) {
      const bytes = (b.encoded?.stored.byteLength ?? b.raw.byteLength) + (b.ids.length + 1) * (RECORD_HEADER_BYTES + TRAILER_ENTRY_BYTES + BUNDLE_MEMBER_PAYLOAD_BYTES);
      const pending = this.unwritten();
      try {
        await this.guard.reserve({ bytes, pending, step: `the pending pack (its next bundle and the ${pending} bytes queued)` });
      } catch (err) {
        for (const k of keys) this.pipeline.dropPending(k);
        throw err;
      }
    }
    const written = writeBundle(w, b, b.encoded);
    this.stats.newChunks += b.ids.length;
    this.stats.newRawBytes += b.raw.byteLength;
    this.stats.newStoredBytes += written;
    await this.sealIfFull(w, CHUNK_DATA);
    return { chunks: b.ids.length, storedBytes: written };
  }

  /** Seals `w`, the open pack of its type, once it holds the target bytes or records; else waits while too much is queued. */
  private async sealIfFull(w: PackWriter, type: number): Promise<void> {
    if (w.size >= this.packTarget || w.count >= PACK_MAX_RECORDS) {
      this.open.delete(type);
      await this.seal(w);
    } else {
      await this.pipeline.bound(w);
    }
  }

  private async writerFor(type: number): Promise<PackWriter> {
    const w = this.open.get(type);
    if (w) return w;
    let p = this.opening.get(type);
    if (!p) {
      p = PackWriter.open(this.store.storage, this.stages).then((nw) => { this.open.set(type, nw); this.opening.delete(type); return nw; });
      this.opening.set(type, p);
    }
    return p;
  }

  /** Bytes queued to packs but not yet written (free space does not show them yet). */
  private unwritten(): number {
    let n = 0;
    for (const w of this.open.values()) n += w.queued;
    return n + this.pipeline.queuedInSeals;
  }

  /** Seals `w` behind the adds that follow, and indexes it once durable. */
  private async seal(w: PackWriter): Promise<void> {
    await this.pipeline.waitForSeals();
    this.pipeline.startSeal(w, (sealed) => this.indexPack(sealed));
  }

  private async indexPack(sealed: SealedPack): Promise<void> {
    await this.store.indexSealed(sealed);
    this.stats.packs++;
    this.pipeline.indexed(sealed);
  }

  /** Seals every open pack and waits until all are durable and indexed. */
  async flush(): Promise<void> {
    await this.queue;
    for (const type of [CHUNK_DATA, CHUNK_TREE]) {
      const w = this.open.get(type) ?? (await this.opening.get(type));
      this.open.delete(type);
      if (w) await this.seal(w); // an empty one is dropped
    }
    await this.pipeline.allSealed();
    await this.store.index.flushed();
    this.pipeline.throwIfFailed();
  }

  /**
   * Drops open packs (after an error): their chunks were never indexed, so nothing refers to
   * them. A pack still being opened is dropped once it exists, and no pack is opened after
   * this, so no temporary file outlives the run (formats/store.md §12).
   */
  async abort(): Promise<void> {
    this.aborted = true;
    await Promise.allSettled(this.opening.values());
    for (const w of this.open.values()) await w.abort();
    this.open.clear();
    await this.pipeline.allSealed();
  }
}
