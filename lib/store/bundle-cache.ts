/**
 * Reading a member of a bundle (formats/store.md §7.6): its record's payload points back at the
 * bundle record; that record is read, checked, decoded, and the member's bytes are sliced out
 * and verified against the member's id. The last bundle decoded is kept: members are written
 * right after their bundle, in the order a tree lists its files, so a restore meets a bundle's
 * members one after the other and decodes each bundle once.
 *
 * Limits: one bundle is kept (at most BUNDLE_MAX_RAW bytes), and a member's bytes are a view of
 * it. By default a bundle's buffer is never reused, so a view stays valid for as long as it is
 * held. `reuse` (a restore worker, which writes or copies a member's bytes before it reads the
 * next chunk) decodes every bundle into one buffer: a new one per bundle, freed only when the
 * heap is collected, grew a full restore's peak RSS by ~30 MiB.
 */
import { type ChunkCodec, CODEC_IDS } from '../codec/codec.js';
import { IntegrityError } from '../errors/index.js';
import { blake3 } from '../hash/blake3.js';
import { checkBundleHeader, decodeMemberPayload, type MemberPointer } from './bundle-codec.js';
import type { RecordPlace } from './chunk-verify.js';
import { decodeRecordHeader } from './pack-codec.js';
import { RECORD_HEADER_BYTES } from './store-layout.js';

/** Reads `length` bytes of the pack at `at`: the bundle record, then the records between it and the member. */
export type RegionRead<T> = (at: number, length: number) => T;

const short = (id: Uint8Array) => Buffer.from(id).toString('hex').slice(0, 16);

export class BundleCache {
  private where = '';
  private at = -1;
  private raw: Uint8Array | null = null;
  private space: Buffer | null = null;

  constructor(private readonly codec: ChunkCodec, private readonly reuse = false) {}

  /** The verified bytes of member `id`, whose record at place.offset of pack `where` has `payload`. */
  memberSync(where: string, id: Uint8Array, place: RecordPlace, payload: Uint8Array, read: RegionRead<Buffer>): Uint8Array {
    return this.guard(where, id, place, () => {
      const p = decodeMemberPayload(payload, place.offset);
      const at = place.offset - p.back;
      if (!this.holds(where, at)) this.decode(where, at, place, p, read(at, p.back));
      return this.slice(where, id, place, p);
    });
  }

  /** memberSync for a pack read asynchronously. */
  async member(where: string, id: Uint8Array, place: RecordPlace, payload: Uint8Array, read: RegionRead<Promise<Buffer>>): Promise<Uint8Array> {
    let p!: MemberPointer;
    let at = 0;
    this.guard(where, id, place, () => { p = decodeMemberPayload(payload, place.offset); at = place.offset - p.back; });
    if (!this.holds(where, at)) {
      const region = await read(at, p.back);
      this.guard(where, id, place, () => this.decode(where, at, place, p, region));
    }
    return this.guard(where, id, place, () => this.slice(where, id, place, p));
  }

  private holds(where: string, at: number): boolean {
    return this.raw !== null && this.at === at && this.where === where;
  }

  private decode(where: string, at: number, place: RecordPlace, p: MemberPointer, region: Buffer): void {
    this.raw = null;
    const h = decodeRecordHeader(region.subarray(0, RECORD_HEADER_BYTES), at);
    checkBundleHeader(h, place.offset, p, place.rawLength);
    const stored = region.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + h.storedLength);
    // Never a view of `region`: the caller may reuse it (a restore worker's read buffer).
    let into: Buffer | undefined;
    if (this.reuse) into = this.space = this.space && this.space.length >= h.rawLength ? this.space : Buffer.allocUnsafeSlow(Math.max(h.rawLength, 1 << 17));
    if (h.codec !== CODEC_IDS.none) this.raw = this.codec.decompressSync(h.codec, stored, h.rawLength, into);
    else if (into) { into.set(stored); this.raw = into.subarray(0, stored.byteLength); } else this.raw = Uint8Array.prototype.slice.call(stored);
    this.where = where;
    this.at = at;
  }

  private slice(where: string, id: Uint8Array, place: RecordPlace, p: MemberPointer): Uint8Array {
    const bytes = this.raw!.subarray(p.at, p.at + place.rawLength);
    if (!blake3().hash(bytes).equals(id)) {
      throw new IntegrityError(`${where}: chunk ${short(id)} at offset ${place.offset} is damaged (hash mismatch in its bundle)`, { path: where, offset: place.offset });
    }
    return bytes;
  }

  /** Runs `fn`; a format or codec failure becomes the IntegrityError a damaged chunk gets (chunk-verify.ts). */
  private guard<T>(where: string, id: Uint8Array, place: RecordPlace, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof IntegrityError) throw err;
      throw new IntegrityError(`${where}: chunk ${short(id)} at offset ${place.offset} is damaged (${(err as Error).message})`, { path: where, offset: place.offset });
    }
  }
}
