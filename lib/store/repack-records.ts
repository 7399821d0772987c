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
 *
 * Members of bundles (formats/store.md §7.6) cannot be copied as stored (their payload points
 * into their old pack): their bytes are bundled anew (`addMember`), compressed with zstd at the
 * default level whatever the old bundle used.
 */
import { ChunkCodec, CODEC_IDS, type CodecSpec } from '../codec/codec.js';
import type { PackEntry } from './pack-codec.js';
import { PackWriter, StagePool, type SealedPack } from './pack-writer.js';
import type { Store } from './chunk-store.js';
import { ChunkBundler, writeBundle } from './chunk-bundler.js';
import { BUNDLE_MEMBER_MAX, CHUNK_DATA, PACK_TARGET_BYTES } from './store-layout.js';

const BUNDLE_SPEC: CodecSpec = { name: 'zstd' };

/** An old pack whose entries the swap drops from the index. */
export interface ReplacedPack { packNo: number; entries: PackEntry[] }

export class RepackRecords {
  private readonly writers = new Map<number, PackWriter>();
  private readonly stages = new StagePool();
  private readonly bundle = new ChunkBundler();
  private codec: ChunkCodec | null = null;

  constructor(private readonly store: Store) {}

  /**
   * Appends one record; `stored` is its payload as stored, already verified by the caller. Waits
   * for the write, so memory holds no more than the writers' buffers however much is copied.
   */
  async add(e: Pick<PackEntry, 'id' | 'type' | 'codec' | 'rawLength'>, stored: Uint8Array): Promise<void> {
    const w = await this.writer(e.type);
    w.add(e.id, e.type, e.codec, e.rawLength, stored);
    await w.drain();
  }

  /** Appends the member of a bundle `id`, whose bytes (verified by the caller) are `raw`, to a new bundle. */
  async addMember(id: Buffer, raw: Uint8Array): Promise<void> {
    if (raw.byteLength >= BUNDLE_MEMBER_MAX) {
      // Not a member this fxcp would bundle (another version's limit): stored on its own.
      this.codec ??= new ChunkCodec();
      const stored = this.codec.compressTransientSync(BUNDLE_SPEC, raw);
      return this.add({ id, type: CHUNK_DATA, codec: stored ? CODEC_IDS.zstd : CODEC_IDS.none, rawLength: raw.byteLength }, stored ?? raw);
    }
    this.bundle.add(id, raw);
    if (this.bundle.full) await this.writeBundle();
  }

  private async writeBundle(): Promise<void> {
    if (this.bundle.count === 0) return;
    const w = await this.writer(CHUNK_DATA);
    const members = this.bundle.take();
    this.codec ??= new ChunkCodec();
    const stored = this.codec.compressTransientSync(BUNDLE_SPEC, members.raw);
    writeBundle(w, members, stored && { codec: CODEC_IDS.zstd, stored });
    await w.drain();
  }

  private async writer(type: number): Promise<PackWriter> {
    let w = this.writers.get(type);
    if (!w) this.writers.set(type, (w = await PackWriter.open(this.store.storage, this.stages)));
    return w;
  }

  /** True when a new pack has reached the target size: time to seal and swap. */
  get full(): boolean {
    for (const w of this.writers.values()) if (w.size >= PACK_TARGET_BYTES) return true;
    return false;
  }

  /** Seals every new pack (durable and visible under its id, not yet indexed). */
  async seal(): Promise<SealedPack[]> {
    await this.writeBundle();
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
    this.bundle.take();
    for (const w of this.writers.values()) await w.abort();
    this.writers.clear();
  }
}
