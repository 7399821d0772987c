/**
 * What kind of archive a byte stream holds, from its first bytes (by content, never by file
 * name): ours, Foxing's (Rust) FXAR, a compressed stream (zstd, gzip, xz, lz4 frame) that
 * may hold a tar, or a plain tar ("ustar" at offset 257). Pure.
 */
import { FOXING_MAGIC, FXAR_MAGIC } from './fxar-layout.js';

export type ArchiveKind = 'fxar' | 'foxing-fxar' | 'zstd' | 'gzip' | 'xz' | 'lz4' | 'tar' | 'unknown';

/** Bytes a caller should have (when the stream is that long) for sniffArchiveKind to decide. */
export const SNIFF_BYTES = 512;

const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const GZIP = [0x1f, 0x8b];
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const LZ4 = [0x04, 0x22, 0x4d, 0x18];

const starts = (b: Uint8Array, m: readonly number[]) => b.length >= m.length && m.every((x, i) => b[i] === x);

export function sniffArchiveKind(b: Uint8Array): ArchiveKind {
  // Our magic's 8 bytes include CR LF ^Z LF: a text-mode mangled copy still starts 0x89 "FXN"
  // and is called ours, so that the reader can say it is mangled rather than "unknown".
  if (starts(b, [...FXAR_MAGIC.subarray(0, 4)])) return 'fxar';
  if (starts(b, [...FOXING_MAGIC])) return 'foxing-fxar';
  if (starts(b, ZSTD)) return 'zstd';
  if (starts(b, GZIP)) return 'gzip';
  if (starts(b, XZ)) return 'xz';
  if (starts(b, LZ4)) return 'lz4';
  if (b.length >= 262 && Buffer.from(b.buffer, b.byteOffset + 257, 5).toString('latin1') === 'ustar') return 'tar';
  return 'unknown';
}
