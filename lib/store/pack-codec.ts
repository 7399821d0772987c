/**
 * Encoding and decoding of pack headers, record headers and trailers (formats/store.md §Pack).
 * Pure: buffers in, values out. Every decoder checks lengths and magics and throws FormatError
 * naming what is wrong; the caller adds the path.
 */
import { FormatError, IntegrityError } from '../errors/index.js';
import { blake3 } from '../hash/blake3.js';
import {
  PACK_HEADER_BYTES, PACK_MAGIC, PACK_VERSION, RECORD_HEADER_BYTES, TRAILER_ENTRY_BYTES, TRAILER_MAGIC,
  TRAILER_TAIL_BYTES,
} from './store-layout.js';

export interface PackEntry {
  id: Buffer;
  type: number;
  codec: number;
  rawLength: number;
  storedLength: number;
  /** Offset of the record header in the pack; the payload follows it. */
  offset: number;
}

export function encodePackHeader(): Buffer {
  const b = Buffer.alloc(PACK_HEADER_BYTES);
  PACK_MAGIC.copy(b, 0);
  b.writeUInt16LE(PACK_VERSION, 4);
  return b;
}

export function checkPackHeader(b: Uint8Array): void {
  if (b.byteLength < PACK_HEADER_BYTES || !PACK_MAGIC.equals(b.subarray(0, 4))) throw new FormatError('not a pack (bad magic)');
  const version = Buffer.from(b.buffer, b.byteOffset, b.byteLength).readUInt16LE(4);
  if (version > PACK_VERSION) throw new FormatError(`pack version ${version} is newer than this fxcp supports (${PACK_VERSION}); upgrade fxcp`, {}, 'NEWER_VERSION');
  if (version < 1) throw new FormatError(`bad pack version ${version}`);
}

export function encodeRecordHeader(e: Omit<PackEntry, 'offset'>): Buffer {
  const b = Buffer.alloc(RECORD_HEADER_BYTES);
  e.id.copy(b, 0);
  b[32] = e.type;
  b[33] = e.codec;
  b.writeUInt32LE(e.rawLength, 36);
  b.writeUInt32LE(e.storedLength, 40);
  return b;
}

export function decodeRecordHeader(b: Buffer, offset: number): PackEntry {
  if (b.byteLength < RECORD_HEADER_BYTES) throw new FormatError(`truncated record header at offset ${offset}`);
  return {
    id: Buffer.from(b.subarray(0, 32)), type: b[32], codec: b[33],
    rawLength: b.readUInt32LE(36), storedLength: b.readUInt32LE(40), offset,
  };
}

/** Trailer = entries, then the fixed tail that points to them and checksums them. */
export function encodeTrailer(entries: PackEntry[], entriesOffset: number): { trailer: Buffer; checksum: Buffer } {
  const body = Buffer.alloc(entries.length * TRAILER_ENTRY_BYTES);
  entries.forEach((e, i) => {
    const o = i * TRAILER_ENTRY_BYTES;
    e.id.copy(body, o);
    body[o + 32] = e.type;
    body[o + 33] = e.codec;
    body.writeUInt32LE(e.rawLength, o + 36);
    body.writeUInt32LE(e.storedLength, o + 40);
    body.writeUInt32LE(e.offset, o + 44);
  });
  const checksum = blake3().hash(body);
  const tail = Buffer.alloc(TRAILER_TAIL_BYTES);
  tail.writeUInt32LE(entries.length, 0);
  tail.writeBigUInt64LE(BigInt(entriesOffset), 4);
  checksum.copy(tail, 12);
  TRAILER_MAGIC.copy(tail, 44);
  return { trailer: Buffer.concat([body, tail]), checksum };
}

export interface TrailerTail { count: number; entriesOffset: number; checksum: Buffer }

export function decodeTrailerTail(tail: Buffer, packSize: number): TrailerTail {
  if (tail.byteLength !== TRAILER_TAIL_BYTES || !TRAILER_MAGIC.equals(tail.subarray(44, 48))) {
    throw new FormatError('pack trailer missing or damaged (bad trailer magic; the pack may be truncated)', {}, 'TRUNCATED');
  }
  const count = tail.readUInt32LE(0);
  const entriesOffset = Number(tail.readBigUInt64LE(4));
  if (entriesOffset < PACK_HEADER_BYTES || entriesOffset + count * TRAILER_ENTRY_BYTES + TRAILER_TAIL_BYTES !== packSize) {
    throw new FormatError(`pack trailer inconsistent with pack size ${packSize}`);
  }
  return { count, entriesOffset, checksum: Buffer.from(tail.subarray(12, 44)) };
}

export function decodeTrailerEntries(body: Buffer, tail: TrailerTail): PackEntry[] {
  if (!blake3().hash(body).equals(tail.checksum)) throw new IntegrityError('pack trailer checksum mismatch');
  const out: PackEntry[] = [];
  let end = 0;
  for (let i = 0; i < tail.count; i++) {
    const o = i * TRAILER_ENTRY_BYTES;
    const e: PackEntry = {
      id: Buffer.from(body.subarray(o, o + 32)), type: body[o + 32], codec: body[o + 33],
      rawLength: body.readUInt32LE(o + 36), storedLength: body.readUInt32LE(o + 40), offset: body.readUInt32LE(o + 44),
    };
    if (e.offset < Math.max(end, PACK_HEADER_BYTES) || e.offset + RECORD_HEADER_BYTES + e.storedLength > tail.entriesOffset) {
      throw new FormatError(`pack trailer entry ${i} points outside the records area`);
    }
    end = e.offset + RECORD_HEADER_BYTES + e.storedLength;
    out.push(e);
  }
  return out;
}

/** The pack id: BLAKE3 of the trailer entries, which name every chunk the pack holds. */
export function packIdFromChecksum(checksum: Buffer): string {
  return checksum.toString('hex');
}
