/**
 * Copies chunk records, as stored (no recompression), into new packs, and swaps the new packs in
 * for old ones: gc's repack of packs that are mostly garbage (pack-sweep.ts) and repair's salvage
 * of damaged packs (pack-repair.ts) are the same operation. Records go to one pack per chunk
 * type (data and tree chunks stay apart, as ChunkWriter keeps them).
 *
 * Order (formats/store.md §Garbage collection): the new packs are sealed (durable, named), then
 * one index transaction adds them and drops the old packs' entries, and only then may the caller
 * delete the old files. A kill at any point leaves every indexed chunk readable.
 *
 * A repack can rebuild a pack byte for byte (a salvage that only lost a trailer checksum, or an
 * unindexed copy a killed gc wrote, judged again): that pack is then one of the new ones, under
 * the old name, and the caller must not delete it (`sealed` tells).
 */
import type { PackEntry } from './pack-codec.js';
import { PackWriter, StagePool, type SealedPack } from './pack-writer.js';
import type { Store } from './chunk-store.js';
import { PACK_TARGET_BYTES } from './store-layout.js';

/** An old pack whose entries the swap drops from the index. */
export interface ReplacedPack { packNo: number; entries: PackEntry[] }

export class RepackRecords {
  private readonly writers = new Map<number, PackWriter>();
  private readonly stages = new StagePool();

  constructor(private readonly store: Store) {}

  /**
   * Appends one record; `stored` is its payload as stored, already verified by the caller. Waits
   * for the write, so memory holds no more than the writers' buffers however much is copied.
   */
  async add(e: Pick<PackEntry, 'id' | 'type' | 'codec' | 'rawLength'>, stored: Uint8Array): Promise<void> {
    let w = this.writers.get(e.type);
    if (!w) this.writers.set(e.type, (w = await PackWriter.open(this.store.storage, this.stages)));
    w.add(e.id, e.type, e.codec, e.rawLength, stored);
    await w.drain();
  }

  /** True when a new pack has reached the target size: time to seal and swap. */
  get full(): boolean {
    for (const w of this.writers.values()) if (w.size >= PACK_TARGET_BYTES) return true;
    return false;
  }

  /** Seals every new pack (durable and visible under its id, not yet indexed). */
  async seal(): Promise<SealedPack[]> {
    const sealed: SealedPack[] = [];
    for (const w of this.writers.values()) sealed.push(await w.seal());
    this.writers.clear();
    return sealed;
  }

  /** One index transaction: the sealed packs in, the old packs' entries out; durable on return. */
  async swap(sealed: SealedPack[], old: ReplacedPack[]): Promise<void> {
    await this.store.index.replacePacks(sealed, old);
    await this.store.index.flushed();
  }

  /** Drops packs not sealed (after a failure): nothing indexed refers to them. */
  async abort(): Promise<void> {
    for (const w of this.writers.values()) await w.abort();
    this.writers.clear();
  }
}
