/**
 * The per-chunk work of the chunk workers (chunk-worker.ts for files, stream-chunk-worker.ts for
 * streams): name each chunk by its BLAKE3 id, skip the ones the store (or this worker) already
 * has, compress and append the rest to the worker's own pack (worker-packer.ts), and collect
 * the ids and lengths for the file's tree entry.
 *
 * Why one synchronous loop over a block's chunks: with an await per chunk (compress, add, look
 * for sealed packs) a first snapshot of the bench's `mixed` set spent more CPU in the workers'
 * JavaScript, promises and recompilations (the per-chunk closure was optimised eleven times
 * after deoptimisations) than in hashing. Backpressure and sealed packs are dealt with once per
 * block by the caller (WorkerPacker.settle, takeSealed), which is as often as it matters: a
 * block is at most a few MiB.
 */
import { ChunkCodec, CODEC_IDS, type CodecSpec, DEFAULT_ZSTD_LEVEL } from '../codec/codec.js';
import { BUNDLE_KIND, LevelChoice } from '../codec/level-choice.js';
import type { Blake3 } from '../hash/blake3.js';
import { workerFailure } from '../util/worker-job.js';
import { CLAIM_FIRST, CLAIM_TAKEN, type ClaimTable } from './claim-table.js';
import { BUNDLE_MEMBER_MAX } from './store-layout.js';
import type { BundleEncoder, WorkerPacker } from './worker-packer.js';

/** Chunk ids (32 bytes each, back to back) and raw lengths, in file order. */
export interface ChunkList { ids: Uint8Array; lengths: Uint32Array }

/** The ids and lengths of a file's (or stream piece's) chunks as they are found. */
export class ChunkListBuilder {
  private ids: Buffer[] = [];
  private lengths: number[] = [];

  get count(): number { return this.ids.length; }

  push(id: Buffer, length: number): void {
    this.ids.push(id);
    this.lengths.push(length);
  }

  /** Forgets the chunks pushed after the first `count` (a file of a batch that failed). */
  truncate(count: number): void {
    this.ids.length = count;
    this.lengths.length = count;
  }

  /** The chunks pushed since the last take, in arrays of their own (transferable). */
  take(): ChunkList {
    const ids = new Uint8Array(this.ids.length * 32);
    for (let i = 0; i < this.ids.length; i++) ids.set(this.ids[i], i * 32);
    const list = { ids, lengths: Uint32Array.from(this.lengths) };
    this.ids = [];
    this.lengths = [];
    return list;
  }
}

export class ChunkIntake {
  private readonly codec = new ChunkCodec();
  /** zstd:auto's levels by kind of data, for this worker's files and bundles. */
  readonly levels = new LevelChoice();
  /**
   * What bundles are compressed with: the spec of the last storeChunks call that bundled; for
   * zstd:auto (a spec with `adaptive` set), the level LevelChoice keeps for bundles.
   */
  private bundleSpec: CodecSpec = { name: 'none' };
  private readonly encodeBundle: BundleEncoder = (raw) => {
    const spec = this.bundleSpec;
    let stored: Uint8Array | null;
    if (spec.adaptive === undefined) {
      stored = this.codec.compressTransientSync(spec, raw);
    } else {
      const level = this.levels.levelFor(BUNDLE_KIND);
      if (level !== null) {
        stored = this.codec.compressTransientSync({ name: 'zstd', level }, raw);
      } else {
        const probe = this.codec.probeLevels(DEFAULT_ZSTD_LEVEL, raw);
        this.levels.record(BUNDLE_KIND, probe.low, probe.high);
        stored = probe.view;
      }
    }
    return stored && { codec: CODEC_IDS[spec.name], stored };
  };

  /** `claims`: an import's shared claim table; a chunk another worker claimed is left to it. */
  constructor(private readonly packer: WorkerPacker, private readonly hash: Blake3, private readonly claims: ClaimTable | null = null) {}

  /**
   * Stores the chunks of `data` whose lengths are `cuts` (from offset 0) and pushes their ids
   * to `list`; returns the bytes they cover. The packer copies what it keeps, so `data` may be
   * a view of a buffer the caller reuses. Synchronous for every codec but xz, whose compressor
   * only has an asynchronous form (then a promise). `spec` is the file's own
   * (levels.specForFile); one still to be probed is settled in place by its first new chunk
   * that is not bundled, for the rest of its file, and the probe tallied for its kind.
   */
  storeChunks(data: Buffer, cuts: ArrayLike<number>, spec: CodecSpec, list: ChunkListBuilder): number | Promise<number> {
    if (!ChunkCodec.hasSyncForm(spec)) return this.storeChunksAsync(data, cuts, spec, list);
    const codecId = CODEC_IDS[spec.name];
    // Small chunks go into bundles (formats/store.md §7.6) where the store's version allows,
    // except uncompressed (a bundle stored raw saves nothing and costs a record) and those of a
    // file whose level zstd:auto chooses by its kind (a spec with `kind`): a bundle mixes files
    // of every kind, and on the bench's mixed set, bundling the small chunks of large files
    // (random, binary and text alike, in one frame) stored 0.3 % more.
    const bundling = spec.name !== 'none' && spec.kind === undefined && this.packer.bundles;
    if (bundling) this.bundleSpec = spec;
    return this.forEachChunk(data, cuts, list, (id, chunk) => {
      if (bundling && chunk.byteLength < BUNDLE_MEMBER_MAX) return this.packer.addToBundle(id, chunk, this.encodeBundle);
      // A zstd result is a view of the codec's output space: add copies it before the next chunk.
      let stored: Uint8Array | null;
      if (spec.adaptive) {
        const probe = this.codec.probeLevels(spec.level ?? DEFAULT_ZSTD_LEVEL, chunk);
        spec.level = this.levels.record(spec.kind ?? '', probe.low, probe.high);
        spec.adaptive = false;
        stored = probe.view;
      } else {
        stored = this.codec.compressTransientSync(spec, chunk);
      }
      this.packer.add(id, stored ? codecId : 0, chunk.byteLength, stored ?? chunk);
    });
  }

  private async storeChunksAsync(data: Buffer, cuts: ArrayLike<number>, spec: CodecSpec, list: ChunkListBuilder): Promise<number> {
    const fresh: Array<[Buffer, Buffer]> = [];
    const covered = this.forEachChunk(data, cuts, list, (id, chunk) => { fresh.push([id, chunk]); });
    try {
      for (const [id, chunk] of fresh) {
        if (this.packer.has(id)) continue; // the same chunk twice in this block
        const stored = await this.codec.compressTransient(spec, chunk);
        this.packer.add(id, stored ? CODEC_IDS[spec.name] : 0, chunk.byteLength, stored ?? chunk);
      }
    } catch (err) {
      throw workerFailure(err); // claimed chunks left unstored: see forEachChunk
    }
    return covered;
  }

  /** Names each chunk and lists it; `store` gets the new ones. Returns the bytes covered. */
  private forEachChunk(data: Buffer, cuts: ArrayLike<number>, list: ChunkListBuilder, store: (id: Buffer, chunk: Buffer) => void): number {
    let o = 0;
    for (let i = 0; i < cuts.length; i++) {
      const chunk = data.subarray(o, o + cuts[i]);
      o += cuts[i];
      const id = this.hash.hash(chunk);
      list.push(id, chunk.byteLength);
      if (!this.isNew(id)) continue;
      try {
        store(id, chunk);
      } catch (err) {
        // Other workers' files may already refer to a chunk this worker claimed: failing to
        // store it fails the worker (the whole snapshot or import), not just this file.
        throw workerFailure(err);
      }
    }
    return o;
  }

  /**
   * Not stored yet, nor being stored by this or (claimed) another worker of this run. The claim
   * comes first: an id met before in this run is settled by it alone, and in a run that began
   * on an empty store a first claim is new to the store (ClaimTableMemory.storeWasEmpty); only
   * otherwise is the index asked.
   */
  private isNew(id: Buffer): boolean {
    const claims = this.claims;
    if (claims === null) return !this.packer.has(id);
    const state = claims.claimState(id);
    if (state === CLAIM_TAKEN) return false;
    if (state === CLAIM_FIRST && claims.storeWasEmpty) return true;
    return !this.packer.has(id);
  }
}
