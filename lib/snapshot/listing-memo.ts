/**
 * Listing memos: what lets `snap create` skip an unchanged directory without reading its tree.
 *
 * A snapshot of an unchanged source still has to lstat every entry (that is how it knows), but
 * it need not load, decompress, verify and decode the previous snapshot's tree of every
 * directory to compare against. For each tree it writes, the archiver records in the index
 * (store-index.ts, database `listing-memos`; formats/store.md §11) a memo keyed by the tree id:
 *
 *   - a 128-bit fingerprint of the directory listing the tree was made from: for each entry,
 *     in name order, every field the tree records that comes from lstat/readlink (name, type,
 *     mode, uid, gid, size, the three times as recorded, dev, ino, nlink, rdev, symlink target);
 *   - the tree ids of its subdirectories, in name order.
 *
 * Next time, the same fingerprint over the fresh listing means every file, symlink and special
 * entry is unchanged by the same rule that reuses a file's chunks (same size, mtime, ctime and
 * inode; xattrs are kept when inode and ctime match), so only the subdirectories need walking,
 * each with its memoised tree id as parent; when all of them come back with their old ids, the
 * directory's tree is the old tree, id and all. Anything else falls back to loading the tree.
 *
 * Why the fields are a function of the tree alone: a memo is only written when the tree holds
 * exactly the listed entries (no entry dropped for an error), so memo(tree) depends on the
 * tree's bytes, not on the run that wrote it: a memo can never be stale, only missing (an
 * index rebuilt, a store written by an older fxcp), and then the slow path runs. Pure: bytes in,
 * bytes out.
 */
import { blake3 } from '../hash/blake3.js';
import type { EntryType, FileMeta } from '../fs/file-meta.js';
import { STAT_BIG_BYTES, type ScannedDir } from '../fs/scan-dir.js';
import { ByteReader } from '../util/byte-reader.js';
import { ENTRY_TYPE_CODES, ENTRY_TYPES_BY_CODE } from './tree-entry.js';

/** Bumped when the fingerprinted fields change: old memos then simply never match. */
const FINGERPRINT_VERSION = 1;
/** Bumped when the memo's layout changes (2: subtree totals); other versions decode as none. */
const MEMO_VERSION = 2;
const TOTALS_BYTES = 5 * 8;
const FINGERPRINT_BYTES = 16;
const ID_BYTES = 32;

/**
 * What a tree holds below it, all the way down (the directory itself not counted): what a
 * snapshot that reuses the tree without listing it (ArchiveOptions.changedDirs) adds to its
 * figures. A function of the tree alone, like the fingerprint.
 */
export interface SubtreeTotals { files: number; dirs: number; symlinks: number; others: number; bytes: number }

export interface ListingMemo {
  fingerprint: Buffer;
  /** Tree ids of the subdirectories, in name order. */
  subtrees: Buffer[];
  /** Null when a subdirectory's memo lacked its totals (written by an older fxcp, or rebuilt). */
  totals: SubtreeTotals | null;
}

/** A listed entry: captured metadata (FileMeta) or a tree's entry (TreeEntry), same fields. */
export type ListedEntry = Pick<FileMeta, 'name' | 'type' | 'mode' | 'uid' | 'gid' | 'size' | 'atimeNs' | 'mtimeNs' | 'ctimeNs' | 'dev' | 'ino' | 'nlink' | 'rdev' | 'linkTarget'>;

/**
 * The atime a tree records. Files are read with O_NOATIME, so theirs is what the user left. A
 * directory's atime is changed by our own listing (and a symlink's by reading it), so recording
 * it would make every snapshot's trees differ from the last one's and defeat tree dedup: for
 * those the mtime is recorded instead, and restored as the atime. (Applying it to a tree's
 * entry changes nothing: it is already recorded that way.)
 */
export function recordedAtime(e: Pick<FileMeta, 'type' | 'atimeNs' | 'mtimeNs'>): bigint {
  return e.type === 'dir' || e.type === 'symlink' ? e.mtimeNs : e.atimeNs;
}

const FIXED = 1 + 4 * 3 + 8 + 8 * 5 + 4 * 2 + 2 + 4;

/**
 * Appends one entry's fingerprinted fields at `p` and returns the new end. Its five 64-bit
 * fields are copied from `src` (little-endian): mtime at `mtimeAt`, the recorded atime at
 * `atimeAt`, then ctime, dev, ino as 24 bytes at `restAt`.
 */
function putEntry(b: Buffer, p: number, type: EntryType, mode: number, uid: number, gid: number, size: number,
  src: Uint8Array, mtimeAt: number, atimeAt: number, restAt: number, nlink: number, rdev: number, name: Buffer, link: Buffer | undefined): number {
  p = b.writeUInt8(ENTRY_TYPE_CODES[type], p);
  p = b.writeUInt32LE(mode, p);
  p = b.writeUInt32LE(uid, p);
  p = b.writeUInt32LE(gid, p);
  // A directory's tree records size 0, whatever lstat says.
  if (type === 'dir') size = 0;
  p = b.writeUInt32LE(size % 0x1_0000_0000, p);
  p = b.writeUInt32LE(Math.floor(size / 0x1_0000_0000), p);
  // Byte loops, not set(subarray(...)): a view object per field, per entry, cost more than the copy.
  for (let k = 0; k < 8; k++) b[p + k] = src[mtimeAt + k];
  for (let k = 0; k < 8; k++) b[p + 8 + k] = src[atimeAt + k];
  for (let k = 0; k < 24; k++) b[p + 16 + k] = src[restAt + k];
  p += 40;
  p = b.writeUInt32LE(nlink, p);
  p = b.writeUInt32LE(rdev, p);
  p = b.writeUInt16LE(name.length, p);
  p += name.copy(b, p);
  p = b.writeUInt32LE(link ? link.length + 1 : 0, p);
  if (link) p += link.copy(b, p);
  return p;
}

function digest(b: Buffer, end = b.length): Buffer {
  return blake3().hash(b.subarray(0, end)).subarray(0, FINGERPRINT_BYTES);
}

// The five 64-bit fields go through one typed array: it converts a bigint modulo 2^64 without
// the allocations Buffer.writeBigInt64LE makes (this runs once per entry of every directory).
const times = new BigInt64Array(5);
const timeBytes = new Uint8Array(times.buffer);

export function listingFingerprint(entries: readonly ListedEntry[]): Buffer {
  return digest(listingPrint(entries));
}

/**
 * The bytes listingFingerprint hashes. With `at` (entries.length + 1 long), where each entry's
 * bytes begin, and the end: a tree held between snapshots (held-tree.ts) splices them.
 */
export function listingPrint(entries: readonly ListedEntry[], at?: Uint32Array): Buffer {
  let total = 1;
  for (const e of entries) total += FIXED + e.name.length + (e.linkTarget?.length ?? 0);
  const b = Buffer.allocUnsafe(total);
  let p = b.writeUInt8(FINGERPRINT_VERSION, 0);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (at) at[i] = p;
    times[0] = e.mtimeNs; times[1] = recordedAtime(e); times[2] = e.ctimeNs; times[3] = e.dev; times[4] = e.ino;
    p = putEntry(b, p, e.type, e.mode, e.uid, e.gid, e.size, timeBytes, 0, 8, 16, e.nlink, e.rdev, e.name, e.linkTarget);
  }
  if (at) at[entries.length] = p;
  return b.subarray(0, p);
}

/**
 * listingPrint of the entries of tree `tree` (its bytes as tree-codec.ts encodes them; `at`:
 * where each entry begins, one more: the end, from treeLayout or encodeTree), read straight
 * from the bytes: the same print (tested), without decoding the entries. The framing must have
 * been checked (treeLayout); a value the print cannot hold throws, as listingPrint does.
 */
export function encodedListingPrint(tree: Buffer, at: Uint32Array, printAt?: Uint32Array): Buffer {
  const n = at.length - 1;
  let total = 1;
  // An entry's print is at most FIXED + its encoding's length (the name and link target are in both).
  for (let i = 0; i < n; i++) total += FIXED + at[i + 1] - at[i];
  const b = Buffer.allocUnsafe(total);
  let p = b.writeUInt8(FINGERPRINT_VERSION, 0);
  const r = new ByteReader(tree, 'tree');
  for (let i = 0; i < n; i++) {
    if (printAt) printAt[i] = p;
    r.pos = at[i];
    const name = r.lbytes();
    const type = ENTRY_TYPES_BY_CODE[r.u8()] ?? r.fail('unknown entry type');
    const flags = r.u8();
    const mode = r.uvarint(), uid = r.uvarint(), gid = r.uvarint(), size = r.uvarint();
    // mtime, atime, ctime (zigzag), dev, ino: 64-bit little-endian, as BigInt64Array stores them.
    for (let k = 0; k < 5; k++) r.pos = u64At(tree, r.pos, words, k * 2, k < 3);
    const nlink = r.uvarint();
    const rdev = flags & 1 ? r.uvarint() : 0;
    const link = flags & 2 ? r.lbytes() : undefined;
    p = putEntry(b, p, type, mode, uid, gid, size, wordBytes, 0, type === 'dir' || type === 'symlink' ? 0 : 8, 16, nlink, rdev, name, link);
  }
  if (printAt) printAt[n] = p;
  return b.subarray(0, p);
}

const words = new Uint32Array(10);
const wordBytes = new Uint8Array(words.buffer);

/**
 * Reads a varint of up to 64 bits at `p` into words[w] (low half) and words[w + 1], zigzag
 * decoded when `signed`; returns the position after it. Two 32-bit halves, no BigInt.
 */
function u64At(b: Buffer, p: number, out: Uint32Array, w: number, signed: boolean): number {
  let lo = 0, hi = 0;
  for (let shift = 0; ; shift += 7) {
    const x = b[p++];
    const v = x & 0x7f;
    if (shift < 28) lo |= v << shift;
    else if (shift === 28) { lo |= (v & 0xf) << 28; hi |= v >>> 4; } else hi |= v << (shift - 32);
    if (x < 0x80) break;
  }
  if (signed) {
    const neg = lo & 1;
    lo = (lo >>> 1) | (hi << 31);
    hi >>>= 1;
    if (neg) { lo = ~lo; hi = ~hi; }
  }
  out[w] = lo >>> 0;
  out[w + 1] = hi >>> 0;
  return p;
}

/** The fingerprint of listingPrint's bytes. */
export function printFingerprint(print: Buffer): Buffer {
  return digest(print);
}

/**
 * listingFingerprint of entries `indices` of a scan, read straight from its packed fields (the
 * same bytes, so the same fingerprint: tested), without building FileMeta objects. Every listed
 * entry must have been stat'ed and be of a known type; `linkTargets` holds each symlink's
 * target, by index.
 */
export function scannedListingFingerprint(scan: ScannedDir, indices: readonly number[], linkTargets: ReadonlyMap<number, Buffer>): Buffer {
  let total = 1;
  for (const i of indices) total += FIXED + scan.nameLength(i) + (linkTargets.get(i)?.length ?? 0);
  const b = Buffer.allocUnsafe(total);
  const raw = scan.timeBytes;
  let p = b.writeUInt8(FINGERPRINT_VERSION, 0);
  for (const i of indices) {
    const type = scan.type(i)!;
    const link = linkTargets.get(i);
    const at = i * STAT_BIG_BYTES;
    // Packed order is atime, mtime, ctime, dev, ino.
    const atimeAt = type === 'dir' || type === 'symlink' ? at + 8 : at;
    // As metaFromStats and completeMeta: a symlink's size is its target's length; only files keep st_size.
    const size = type === 'file' ? scan.rawSize(i) : type === 'symlink' ? link!.length : 0;
    const rdev = type === 'chardev' || type === 'blockdev' ? scan.rawRdev(i) : 0;
    p = putEntry(b, p, type, scan.mode(i), scan.uid(i), scan.gid(i), size, raw, at + 8, atimeAt, at + 16, scan.nlink(i), rdev, scan.name(i), link);
  }
  return digest(b, p);
}

const TOTAL_FIELDS = ['files', 'dirs', 'symlinks', 'others', 'bytes'] as const;

export function encodeListingMemo(m: ListingMemo): Buffer {
  const totals = Buffer.alloc(m.totals ? 1 + TOTALS_BYTES : 1);
  if (m.totals) {
    totals[0] = 1;
    TOTAL_FIELDS.forEach((f, k) => totals.writeBigUInt64LE(BigInt(m.totals![f]), 1 + k * 8));
  }
  return Buffer.concat([Buffer.from([MEMO_VERSION]), m.fingerprint, totals, ...m.subtrees]);
}

/** Null for anything but a well-formed memo of this version (then the slow path runs). Views `b`. */
export function decodeListingMemo(b: Uint8Array | undefined): ListingMemo | null {
  if (!b || b.length < 2 + FINGERPRINT_BYTES || b[0] !== MEMO_VERSION) return null;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const flag = buf[1 + FINGERPRINT_BYTES];
  if (flag > 1) return null;
  const idsAt = 2 + FINGERPRINT_BYTES + (flag === 1 ? TOTALS_BYTES : 0);
  if (buf.length < idsAt || (buf.length - idsAt) % ID_BYTES !== 0) return null;
  let totals: SubtreeTotals | null = null;
  if (flag === 1) {
    const t = { files: 0, dirs: 0, symlinks: 0, others: 0, bytes: 0 };
    TOTAL_FIELDS.forEach((f, k) => { t[f] = Number(buf.readBigUInt64LE(2 + FINGERPRINT_BYTES + k * 8)); });
    totals = t;
  }
  const subtrees: Buffer[] = [];
  for (let p = idsAt; p < buf.length; p += ID_BYTES) subtrees.push(buf.subarray(p, p + ID_BYTES));
  return { fingerprint: buf.subarray(1, 1 + FINGERPRINT_BYTES), subtrees, totals };
}
