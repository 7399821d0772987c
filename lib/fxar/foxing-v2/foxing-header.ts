/**
 * Foxing's 64-byte header and 32-byte `FXAF` footer: decoded, checked, and what each says about
 * where the sections are. Pure: bytes in, values out.
 *
 * Two header modes exist in real archives (formats/foxing-fxar-v2.md §Header modes):
 * - seekable (written to a file): every offset and size filled in;
 * - streamed (written to stdout): the placeholder the writer emitted first, offsets and sizes 0,
 *   followed at the end by the footer. The reference's own seekable reader cannot read these.
 * Either way the sections sit back to back from byte 64, so the reader parses front to back and
 * treats the header's offsets and the footer as hints it checks, never as the only source.
 */
import { FormatError } from '../../errors/index.js';
import {
  FOOTER_BYTES, FOOTER_MAGIC_TEXT, FOXING_CODEC_NAMES, FOXING_MAGIC_TEXT, FOXING_VERSION, type FoxingCodec, H_CHUNK_AVG,
  H_CHUNK_COUNT, H_CHUNK_MAX, H_CHUNK_MIN, H_FLAGS, H_INDEX_OFFSET, H_INDEX_SIZE, H_MANIFEST_OFFSET, H_MANIFEST_SIZE,
  H_VERSION, HEADER_BYTES,
} from './foxing-layout.js';

export interface FoxingHeader {
  codec: FoxingCodec;
  chunkMin: number;
  chunkMax: number;
  chunkAvg: number;
  /** The u64 fields; 0 in a streamed archive's placeholder (chunkCount excepted). */
  indexOffset: number;
  indexSize: number;
  manifestOffset: number;
  manifestSize: number;
  chunkCount: number;
  /** Offsets and sizes all 0: the placeholder of a streamed export. */
  streamed: boolean;
}

export interface FoxingFooter { manifestOffset: number; indexOffset: number; chunkCount: number; checksum: number }

/** A u64 as a safe integer, or FORMAT naming the field (no archive here is 2^53 bytes long). */
function u64(b: Buffer, at: number, where: string, field: string): number {
  const v = b.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`${where}: Foxing archive header field ${field} is ${v}, beyond any archive's size`, { path: where, field }, 'FORMAT');
  return Number(v);
}

export function isFoxingMagic(b: Uint8Array): boolean {
  return b.length >= 4 && Buffer.from(b.buffer, b.byteOffset, 4).toString('latin1') === FOXING_MAGIC_TEXT;
}

export function decodeHeader(b: Buffer, where: string): FoxingHeader {
  if (b.length < HEADER_BYTES) {
    throw new FormatError(`${where}: Foxing archive is truncated (${b.length} bytes, its header alone is ${HEADER_BYTES})`, { path: where, offset: 0 }, 'TRUNCATED');
  }
  if (!isFoxingMagic(b)) throw new FormatError(`${where}: not a Foxing archive (no "FXAR" magic)`, { path: where }, 'NOT_AN_ARCHIVE');
  const version = b.readUInt32LE(H_VERSION);
  if (version !== FOXING_VERSION) {
    throw new FormatError(`${where}: Foxing FXAR version ${version}; only version ${FOXING_VERSION} can be read`, { path: where, version }, version > FOXING_VERSION ? 'NEWER_VERSION' : 'FORMAT');
  }
  const flags = b.readUInt32LE(H_FLAGS);
  const codec = FOXING_CODEC_NAMES[flags];
  if (codec === undefined) throw new FormatError(`${where}: Foxing archive names unknown codec ${flags} (0 none, 1 zstd, 2 lz4, 3 gzip, 4 xz)`, { path: where, flags }, 'FORMAT');
  const h: FoxingHeader = {
    codec,
    chunkMin: b.readUInt32LE(H_CHUNK_MIN),
    chunkMax: b.readUInt32LE(H_CHUNK_MAX),
    chunkAvg: b.readUInt32LE(H_CHUNK_AVG),
    indexOffset: u64(b, H_INDEX_OFFSET, where, 'index_offset'),
    indexSize: u64(b, H_INDEX_SIZE, where, 'index_size'),
    manifestOffset: u64(b, H_MANIFEST_OFFSET, where, 'manifest_offset'),
    manifestSize: u64(b, H_MANIFEST_SIZE, where, 'manifest_size'),
    chunkCount: u64(b, H_CHUNK_COUNT, where, 'chunk_count'),
    streamed: false,
  };
  h.streamed = h.indexOffset === 0 && h.indexSize === 0 && h.manifestOffset === 0 && h.manifestSize === 0;
  return h;
}

/**
 * The footer checksum as the reference computes it: a wrapping u32 sum (its comment says XOR;
 * its code adds) of the four magic bytes (70+88+65+70 = 293) and the low and high 32-bit halves
 * of the three u64 fields.
 */
export function footerChecksum(manifestOffset: number, indexOffset: number, chunkCount: number): number {
  let sum = 0;
  for (const c of FOOTER_MAGIC_TEXT) sum += c.charCodeAt(0);
  for (const v of [manifestOffset, indexOffset, chunkCount]) sum += (v >>> 0) + Math.floor(v / 2 ** 32);
  return sum >>> 0;
}

/** The footer in the last 32 bytes of `b`, or null when they do not start `FXAF` or do not check. */
export function decodeFooter(b: Buffer): FoxingFooter | null {
  if (b.length !== FOOTER_BYTES || b.toString('latin1', 0, 4) !== FOOTER_MAGIC_TEXT) return null;
  const big = (at: number) => b.readBigUInt64LE(at);
  if (big(4) > BigInt(Number.MAX_SAFE_INTEGER) || big(12) > BigInt(Number.MAX_SAFE_INTEGER) || big(20) > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  const f = { manifestOffset: Number(big(4)), indexOffset: Number(big(12)), chunkCount: Number(big(20)), checksum: b.readUInt32LE(28) };
  return footerChecksum(f.manifestOffset, f.indexOffset, f.chunkCount) === f.checksum ? f : null;
}
