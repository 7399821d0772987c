/**
 * Bundles (formats/store.md §7.6): several small data chunks compressed as one record. Pure:
 * the bundle's id, a member record's payload (the pointer to its bundle), and the checks a
 * reader makes before it decodes a bundle for a member. Readers that do the I/O: bundle-cache.ts.
 *
 * Why bundles: a chunk compressed alone pays zstd's per-frame costs (a frame header, entropy
 * tables built from a few KiB, a context reset) and finds no matches beyond its own bytes. The
 * bench's real set has 29,251 files under 64 KiB: 32.1 MiB compressed one by one in ~560 ms,
 * 24.3 MiB in 64 KiB bundles in ~350 ms, and they decompress in 92 ms instead of 258.
 */
import { FormatError } from '../errors/index.js';
import { blake3 } from '../hash/blake3.js';
import { MAX_CODEC_ID } from '../codec/codec-ids.js';
import type { PackEntry } from './pack-codec.js';
import { BUNDLE_MAX_RAW, BUNDLE_MEMBER_PAYLOAD_BYTES, CHUNK_BUNDLE, PACK_HEADER_BYTES, RECORD_HEADER_BYTES } from './store-layout.js';

/** Where a member's bytes are: its bundle record begins `back` bytes before the member's record, and the member at `at` in the bundle's raw bytes. */
export interface MemberPointer { back: number; at: number }

/** A member record's payload. */
export function encodeMemberPayload(p: MemberPointer): Buffer {
  const b = Buffer.allocUnsafe(BUNDLE_MEMBER_PAYLOAD_BYTES);
  b.writeUInt32LE(p.back, 0);
  b.writeUInt32LE(p.at, 4);
  return b;
}

/**
 * The pointer in the payload of the member record at `offset` of a pack; throws FormatError when
 * it cannot be one (a bundle record lies after the pack header and ends at or before the member).
 */
export function decodeMemberPayload(payload: Uint8Array, offset: number): MemberPointer {
  if (payload.byteLength !== BUNDLE_MEMBER_PAYLOAD_BYTES) throw new FormatError(`bundle member at offset ${offset}: payload of ${payload.byteLength} bytes, not ${BUNDLE_MEMBER_PAYLOAD_BYTES}`);
  const v = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const p = { back: v.readUInt32LE(0), at: v.readUInt32LE(4) };
  if (p.back < RECORD_HEADER_BYTES || p.back > offset - PACK_HEADER_BYTES) throw new FormatError(`bundle member at offset ${offset}: its bundle would begin ${p.back} bytes before it, outside the records`);
  return p;
}

/**
 * The id of a bundle record: BLAKE3-256 of its members' ids in order. Why not of its bytes: a
 * bundle is never looked up by id (no tree names one, the index does not hold them), so the id
 * only has to name it; hashing 32 bytes a member costs nothing, hashing the bytes again would.
 */
export function bundleId(memberIds: readonly Uint8Array[]): Buffer {
  const all = Buffer.allocUnsafe(memberIds.length * 32);
  memberIds.forEach((id, i) => all.set(id, i * 32));
  return blake3().hash(all);
}

/**
 * Checks the header of the bundle record a member points at before it is decoded for a member
 * of `rawLength` bytes: a bundle, of a codec that is not itself a pointer, no larger than
 * BUNDLE_MAX_RAW (what one member's read may decode), ending at or before the member's record,
 * and holding the member's bytes. Throws FormatError naming the member's offset.
 */
export function checkBundleHeader(h: PackEntry, memberOffset: number, p: MemberPointer, rawLength: number): void {
  const bad = (why: string): never => { throw new FormatError(`bundle member at offset ${memberOffset}: the record ${p.back} bytes before it ${why}`); };
  if (h.type !== CHUNK_BUNDLE) bad(`is not a bundle (type ${h.type})`);
  if (h.codec > MAX_CODEC_ID) bad(`has codec ${h.codec}`);
  if (h.rawLength > BUNDLE_MAX_RAW) bad(`holds ${h.rawLength} bytes, more than a bundle may (${BUNDLE_MAX_RAW})`);
  if (RECORD_HEADER_BYTES + h.storedLength > p.back) bad('overlaps the member');
  if (p.at + rawLength > h.rawLength) bad(`holds ${h.rawLength} bytes, not the member's ${rawLength} at ${p.at}`);
}
