/**
 * Checking a chunk read from a pack: the record header must name the chunk the index promised,
 * and the decompressed bytes must hash to the chunk id. Shared by the store (main thread) and
 * the restore workers, so a damaged chunk is reported the same way wherever it is found.
 */
import type { ChunkCodec } from '../codec/codec.js';
import { IntegrityError } from '../errors/index.js';
import { blake3 } from '../hash/blake3.js';
import { decodeRecordHeader } from './pack-codec.js';
import { BUNDLE_MAX_RAW, RECORD_HEADER_BYTES } from './store-layout.js';

export interface RecordPlace { offset: number; storedLength: number; rawLength: number; codec: number }

const short = (id: Uint8Array) => Buffer.from(id).toString('hex').slice(0, 16);

/** The payload of record `rec` (header + payload) read at place.offset of pack `where`. */
export function checkRecord(where: string, id: Uint8Array, place: RecordPlace, rec: Buffer): Buffer {
  const header = decodeRecordHeader(rec.subarray(0, RECORD_HEADER_BYTES), place.offset);
  if (!header.id.equals(id) || header.storedLength !== place.storedLength) {
    throw new IntegrityError(`${where}: record at offset ${place.offset} is not chunk ${short(id)} (damaged pack or stale index; try 'fxcp store rebuild-index')`,
      { path: where, offset: place.offset });
  }
  return rec.subarray(RECORD_HEADER_BYTES);
}

/** Decompresses a stored payload and verifies it against the chunk id. */
export async function decodeVerified(codec: ChunkCodec, where: string, id: Uint8Array, place: RecordPlace, stored: Uint8Array, into?: Buffer): Promise<Uint8Array> {
  return decodeVerifiedSync(codec, where, id, place, stored, into);
}

/** decodeVerified without a promise (a restore worker's per-chunk loop). */
export function decodeVerifiedSync(codec: ChunkCodec, where: string, id: Uint8Array, place: RecordPlace, stored: Uint8Array, into?: Buffer): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = codec.decompressSync(place.codec, stored, place.rawLength, into);
  } catch (err) {
    throw new IntegrityError(`${where}: chunk ${short(id)} at offset ${place.offset} is damaged (${(err as Error).message})`, { path: where, offset: place.offset });
  }
  if (!blake3().hash(raw).equals(id)) {
    throw new IntegrityError(`${where}: chunk ${short(id)} at offset ${place.offset} is damaged (hash mismatch)`, { path: where, offset: place.offset });
  }
  return raw;
}

/**
 * A bundle record's payload (formats/store.md §7.6) decodes to its raw length. Its id names its
 * members, not its bytes, so the bytes are verified through the members that point at it.
 */
export function verifyBundleRecord(codec: ChunkCodec, where: string, place: RecordPlace & { id: Uint8Array }, stored: Uint8Array): void {
  try {
    if (place.rawLength > BUNDLE_MAX_RAW) throw new Error(`it holds ${place.rawLength} bytes, more than a bundle may (${BUNDLE_MAX_RAW})`);
    codec.decompressSync(place.codec, stored, place.rawLength);
  } catch (err) {
    throw new IntegrityError(`${where}: bundle ${short(place.id)} at offset ${place.offset} is damaged (${(err as Error).message})`, { path: where, offset: place.offset });
  }
}
