/**
 * A run that indexes its packs at its end: a first snapshot into an empty store (the archiver)
 * hands each sealed pack here instead of to the index, and the chunks go in all at once, in id
 * order, before the snapshot record is written (lib/index/deferred-chunks.ts says why; issue 25).
 *
 * What the index cannot answer meanwhile, the run's claim table does: its chunk workers ask the
 * table, not the index, about every chunk of a store that was empty (ClaimTableMemory.storeWasEmpty),
 * and so does the tree writer (ChunkWriter.useClaims). Once the table is exhausted (more new
 * chunks than it holds) the run would ask the index about chunks it lacks, so the packs held so
 * far are indexed then and the rest of the run indexes as usual.
 *
 * Crash safety: a pack is durable before it gets here, and nothing names its chunks until the
 * record is written after `finish`. A run killed before `finish` leaves sealed packs the index
 * does not list, which the next writer's reconcilePacks indexes; one killed during it leaves
 * the packs listed and named as unfinished, which reconcilePacks completes.
 */
import { DeferredChunks } from '../index/deferred-chunks.js';
import { bundleShares, chunkCount, type StoreIndex } from '../index/store-index.js';
import type { ClaimTable } from './claim-table.js';
import type { SealedPack } from './pack-writer.js';
import { CHUNK_BUNDLE } from './store-layout.js';

export class DeferredIndexing {
  private readonly packs: Array<{ packId: string; size: number; count: number }> = [];
  private readonly spill: DeferredChunks;

  constructor(private readonly index: StoreIndex, tmpDir: string, private readonly claims: ClaimTable) {
    this.spill = DeferredChunks.open(tmpDir);
  }

  /** Holds a sealed pack's chunks for `finish`. */
  add(pack: SealedPack): void {
    const ordinal = this.packs.length;
    this.packs.push({ packId: pack.packId, size: pack.size, count: chunkCount(pack.entries) });
    const shares = bundleShares(pack.entries);
    // A bundle is found through its members, never by its own id (store-index.ts).
    pack.entries.forEach((e, i) => { if (e.type !== CHUNK_BUNDLE) this.spill.add(e, ordinal, shares[i]); });
  }

  /** The claim table records no more ids: the index must answer from now on. */
  get mustEnd(): boolean { return this.claims.exhausted; }

  /** Indexes every pack held (store-index.ts addDeferredPacks) and removes the spill. */
  async finish(): Promise<void> {
    try {
      await this.index.addDeferredPacks(this.packs, this.spill);
    } finally {
      this.spill.close();
    }
  }

  /** Drops the spill (after a failure): the packs stay on disk for reconcilePacks. */
  discard(): void {
    this.spill.close();
  }
}
