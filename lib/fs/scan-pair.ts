/**
 * A copy's two listings of one directory (its source and its destination, scan-dir.ts) paired:
 * each source entry's index in the destination listing, and which source entries the quick
 * check finds unchanged, decided for the whole directory at once. The walk then skips those
 * entries without a call each, and --delete learns whether the destination has anything the
 * source does not name.
 *
 * "Unchanged" is exactly FileCopier.packed's rule for leaving a file alone (copy-file.ts): both
 * sides regular files that could be stat'ed, the same size and modification time (ns), and
 * with `perms` the same permission bits, with `owner` the same uid and gid; with `noXattrs` a
 * source whose xattr list is known to be empty; with `oneLink` a source with one link only (a
 * hard-link group member goes the general way). Anything else is left to the walk.
 *
 * With the addon this is one native call per directory (native/src/stat_dir.cc: pairScans; per
 * entry in JavaScript it was ~3 us, most of an unchanged re-run's own time); without it the
 * portable loop below gives the same answer (test/fs/scan-pair.test.ts compares the two).
 *
 * Memory: 4 + 64 bytes per source entry, for the directory being walked.
 */
import { native } from '../native/load.js';
import { type ScannedDir, STAT_BIG_BYTES } from './scan-dir.js';

export interface PairRules {
  /** Flag unchanged entries at all (false: match names only; -c, -n). */
  same: boolean;
  perms: boolean;
  owner: boolean;
  noXattrs: boolean;
  /** Under noXattrs, a source whose xattr list was not sized passes too (the caller proves it has none, or sizes it and pairs again). */
  xattrsUnknown: boolean;
  oneLink: boolean;
}

export interface ScanPair {
  /** Per source entry: its destination index j; -1 when the destination has no such name; -2 - j when unchanged. */
  match: Int32Array;
  /** How many are unchanged, and their bytes. */
  same: number;
  sameBytes: number;
  /**
   * Per unchanged entry, in order, ID_BYTES: its destination identity (dev, ino, size, mtime,
   * ctime: 40 bytes little-endian, signatures.md §2), then its source's dev, ino and ctime.
   */
  ids: Buffer;
  /** Destination names that start with the temporary prefix. */
  temps: number;
  /** Destination entries that no source entry names. */
  unmatched: number;
}

const SAME = 1, PERMS = 2, OWNER = 4, NO_XATTRS = 8, ONE_LINK = 16, XATTRS_UNKNOWN = 32;

/** Bytes of one entry of `ids`, and of its destination identity at its start. */
export const ID_BYTES = 64;
export const DEST_ID_BYTES = 40;

function flagsOf(r: PairRules): number {
  return (r.same ? SAME : 0) | (r.perms ? PERMS : 0) | (r.owner ? OWNER : 0) | (r.noXattrs ? NO_XATTRS : 0) | (r.oneLink ? ONE_LINK : 0) | (r.xattrsUnknown ? XATTRS_UNKNOWN : 0);
}

/** Pairs `src` with `dst` under `rules`; `temp`: the prefix of temporaries counted in `temps`. */
export function pairScans(src: ScannedDir, dst: ScannedDir, rules: PairRules, temp: Buffer): ScanPair {
  return native ? nativePair(src, dst, rules, temp) : portablePair(src, dst, rules, temp);
}

function nativePair(src: ScannedDir, dst: ScannedDir, rules: PairRules, temp: Buffer): ScanPair {
  const match = new Int32Array(src.count), ids = Buffer.allocUnsafe(src.count * ID_BYTES), stats = new Float64Array(3);
  const same = native!.pairScans(src.packed, src.count, dst.packed, dst.count, flagsOf(rules), temp, match, ids, stats);
  return { match, same, sameBytes: stats[0], ids: ids.subarray(0, same * ID_BYTES), temps: stats[1], unmatched: stats[2] };
}

/** The same pairing in JavaScript (FOXING_NO_NATIVE=1, or no addon). */
export function portablePair(src: ScannedDir, dst: ScannedDir, rules: PairRules, temp: Buffer): ScanPair {
  const match = new Int32Array(src.count), ids = Buffer.alloc(src.count * ID_BYTES);
  let same = 0, sameBytes = 0, temps = 0, matched = 0;
  for (let j = 0; j < dst.count; j++) {
    const name = dst.name(j);
    if (name.length > temp.length && name.compare(temp, 0, temp.length, 0, temp.length) === 0) temps++;
  }
  let j = 0;
  for (let i = 0; i < src.count; i++) {
    let c = 1;
    while (j < dst.count && (c = src.compareName(i, dst, j)) > 0) j++;
    if (j === dst.count || c !== 0) { match[i] = -1; continue; }
    matched++;
    match[i] = j;
    if (!rules.same || !src.ok(i) || !dst.ok(j) || src.type(i) !== 'file' || dst.type(j) !== 'file') continue;
    if (rules.oneLink && src.nlink(i) > 1) continue;
    const xattrs = src.xattrBytes(i);
    if (rules.noXattrs && xattrs !== 0 && !(xattrs === -1 && rules.xattrsUnknown)) continue;
    if (src.rawSize(i) !== dst.rawSize(j) || !src.sameMtime(i, dst, j)) continue;
    if (rules.perms && src.mode(i) !== dst.mode(j)) continue;
    if (rules.owner && (src.uid(i) !== dst.uid(j) || src.gid(i) !== dst.gid(j))) continue;
    match[i] = -2 - j;
    const at = same * ID_BYTES;
    dst.identityInto(j, ids.subarray(at, at + DEST_ID_BYTES));
    ids.set(src.timeBytes.subarray(i * STAT_BIG_BYTES + 24, i * STAT_BIG_BYTES + 40), at + 40);
    ids.set(src.timeBytes.subarray(i * STAT_BIG_BYTES + 16, i * STAT_BIG_BYTES + 24), at + 56);
    same++;
    sameBytes += src.rawSize(i);
  }
  return { match, same, sameBytes, ids: ids.subarray(0, same * ID_BYTES), temps, unmatched: dst.count - matched };
}

/** A `match` value's destination index (-1: none). */
export function destOf(m: number): number {
  return m >= -1 ? m : -2 - m;
}
