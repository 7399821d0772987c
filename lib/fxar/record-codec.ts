/**
 * Encoding and decoding of the fixed-size pieces of an FXAR v2 archive (formats/fxar-v2.md):
 * the header, record headers, index head and entries, and the footer. Pure: bytes in, values
 * out. Every decoder checks magic, check bytes and ranges and throws FormatError or
 * IntegrityError naming the piece and its offset; callers add the archive's path.
 */
import { FormatError, IntegrityError } from '../errors/index.js';
import { blake3 } from '../hash/blake3.js';
import {
  CHUNK_ENTRY_BYTES, FOOTER_BYTES, FOOTER_CHECKED_BYTES, FXAR_END_MAGIC, FXAR_MAGIC, FXAR_VERSION,
  HEADER_BYTES, INDEX_HEAD_BYTES, MAX_RECORD_BYTES, RECORD_CHECKED_BYTES, RECORD_HEADER_BYTES, REC_INDEX,
  REC_SNAPSHOT, SNAPSHOT_ENTRY_BYTES,
} from './fxar-layout.js';
import { requireFxar, sniffArchiveKind } from './archive-kind.js';
import { CODEC_IDS, MAX_CODEC_ID } from '../codec/codec-ids.js';

export interface RecordHeader {
  id: Buffer;
  type: number;
  codec: number;
  rawLength: number;
  storedLength: number;
}

export interface ChunkEntry extends RecordHeader {
  /** Offset of the chunk's record header in the archive. */
  offset: number;
}

export interface SnapshotEntry { id: Buffer; offset: number; length: number }

export interface Footer { indexOffset: number; archiveLength: number; version: number }

export interface IndexHead { chunkCount: number; snapshotCount: number }

const check4 = (b: Uint8Array) => blake3().hash(b).subarray(0, 4);

export function encodeHeader(): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  FXAR_MAGIC.copy(b, 0);
  b.writeUInt16LE(FXAR_VERSION, 8);
  check4(b.subarray(0, 12)).copy(b, 12);
  return b;
}

/** Throws unless `b` (at least HEADER_BYTES) is an FXAR v2 header this reader can read. */
export function checkHeader(b: Buffer, where: string): void {
  const n = Math.min(4, b.length);
  if (n === 0 || !b.subarray(0, n).equals(FXAR_MAGIC.subarray(0, n))) requireFxar(sniffArchiveKind(b), where, b.length === 0);
  if (b.length < HEADER_BYTES) throw new FormatError(`${where}: truncated archive (${b.length} bytes, shorter than the ${HEADER_BYTES}-byte header)`, { path: where }, 'TRUNCATED');
  if (!b.subarray(0, 8).equals(FXAR_MAGIC)) {
    throw new FormatError(`${where}: archive header is mangled (line endings changed by a text-mode transfer?)`, { path: where }, 'NOT_AN_ARCHIVE');
  }
  if (!check4(b.subarray(0, 12)).equals(b.subarray(12, 16))) throw new IntegrityError(`${where}: archive header is damaged (check bytes do not match)`, { path: where });
  const version = b.readUInt16LE(8);
  if (version > FXAR_VERSION) throw new FormatError(`${where}: archive format version ${version} is newer than this fxcp supports (${FXAR_VERSION})`, { path: where }, 'NEWER_VERSION');
  if (version !== FXAR_VERSION) throw new FormatError(`${where}: archive format version ${version} is not supported (this fxcp reads ${FXAR_VERSION})`, { path: where });
  if (b.readUInt16LE(10) !== 0) throw new FormatError(`${where}: archive header has unknown flags ${b.readUInt16LE(10)}`, { path: where });
}

export function encodeRecordHeader(h: RecordHeader): Buffer {
  const b = Buffer.alloc(RECORD_HEADER_BYTES);
  h.id.copy(b, 0);
  b[32] = h.type;
  b[33] = h.codec;
  b.writeUInt32LE(h.rawLength, 36);
  b.writeUInt32LE(h.storedLength, 40);
  check4(b.subarray(0, RECORD_CHECKED_BYTES)).copy(b, RECORD_CHECKED_BYTES);
  return b;
}

/**
 * Decodes and checks a record header read at `offset`. The check bytes come first: a flipped
 * length must never make a reader skip or allocate by a wrong amount.
 */
export function decodeRecordHeader(b: Buffer, offset: number, where: string): RecordHeader {
  if (b.length < RECORD_HEADER_BYTES) throw new FormatError(`${where}: truncated record header at offset ${offset}`, { path: where, offset }, 'TRUNCATED');
  if (!check4(b.subarray(0, RECORD_CHECKED_BYTES)).equals(b.subarray(RECORD_CHECKED_BYTES, RECORD_HEADER_BYTES))) {
    throw new IntegrityError(`${where}: record header at offset ${offset} is damaged (check bytes do not match)`, { path: where, offset });
  }
  const h = { id: Buffer.from(b.subarray(0, 32)), type: b[32], codec: b[33], rawLength: b.readUInt32LE(36), storedLength: b.readUInt32LE(40) };
  const bad = (what: string): never => { throw new FormatError(`${where}: record at offset ${offset}: ${what}`, { path: where, offset }); };
  if (h.type > REC_INDEX) bad(`unknown record type ${h.type}`);
  if (h.codec > MAX_CODEC_ID) bad(`unknown codec id ${h.codec}`);
  if (b.readUInt16LE(34) !== 0) bad('reserved bytes are not zero');
  if (h.type !== REC_INDEX && (h.rawLength > MAX_RECORD_BYTES || h.storedLength > MAX_RECORD_BYTES)) bad(`length over the ${MAX_RECORD_BYTES}-byte limit`);
  if ((h.type >= REC_SNAPSHOT || h.codec === CODEC_IDS.none) && (h.codec !== CODEC_IDS.none || h.storedLength !== h.rawLength)) bad('stored and raw lengths differ for an uncompressed record');
  return h;
}

export function encodeIndexHead(h: IndexHead): Buffer {
  const b = Buffer.alloc(INDEX_HEAD_BYTES);
  b.writeUInt32LE(h.chunkCount, 0);
  b.writeUInt32LE(h.snapshotCount, 4);
  b.writeUInt16LE(CHUNK_ENTRY_BYTES, 8);
  b.writeUInt16LE(SNAPSHOT_ENTRY_BYTES, 10);
  return b;
}

export function decodeIndexHead(b: Buffer, where: string): IndexHead {
  if (b.readUInt16LE(8) !== CHUNK_ENTRY_BYTES || b.readUInt16LE(10) !== SNAPSHOT_ENTRY_BYTES || b.readUInt32LE(12) !== 0) {
    throw new FormatError(`${where}: index head is damaged (entry sizes ${b.readUInt16LE(8)}/${b.readUInt16LE(10)})`, { path: where });
  }
  return { chunkCount: b.readUInt32LE(0), snapshotCount: b.readUInt32LE(4) };
}

export function indexLength(h: IndexHead): number {
  return INDEX_HEAD_BYTES + 1024 + h.chunkCount * CHUNK_ENTRY_BYTES + h.snapshotCount * SNAPSHOT_ENTRY_BYTES;
}

export function encodeChunkEntry(e: ChunkEntry, b: Buffer = Buffer.alloc(CHUNK_ENTRY_BYTES), at = 0): Buffer {
  e.id.copy(b, at);
  b.writeBigUInt64LE(BigInt(e.offset), at + 32);
  b.writeUInt32LE(e.rawLength, at + 40);
  b.writeUInt32LE(e.storedLength, at + 44);
  b[at + 48] = e.type;
  b[at + 49] = e.codec;
  b.fill(0, at + 50, at + 56);
  return b;
}

export function decodeChunkEntry(b: Buffer, at: number): ChunkEntry {
  return {
    id: Buffer.from(b.subarray(at, at + 32)), offset: Number(b.readBigUInt64LE(at + 32)),
    rawLength: b.readUInt32LE(at + 40), storedLength: b.readUInt32LE(at + 44), type: b[at + 48], codec: b[at + 49],
  };
}

export function encodeSnapshotEntry(e: SnapshotEntry): Buffer {
  const b = Buffer.alloc(SNAPSHOT_ENTRY_BYTES);
  e.id.copy(b, 0);
  b.writeBigUInt64LE(BigInt(e.offset), 32);
  b.writeUInt32LE(e.length, 40);
  return b;
}

export function decodeSnapshotEntry(b: Buffer, at: number): SnapshotEntry {
  return { id: Buffer.from(b.subarray(at, at + 32)), offset: Number(b.readBigUInt64LE(at + 32)), length: b.readUInt32LE(at + 40) };
}

export function encodeFooter(f: Omit<Footer, 'version'>): Buffer {
  const b = Buffer.alloc(FOOTER_BYTES);
  b.writeBigUInt64LE(BigInt(f.indexOffset), 0);
  b.writeBigUInt64LE(BigInt(f.archiveLength), 8);
  b.writeUInt16LE(FXAR_VERSION, 16);
  check4(b.subarray(0, FOOTER_CHECKED_BYTES)).copy(b, FOOTER_CHECKED_BYTES);
  FXAR_END_MAGIC.copy(b, 24);
  return b;
}

export function decodeFooter(b: Buffer, where: string): Footer {
  if (b.length !== FOOTER_BYTES || !b.subarray(24).equals(FXAR_END_MAGIC)) {
    throw new FormatError(`${where}: archive is truncated or incomplete (no footer at its end)`, { path: where }, 'TRUNCATED');
  }
  if (!check4(b.subarray(0, FOOTER_CHECKED_BYTES)).equals(b.subarray(FOOTER_CHECKED_BYTES, 24))) {
    throw new IntegrityError(`${where}: archive footer is damaged (check bytes do not match)`, { path: where });
  }
  const f = { indexOffset: Number(b.readBigUInt64LE(0)), archiveLength: Number(b.readBigUInt64LE(8)), version: b.readUInt16LE(16) };
  if (f.version !== FXAR_VERSION) throw new FormatError(`${where}: footer names format version ${f.version}, header ${FXAR_VERSION}`, { path: where });
  if (b.readUInt16LE(18) !== 0) throw new FormatError(`${where}: footer reserved bytes are not zero`, { path: where });
  return f;
}

const short = (id: Uint8Array) => Buffer.from(id).toString('hex').slice(0, 16);

/**
 * The payload of chunk record `rec` (header + payload) read where the index said chunk `id`
 * is. A damaged index entry is caught here: the checked record header must name the same
 * chunk with the same lengths and codec.
 */
export function checkArchiveRecord(where: string, id: Uint8Array, place: { offset: number; storedLength: number; rawLength: number; codec: number }, rec: Buffer): Buffer {
  const h = decodeRecordHeader(rec.subarray(0, RECORD_HEADER_BYTES), place.offset, where);
  if (!h.id.equals(id) || h.type > 1 || h.storedLength !== place.storedLength || h.rawLength !== place.rawLength || h.codec !== place.codec) {
    throw new IntegrityError(`${where}: record at offset ${place.offset} is not chunk ${short(id)} (damaged archive index)`, { path: where, offset: place.offset, chunk: Buffer.from(id).toString('hex') });
  }
  if (rec.length !== RECORD_HEADER_BYTES + h.storedLength) throw new FormatError(`${where}: truncated record at offset ${place.offset}`, { path: where, offset: place.offset }, 'TRUNCATED');
  return rec.subarray(RECORD_HEADER_BYTES);
}
