/**
 * The 512-byte tar header block (POSIX ustar, with the GNU and V7 variants a reader meets).
 * Pure: bytes in, fields out, and back. No I/O.
 *
 *   offset size field          offset size field
 *      0   100 name               257    6 magic ("ustar\0" POSIX, "ustar " GNU)
 *    100     8 mode               263    2 version ("00" POSIX, " \0" GNU)
 *    108     8 uid                265   32 uname
 *    116     8 gid                297   32 gname
 *    124    12 size               329    8 devmajor
 *    136    12 mtime              337    8 devminor
 *    148     8 chksum             345  155 prefix (POSIX only; GNU keeps atime/ctime there)
 *    156     1 typeflag           500   12 (padding)
 *    157   100 linkname
 *
 * Numbers are octal ASCII, or GNU base-256 (first byte 0x80 positive, 0xff negative) when they
 * do not fit. The checksum is the sum of all 512 bytes with the chksum field read as spaces;
 * old tars summed signed bytes, so both sums are accepted.
 */
import { FormatError } from '../errors/index.js';

export const BLOCK = 512;

export const TYPE = {
  file: 0x30, oldFile: 0x00, hardlink: 0x31, symlink: 0x32, chardev: 0x33, blockdev: 0x34,
  dir: 0x35, fifo: 0x36, contiguous: 0x37, pax: 0x78, paxGlobal: 0x67,
  gnuLongName: 0x4c, gnuLongLink: 0x4b, gnuSparse: 0x53, gnuVolume: 0x56, gnuMultiVol: 0x4d, gnuDumpDir: 0x44,
} as const;

export interface TarHeader {
  name: Buffer;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (may be negative). */
  mtime: number;
  typeflag: number;
  linkname: Buffer;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** 'posix' (ustar\0 00), 'gnu' (ustar  \0) or 'v7' (no magic). */
  flavour: 'posix' | 'gnu' | 'v7';
}

/** Largest value a ustar octal field of `width` bytes (with its terminator) can hold. */
export function octalMax(width: number): number {
  return 8 ** (width - 1) - 1;
}

/** True when a block is all zeros (the end-of-archive marker). */
export function isZeroBlock(b: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

function cstring(b: Uint8Array, off: number, len: number): Buffer {
  const f = Buffer.from(b.buffer, b.byteOffset + off, len);
  const z = f.indexOf(0);
  return Buffer.from(z < 0 ? f : f.subarray(0, z));
}

/**
 * Reads a numeric field. Octal digits may be preceded by spaces and end with a space or NUL;
 * anything else is a FormatError (a flipped byte in a size must not pass as a smaller size).
 */
export function readNumber(b: Uint8Array, off: number, len: number, what: string): number {
  const first = b[off];
  if (first === 0x80 || first === 0xff) {
    // Base-256, big-endian, two's complement for 0xff. Anything past 2^53 is absurd here.
    let v = 0;
    const neg = first === 0xff;
    for (let i = 1; i < len; i++) {
      const byte = neg ? 0xff - b[off + i] : b[off + i];
      v = v * 256 + byte;
      if (v > Number.MAX_SAFE_INTEGER) throw new FormatError(`${what} is too large`);
    }
    return neg ? -(v + 1) : v;
  }
  let i = off;
  const end = off + len;
  while (i < end && b[i] === 0x20) i++;
  let v = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = b[i];
    if (c >= 0x30 && c <= 0x37) { v = v * 8 + (c - 0x30); digits++; continue; }
    if (c === 0x20 || c === 0) break;
    throw new FormatError(`${what} is not an octal number`);
  }
  for (; i < end; i++) {
    if (b[i] !== 0x20 && b[i] !== 0) throw new FormatError(`${what} is not an octal number`);
  }
  return digits === 0 ? 0 : v;
}

function checksums(b: Uint8Array): { unsigned: number; signed: number } {
  let unsigned = 0, signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i];
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return { unsigned, signed };
}

/** True when the block's stored checksum matches (the test a content sniffer uses). */
export function checksumOk(b: Uint8Array): boolean {
  let stored: number;
  try { stored = readNumber(b, 148, 8, 'checksum'); } catch { return false; }
  const s = checksums(b);
  return stored === s.unsigned || stored === s.signed;
}

/** Decodes a header block (not a zero block). `where` names the archive offset for errors. */
export function decodeHeader(b: Uint8Array, where: string): TarHeader {
  if (b.length < BLOCK) throw new FormatError(`${where}: truncated header`);
  if (!checksumOk(b)) throw new FormatError(`${where}: header checksum mismatch (damaged or not a tar archive)`);
  const magic = Buffer.from(b.buffer, b.byteOffset + 257, 8).toString('latin1');
  const flavour = magic === 'ustar\u000000' ? 'posix' : magic === 'ustar  \u0000' ? 'gnu' : magic.startsWith('ustar') ? 'posix' : 'v7';
  const num = (off: number, len: number, field: string) => {
    try { return readNumber(b, off, len, field); } catch (err) { throw new FormatError(`${where}: ${(err as Error).message}`); }
  };
  let name = cstring(b, 0, 100);
  if (flavour === 'posix') {
    const prefix = cstring(b, 345, 155);
    if (prefix.length > 0) name = Buffer.concat([prefix, Buffer.from('/'), name]);
  }
  const typeflag = b[156];
  const h: TarHeader = {
    name,
    mode: num(100, 8, 'mode') & 0o7777,
    uid: num(108, 8, 'uid'),
    gid: num(116, 8, 'gid'),
    size: num(124, 12, 'size'),
    mtime: num(136, 12, 'mtime'),
    typeflag,
    linkname: cstring(b, 157, 100),
    uname: flavour === 'v7' ? '' : cstring(b, 265, 32).toString('utf8'),
    gname: flavour === 'v7' ? '' : cstring(b, 297, 32).toString('utf8'),
    devmajor: flavour === 'v7' ? 0 : num(329, 8, 'devmajor'),
    devminor: flavour === 'v7' ? 0 : num(337, 8, 'devminor'),
    flavour,
  };
  if (h.size < 0) throw new FormatError(`${where}: negative size`);
  if (h.uid < 0 || h.gid < 0) throw new FormatError(`${where}: negative uid or gid`);
  return h;
}

function writeNumber(b: Buffer, off: number, len: number, value: number): void {
  if (value >= 0 && value <= octalMax(len)) {
    b.write(value.toString(8).padStart(len - 1, '0'), off, len - 1, 'latin1');
    b[off + len - 1] = 0;
    return;
  }
  // GNU base-256: also what GNU tar writes, next to the pax record that carries the value.
  let v = BigInt(value);
  if (v < 0n) v = (1n << BigInt(8 * len)) + v;
  for (let i = len - 1; i >= 1; i--) { b[off + i] = Number(v & 0xffn); v >>= 8n; }
  b[off] = value < 0 ? 0xff : 0x80;
}

/** Fields of a header to encode; name/linkname must already fit (the writer checks). */
export interface HeaderFields {
  name: Buffer;
  prefix?: Buffer;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: number;
  linkname?: Buffer;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
}

/** Encodes a POSIX ustar header block. */
export function encodeHeader(f: HeaderFields): Buffer {
  const b = Buffer.alloc(BLOCK);
  if (f.name.length > 100 || (f.prefix?.length ?? 0) > 155 || (f.linkname?.length ?? 0) > 100) {
    throw new RangeError('tar header field too long');
  }
  f.name.copy(b, 0);
  writeNumber(b, 100, 8, f.mode & 0o7777);
  writeNumber(b, 108, 8, f.uid);
  writeNumber(b, 116, 8, f.gid);
  writeNumber(b, 124, 12, f.size);
  writeNumber(b, 136, 12, f.mtime);
  b[156] = f.typeflag;
  f.linkname?.copy(b, 157);
  b.write('ustar\u000000', 257, 8, 'latin1');
  b.write((f.uname ?? '').slice(0, 31), 265, 32, 'utf8');
  b.write((f.gname ?? '').slice(0, 31), 297, 32, 'utf8');
  writeNumber(b, 329, 8, f.devmajor ?? 0);
  writeNumber(b, 337, 8, f.devminor ?? 0);
  f.prefix?.copy(b, 345);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : b[i];
  b.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8, 'latin1');
  return b;
}

/**
 * Splits a path into ustar prefix and name (name ≤ 100 bytes, prefix ≤ 155, cut at a '/'), or
 * returns null when it cannot be split.
 */
export function splitUstarPath(path: Buffer): { prefix: Buffer; name: Buffer } | null {
  if (path.length <= 100) return { prefix: Buffer.alloc(0), name: path };
  if (path.length > 256) return null;
  for (let i = Math.min(155, path.length - 2); i > 0; i--) {
    if (path[i] === 0x2f && path.length - i - 1 <= 100 && path.length - i - 1 > 0) {
      return { prefix: path.subarray(0, i), name: path.subarray(i + 1) };
    }
  }
  return null;
}

/** Number of 512-byte blocks that hold `size` bytes of member data. */
export function dataBlocks(size: number): number {
  return Math.ceil(size / BLOCK);
}
