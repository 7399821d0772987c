/**
 * The open bundle of one pack writer (formats/store.md §7.6): the new small chunks it was given,
 * their bytes back to back in one buffer, until the bundle is written (WorkerPacker). Members
 * are under BUNDLE_MEMBER_MAX bytes and a bundle is written once it holds BUNDLE_TARGET_RAW,
 * so the buffer never grows: one per writer, reused.
 */
import { CODEC_BUNDLED } from '../codec/codec-ids.js';
import { bundleId, encodeMemberPayload } from './bundle-codec.js';
import type { PackWriter } from './pack-writer.js';
import { BUNDLE_MAX_MEMBERS, BUNDLE_MEMBER_MAX, BUNDLE_TARGET_RAW, CHUNK_BUNDLE, CHUNK_DATA } from './store-layout.js';

/** A bundle's bytes as stored: their codec id and payload, or null to store them raw. The payload may be a view the encoder reuses. */
export type EncodedBundle = { codec: number; stored: Uint8Array } | null;

export interface BundleMembers {
  ids: Buffer[];
  lengths: number[];
  /** The members' bytes back to back: a view of the bundler's buffer, valid until the next add. */
  raw: Buffer;
}

export class ChunkBundler {
  private readonly buf = Buffer.allocUnsafeSlow(BUNDLE_TARGET_RAW + BUNDLE_MEMBER_MAX);
  private size = 0;
  private ids: Buffer[] = [];
  private lengths: number[] = [];

  get count(): number { return this.ids.length; }

  /** True once the bundle holds BUNDLE_TARGET_RAW bytes or BUNDLE_MAX_MEMBERS members: the caller writes it. */
  get full(): boolean { return this.size >= BUNDLE_TARGET_RAW || this.ids.length >= BUNDLE_MAX_MEMBERS; }

  /** Copies a new chunk of fewer than BUNDLE_MEMBER_MAX bytes into the bundle (the caller writes a full one first). */
  add(id: Buffer, chunk: Uint8Array): void {
    if (chunk.byteLength >= BUNDLE_MEMBER_MAX || this.full) throw new RangeError(`bundle member of ${chunk.byteLength} bytes does not fit`);
    this.buf.set(chunk, this.size);
    this.size += chunk.byteLength;
    this.ids.push(id);
    this.lengths.push(chunk.byteLength);
  }

  /** The members so far, and an empty bundle from now on. */
  take(): BundleMembers {
    const out = { ids: this.ids, lengths: this.lengths, raw: this.buf.subarray(0, this.size) };
    this.ids = [];
    this.lengths = [];
    this.size = 0;
    return out;
  }
}

/**
 * Appends bundle `m` to `pack`: the bundle record (its bytes as `encoded`), then one member
 * record per member, in member order, so a pack never separates a bundle from its members (it
 * may pass its limits by a bundle). A bundle of one member, or one that did not compress
 * (`encoded` null), is written as ordinary records.
 * Returns the payload bytes written.
 */
export function writeBundle(pack: PackWriter, m: BundleMembers, encoded: EncodedBundle): number {
  if (encoded === null || m.ids.length === 1) {
    // Bytes that do not compress gain nothing from a bundle, which would only add its record.
    if (encoded !== null) pack.add(m.ids[0], CHUNK_DATA, encoded.codec, m.raw.byteLength, encoded.stored);
    else for (let i = 0, at = 0; i < m.ids.length; at += m.lengths[i++]) pack.add(m.ids[i], CHUNK_DATA, 0, m.lengths[i], m.raw.subarray(at, at + m.lengths[i]));
    return encoded?.stored.byteLength ?? m.raw.byteLength;
  }
  const { codec, stored } = encoded;
  const bundleAt = pack.size;
  pack.add(bundleId(m.ids), CHUNK_BUNDLE, codec, m.raw.byteLength, stored);
  let written = stored.byteLength;
  let at = 0;
  for (let i = 0; i < m.ids.length; i++) {
    const payload = encodeMemberPayload({ back: pack.size - bundleAt, at });
    pack.add(m.ids[i], CHUNK_DATA, CODEC_BUNDLED, m.lengths[i], payload);
    written += payload.byteLength;
    at += m.lengths[i];
  }
  return written;
}
