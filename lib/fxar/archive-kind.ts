/**
 * What kind of archive a byte stream holds, from its first bytes (by content, never by file
 * name): ours, Foxing's (Rust) FXAR, a compressed stream (zstd, gzip, xz, lz4 frame) that
 * may hold a tar, or a plain tar ("ustar" at offset 257). Pure. The one magic sniffer: snap
 * import, inspect, restore and the FXAR reader ask sniffArchiveKind, tar import asks
 * sniffCompression (lib/tar/tar-compress.ts detectCompression).
 */
import { FormatError } from '../errors/index.js';
import { FOXING_MAGIC, FXAR_MAGIC } from './fxar-layout.js';

export type ArchiveKind = 'fxar' | 'foxing-fxar' | 'zstd' | 'gzip' | 'xz' | 'lz4' | 'tar' | 'unknown';

/** Bytes a caller should have (when the stream is that long) for sniffArchiveKind to decide. */
export const SNIFF_BYTES = 512;

const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const GZIP = [0x1f, 0x8b];
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const LZ4 = [0x04, 0x22, 0x4d, 0x18];
const BZIP2 = [0x42, 0x5a, 0x68]; // "BZh": recognised only to be refused by name

const starts = (b: Uint8Array, m: readonly number[]) => b.length >= m.length && m.every((x, i) => b[i] === x);

export function sniffArchiveKind(b: Uint8Array): ArchiveKind {
  // Our magic's 8 bytes include CR LF ^Z LF: a text-mode mangled copy still starts 0x89 "FXN"
  // and is called ours, so that the reader can say it is mangled rather than "unknown".
  if (starts(b, [...FXAR_MAGIC.subarray(0, 4)])) return 'fxar';
  if (starts(b, [...FOXING_MAGIC])) return 'foxing-fxar';
  const compression = sniffCompression(b);
  if (compression !== null && compression !== 'bzip2') return compression;
  if (b.length >= 262 && Buffer.from(b.buffer, b.byteOffset + 257, 5).toString('latin1') === 'ustar') return 'tar';
  return 'unknown';
}

/** The whole-stream compression `b` starts with, or null (bzip2 is named, to be refused as such). */
export function sniffCompression(b: Uint8Array): 'zstd' | 'gzip' | 'xz' | 'lz4' | 'bzip2' | null {
  if (starts(b, ZSTD)) return 'zstd';
  if (starts(b, GZIP)) return 'gzip';
  if (starts(b, XZ)) return 'xz';
  if (starts(b, LZ4)) return 'lz4';
  if (starts(b, BZIP2)) return 'bzip2';
  return null;
}

/** The tar kinds: a plain tar, or a whole-stream compressed one (tar import unpacks these). */
export function isTarKind(kind: ArchiveKind): boolean {
  return kind === 'tar' || kind === 'zstd' || kind === 'gzip' || kind === 'xz' || kind === 'lz4';
}

/**
 * Throws a clear error unless `kind` is an FXAR v2 archive of ours: our format's readers need one.
 * A tar or a Foxing archive is named as such, with what to do with it instead.
 */
export function requireFxar(kind: ArchiveKind, where: string, empty = false): void {
  if (kind === 'fxar') return;
  requireKnown(kind, where, empty);
  if (kind === 'foxing-fxar') {
    // Only a reader of our format gets here with one (the commands send Foxing archives to lib/fxar/foxing-v2).
    throw new FormatError(`${where}: is a Foxing (Rust) FXAR v2 archive, not fxcp's FXAR v2; read it with 'fxcp snap inspect', 'snap import' or 'snap restore'`, { path: where }, 'FOXING_ARCHIVE');
  }
  const what = kind === 'tar' ? 'a tar archive' : `${kind}-compressed data (a compressed tar?)`;
  throw new FormatError(`${where}: is ${what}, not FXAR v2; import it with 'fxcp snap import', or extract it with tar`, { path: where, kind }, 'NOT_FXAR');
}

/**
 * Throws for an empty input or bytes that are neither FXAR (ours or Foxing's) nor tar. A Foxing
 * archive passes: snap import, inspect and restore read it (lib/fxar/foxing-v2).
 */
export function requireKnown(kind: ArchiveKind, where: string, empty = false): void {
  if (empty) throw new FormatError(`${where}: is empty, not an archive`, { path: where }, 'NOT_AN_ARCHIVE');
  if (kind === 'unknown') throw new FormatError(`${where}: not an archive fxcp knows (neither FXAR v2 nor tar)`, { path: where }, 'NOT_AN_ARCHIVE');
}
