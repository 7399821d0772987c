/**
 * Bundle members read one after another from a local store (an export walks them in the order
 * their files were stored). A member's record is 52 bytes (its header and an 8-byte pointer to
 * its bundle, formats/store.md §7.6), and the members of a bundle sit back to back after it: so
 * their records are read through a window of the pack, WINDOW_BYTES from the first one met,
 * instead of a pread each (~14 µs on the bench VM: 14 s of the 61 s of an export of 1,000,000
 * small files). The bundles themselves are decoded once each through a BundleCache, and every
 * member is checked against its id as Store.loadChunk checks it.
 *
 * Limit: the packs must not change while they are read. Sealed packs never do, and every chunk
 * the index names is in a sealed pack; a pack still being written is not read through this.
 */
import type { ChunkCodec } from '../codec/codec.js';
import type { ChunkLocation } from '../index/store-index.js';
import type { BlobStorage } from './blob-storage.js';
import { BundleCache } from './bundle-cache.js';
import { checkRecord } from './chunk-verify.js';
import { RECORD_HEADER_BYTES } from './store-layout.js';

/** Enough for the records of a bundle of 1,024 members (its writer's cap), 53 KiB. */
const WINDOW_BYTES = 64 << 10;

type SyncStorage = BlobStorage & Required<Pick<BlobStorage, 'readRangeSync' | 'sizeSync'>>;

export class MemberReader {
  private readonly bundles: BundleCache;
  private window: { packId: string; offset: number; bytes: Buffer } | null = null;
  private sized: { packId: string; size: number } | null = null;

  private constructor(private readonly storage: SyncStorage, codec: ChunkCodec) {
    this.bundles = new BundleCache(codec);
  }

  /** A reader for `storage`, or null where its reads are not local preads (a bucket). */
  static over(storage: BlobStorage, codec: ChunkCodec): MemberReader | null {
    return storage.readRangeSync && storage.sizeSync ? new MemberReader(storage as SyncStorage, codec) : null;
  }

  /** The verified bytes of bundle member `id` at `loc` (loc.codec is CODEC_BUNDLED); a view, valid while its bundle is held. */
  rawSync(id: Uint8Array, loc: ChunkLocation): Uint8Array {
    const where = this.storage.describe('pack', loc.packId);
    const payload = checkRecord(where, id, loc, this.record(loc));
    return this.bundles.memberSync(where, id, loc, payload, (at, length) => this.storage.readRangeSync('pack', loc.packId, at, length));
  }

  /** The member's record (header and payload), from the window when it holds it. */
  private record(loc: ChunkLocation): Buffer {
    const length = RECORD_HEADER_BYTES + loc.storedLength;
    let w = this.window;
    if (!w || w.packId !== loc.packId || loc.offset < w.offset || loc.offset + length > w.offset + w.bytes.length) {
      // Never past the pack's end: a short read is a truncated pack (readRangeSync's error).
      const size = this.packSize(loc.packId);
      const want = Math.max(length, Math.min(WINDOW_BYTES, size - loc.offset));
      w = this.window = { packId: loc.packId, offset: loc.offset, bytes: this.storage.readRangeSync('pack', loc.packId, loc.offset, want) };
    }
    return w.bytes.subarray(loc.offset - w.offset, loc.offset - w.offset + length);
  }

  private packSize(packId: string): number {
    if (this.sized?.packId !== packId) this.sized = { packId, size: this.storage.sizeSync('pack', packId) };
    return this.sized.size;
  }
}
