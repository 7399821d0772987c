/**
 * Reading a member of a bundle (formats/store.md §7.6): its record's payload points back at the
 * bundle record; that record is read, checked, decoded, and the member's bytes are sliced out
 * and verified against the member's id. The last SLOTS bundles decoded are kept, so a restore,
 * which meets a bundle's members in runs, decodes each bundle about once.
 *
 * Limits: SLOTS bundles are kept (each at most BUNDLE_MAX_RAW bytes), and a member's bytes are a
 * view of one. By default a bundle's buffer is never reused, so a view stays valid for as long
 * as it is held. `reuse` (a restore or check worker, which writes, copies or hashes a member's
 * bytes before it reads the next chunk) decodes into the buffers of bundles no longer kept: a
 * new buffer per bundle, freed only when the heap is collected, grew a full restore's peak RSS
 * by ~30 MiB.
 */
import { type ChunkCodec, CODEC_IDS } from '../codec/codec.js';
import { FormatError, IntegrityError } from '../errors/index.js';
import { blake3 } from '../hash/blake3.js';
import { checkBundleHeader, decodeMemberPayload, type MemberPointer } from './bundle-codec.js';
import type { RecordPlace } from './chunk-verify.js';
import { decodeRecordHeader } from './pack-codec.js';
import { BUNDLE_TARGET_RAW, BUNDLE_MEMBER_MAX, RECORD_HEADER_BYTES } from './store-layout.js';

/** A reused buffer holds any bundle this fxcp writes. */
const BUNDLE_BUFFER = BUNDLE_TARGET_RAW + BUNDLE_MEMBER_MAX;

/** Reads `length` bytes of the pack at `at`: the bundle record, then the records between it and the member. */
export type RegionRead<T> = (at: number, length: number) => T;

const short = (id: Uint8Array) => Buffer.from(id).toString('hex').slice(0, 16);

/**
 * Bundles kept decoded. Why more than one: a pack's bundles each hold the files one chunk worker
 * stored, and a restore meets the tree's files in order, so it takes runs of members from the
 * bundles of two (or more) workers in turn; with one bundle kept, a full restore of the bench's
 * real set decoded each bundle about five times.
 */
const SLOTS = 8;

export class BundleCache {
  /** Decoded bundles by `offset@pack`, the least recently used first. */
  private readonly held = new Map<string, Uint8Array>();
  /** With `reuse`: the buffers of bundles no longer held. */
  private readonly spare: Buffer[] = [];

  constructor(private readonly codec: ChunkCodec, private readonly reuse = false) {}

  /** The verified bytes of member `id`, whose record at place.offset of pack `where` has `payload`. */
  memberSync(where: string, id: Uint8Array, place: RecordPlace, payload: Uint8Array, read: RegionRead<Buffer>): Uint8Array {
    return this.guard(where, id, place, () => {
      const p = decodeMemberPayload(payload, place.offset);
      const at = place.offset - p.back;
      const raw = this.lookup(where, at) ?? this.decode(where, at, place, p, read(at, p.back));
      return this.slice(where, id, place, p, raw);
    });
  }

  /** memberSync for a pack read asynchronously. */
  async member(where: string, id: Uint8Array, place: RecordPlace, payload: Uint8Array, read: RegionRead<Promise<Buffer>>): Promise<Uint8Array> {
    let p!: MemberPointer;
    let at = 0;
    this.guard(where, id, place, () => { p = decodeMemberPayload(payload, place.offset); at = place.offset - p.back; });
    let raw = this.lookup(where, at);
    if (!raw) {
      const region = await read(at, p.back);
      raw = this.guard(where, id, place, () => this.decode(where, at, place, p, region));
    }
    const bundle = raw;
    return this.guard(where, id, place, () => this.slice(where, id, place, p, bundle));
  }

  private lookup(where: string, at: number): Uint8Array | undefined {
    const key = `${at}@${where}`;
    const raw = this.held.get(key);
    if (raw) { this.held.delete(key); this.held.set(key, raw); }
    return raw;
  }

  private decode(where: string, at: number, place: RecordPlace, p: MemberPointer, region: Buffer): Uint8Array {
    const h = decodeRecordHeader(region.subarray(0, RECORD_HEADER_BYTES), at);
    checkBundleHeader(h, place.offset, p, place.rawLength);
    const stored = region.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + h.storedLength);
    if (this.held.size >= SLOTS) {
      const [oldest, old] = this.held.entries().next().value as [string, Uint8Array];
      this.held.delete(oldest);
      // The whole buffer, not the view of the bundle's length (allocUnsafeSlow: its own ArrayBuffer).
      if (this.reuse) this.spare.push(Buffer.from(old.buffer, old.byteOffset, old.buffer.byteLength - old.byteOffset));
    }
    let into: Buffer | undefined;
    if (this.reuse) {
      into = this.spare.pop();
      if (!into || into.length < h.rawLength) into = Buffer.allocUnsafeSlow(Math.max(h.rawLength, BUNDLE_BUFFER));
    }
    // Never a view of `region`: the caller may reuse it (a restore worker's read buffer).
    let raw: Uint8Array;
    if (h.codec !== CODEC_IDS.none) raw = this.codec.decompressSync(h.codec, stored, h.rawLength, into);
    else if (into) { into.set(stored); raw = into.subarray(0, stored.byteLength); } else raw = Uint8Array.prototype.slice.call(stored);
    this.held.set(`${at}@${where}`, raw);
    return raw;
  }

  private slice(where: string, id: Uint8Array, place: RecordPlace, p: MemberPointer, raw: Uint8Array): Uint8Array {
    // Checked again for a bundle already held: another member may claim more than it holds.
    if (p.at + place.rawLength > raw.byteLength) throw new FormatError(`bundle member at offset ${place.offset}: its bundle holds ${raw.byteLength} bytes, not ${place.rawLength} at ${p.at}`);
    const bytes = raw.subarray(p.at, p.at + place.rawLength);
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
