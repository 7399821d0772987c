/**
 * Scanning one directory: its entries in byte order (as listDirSync gives them), each with its
 * lstat fields, kept packed (a ScannedDir) until a caller asks for an entry's FileMeta.
 *
 * With the native addon the scan is one call per directory (statDir: getdents, then fstatat
 * relative to the open directory), filling arrays this module reuses from call to call; without
 * it, readdir plus one Node lstat per entry fills the same arrays. Both give the same entries
 * and the same metadata (test/fs/scan-dir.test.ts compares them).
 *
 * Why packed: a snapshot of an unchanged tree lstats every entry but needs almost none of them
 * as objects. It fingerprints each directory's listing straight from these arrays
 * (listing-memo.ts) and only builds FileMeta objects for subdirectories, or for a directory
 * whose listing changed. Building every entry's FileMeta (five bigints, a path, a name) was
 * most of an unchanged snapshot's time.
 *
 * Limits: as listDir, a whole directory is held at once. An entry that cannot be stat'ed (it
 * vanished, or permission) comes back with its error, and the others still come back; the
 * error is re-read through captureMetaSync so it says exactly what Node's lstat says.
 */
import { lstatSync } from 'node:fs';
import { native } from '../native/load.js';
import { captureMetaSync, completeMetaSync, entryTypeOf, metaFromStats, type CaptureOptions } from './capture-meta.js';
import type { EntryType, FileMeta } from './file-meta.js';
import { fsError } from './fs-error.js';
import { joinPath } from './fs-path.js';
import { listDirSync } from './list-dir.js';
import type { ToolkitError } from '../errors/index.js';

export type ScannedEntry =
  | { name: Buffer; path: Buffer; meta: FileMeta; error?: undefined }
  | { name: Buffer; path: Buffer; meta?: undefined; error: ToolkitError };

/** Per entry: NUMS numbers (errno, mode, uid, gid, size, nlink, rdev, blocks, xattr list bytes) ... */
const NUMS = 9;
/** ... and BIGS int64s (atime, mtime, ctime in ns, dev, ino), as native statDir packs them. */
const BIGS = 5;
/** Bytes of one entry's int64s, in `timeBytes`. */
export const STAT_BIG_BYTES = BIGS * 8;

/**
 * Bytes of a packed scan of `count` entries whose names total `nameBytes`: count * NUMS
 * doubles, count * BIGS int64s, count uint32 name ends, the names (native statDir's layout).
 */
function packedBytes(count: number, nameBytes: number): number {
  return count * (NUMS * 8 + BIGS * 8 + 4) + nameBytes;
}

/** One directory's entries as packed lstat fields (see the header); entry(i) builds a FileMeta. */
export class ScannedDir {
  /** The int64s as bytes (little-endian): entry i's atime, mtime, ctime, dev, ino at i * 40. */
  readonly timeBytes: Uint8Array;
  private readonly nums: Float64Array;
  private readonly bigs: BigInt64Array;
  private readonly ends: Uint32Array;
  private readonly names: Buffer;

  /** `packed`: `count` entries in native statDir's layout, at an 8-byte aligned offset (pairScans reads it whole). */
  constructor(readonly dir: Buffer, readonly count: number, readonly packed: Buffer) {
    const at = packed.byteOffset, bigsAt = count * NUMS * 8, endsAt = bigsAt + count * BIGS * 8;
    this.nums = new Float64Array(packed.buffer, at, count * NUMS);
    this.bigs = new BigInt64Array(packed.buffer, at + bigsAt, count * BIGS);
    this.timeBytes = packed.subarray(bigsAt, endsAt);
    this.ends = new Uint32Array(packed.buffer, at + endsAt, count);
    this.names = packed.subarray(endsAt + count * 4);
  }

  name(i: number): Buffer {
    return this.names.subarray(i === 0 ? 0 : this.ends[i - 1], this.ends[i]);
  }

  nameLength(i: number): number {
    return this.ends[i] - (i === 0 ? 0 : this.ends[i - 1]);
  }

  entryPath(i: number): Buffer { return joinPath(this.dir, this.name(i)); }

  /** Entry i's name against entry j's of `other` in byte order (<0: i's first), allocating nothing. */
  compareName(i: number, other: ScannedDir, j: number): number {
    return this.names.compare(other.names, j === 0 ? 0 : other.ends[j - 1], other.ends[j], i === 0 ? 0 : this.ends[i - 1], this.ends[i]);
  }

  /** Whether entry i and entry j of `other` have the same modification time, to the nanosecond. */
  sameMtime(i: number, other: ScannedDir, j: number): boolean {
    const a = this.timeBytes, b = other.timeBytes, x = i * STAT_BIG_BYTES + 8, y = j * STAT_BIG_BYTES + 8;
    for (let k = 0; k < 8; k++) if (a[x + k] !== b[y + k]) return false;
    return true;
  }

  atimeNs(i: number): bigint { return this.bigs[i * BIGS]; }
  mtimeNs(i: number): bigint { return this.bigs[i * BIGS + 1]; }
  ctimeNs(i: number): bigint { return this.bigs[i * BIGS + 2]; }
  /** st_blocks (512-byte units). */
  blocks(i: number): number { return this.nums[i * NUMS + 7]; }

  /** False when lstat failed for the entry (entry(i) then carries the error). */
  ok(i: number): boolean { return this.nums[i * NUMS] === 0; }
  /** The entry's type; null when it could not be stat'ed or is of a type the toolkit does not know. */
  type(i: number): EntryType | null { return this.ok(i) ? entryTypeOf(this.nums[i * NUMS + 1]) : null; }
  /** Permission bits with setuid/setgid/sticky, as FileMeta.mode. */
  mode(i: number): number { return this.nums[i * NUMS + 1] & 0o7777; }
  uid(i: number): number { return this.nums[i * NUMS + 2]; }
  gid(i: number): number { return this.nums[i * NUMS + 3]; }
  /** lstat's st_size, whatever the type. */
  rawSize(i: number): number { return this.nums[i * NUMS + 4]; }
  nlink(i: number): number { return this.nums[i * NUMS + 5]; }
  rawRdev(i: number): number { return this.nums[i * NUMS + 6]; }
  /** Bytes of the entry's xattr name list (0: it has none), or -1 when not known (not asked for, or not readable). */
  xattrBytes(i: number): number { return this.nums[i * NUMS + 8]; }
  dev(i: number): bigint { return BigInt.asUintN(64, this.bigs[i * BIGS + 3]); }
  ino(i: number): bigint { return BigInt.asUintN(64, this.bigs[i * BIGS + 4]); }
  /**
   * Whether entry i is the inode `key` names: its dev and ino as 16 bytes, little-endian
   * (inodeKey). Compared as bytes: reading them as bigints allocates, once per entry of a walk.
   */
  hasInode(i: number, key: Uint8Array): boolean {
    const raw = this.timeBytes, at = i * STAT_BIG_BYTES + 24;
    for (let k = 0; k < 16; k++) if (raw[at + k] !== key[k]) return false;
    return true;
  }

  /**
   * Entry i's (dev, ino, size, mtime, ctime) as 40 little-endian bytes into `out`: the identity
   * a signature record names (formats/signatures.md §2, bytes 8-47), compared as bytes so that
   * a re-run allocates no bigints for an unchanged file.
   */
  identityInto(i: number, out: Buffer): void {
    const raw = this.timeBytes, at = i * STAT_BIG_BYTES, size = this.rawSize(i);
    out.set(raw.subarray(at + 24, at + 40), 0);
    out.writeUInt32LE(size % 0x1_0000_0000, 16);
    out.writeUInt32LE(Math.floor(size / 0x1_0000_0000), 20);
    out.set(raw.subarray(at + 8, at + 24), 24);
  }

  /**
   * Sizes every entry's xattr list now, for a scan made without (see xattrBytes); the addon
   * only (without it a scan never knows, and its entries' xattrs are read one by one).
   */
  sizeXattrs(): void {
    if (!native) return;
    try {
      native.sizeXattrs(this.dir, this.packed, this.count);
    } catch (e) {
      throw fsError(e, 'list extended attributes in', this.dir, 'open');
    }
  }

  /** Entry i with its metadata as captureMetaSync gives it (xattrs only if opts.xattrs), or its error. */
  entry(i: number, opts: CaptureOptions): ScannedEntry {
    const name = this.name(i);
    const path = this.entryPath(i);
    if (!this.ok(i)) return captureOne(path, name, opts);
    const n = i * NUMS, b = i * BIGS, nums = this.nums, bigs = this.bigs;
    try {
      const meta = metaFromStats(path, name, {
        mode: nums[n + 1], uid: nums[n + 2], gid: nums[n + 3], size: nums[n + 4], nlink: nums[n + 5],
        rdev: nums[n + 6], blocks: nums[n + 7],
        atimeNs: bigs[b], mtimeNs: bigs[b + 1], ctimeNs: bigs[b + 2], dev: BigInt.asUintN(64, bigs[b + 3]), ino: BigInt.asUintN(64, bigs[b + 4]),
      });
      return { name, path, meta: completeMetaSync(meta, path, opts) };
    } catch (e) {
      return { name, path, error: fsError(e, 'read metadata of', path, 'lstat') };
    }
  }
}

/** An inode's dev and ino as ScannedDir.hasInode compares them. */
export function inodeKey(dev: bigint, ino: bigint): Uint8Array {
  return new Uint8Array(new BigInt64Array([BigInt.asIntN(64, dev), BigInt.asIntN(64, ino)]).buffer);
}


/** A copy of `src` at an 8-byte aligned offset (Node's pool slices are aligned; this checks). */
function alignedCopy(src: Buffer): Buffer {
  const copy = Buffer.from(src);
  if (copy.byteOffset % 8 === 0) return copy;
  const own = Buffer.from(new ArrayBuffer(src.length));
  src.copy(own);
  return own;
}

function nativeScan(dir: Buffer, xattrSizes: boolean, walk: ScanWalk): ScannedDir {
  for (;;) {
    const count = native!.statDir(dir, walk.scratch, xattrSizes, walk.id);
    if (count >= 0) {
      const nameBytes = count === 0 ? 0 : walk.scratch.readUInt32LE(packedBytes(count, 0) - 4);
      return new ScannedDir(dir, count, alignedCopy(walk.scratch.subarray(0, packedBytes(count, nameBytes))));
    }
    walk.scratch = Buffer.alloc(Math.max(-count, walk.scratch.length * 2, 65536));
  }
}

/** The fallback: readdir, then one Node lstat per entry, packed the way statDir packs them. */
function portableScan(dir: Buffer): ScannedDir {
  const names = listDirSync(dir);
  const count = names.length;
  const packed = Buffer.alloc(packedBytes(count, names.reduce((n, name) => n + name.length, 0)));
  const scan = new ScannedDir(dir, count, packed);
  const bigsAt = count * NUMS * 8, endsAt = bigsAt + count * BIGS * 8;
  const nums = new Float64Array(packed.buffer, packed.byteOffset, count * NUMS);
  const bigs = new BigInt64Array(packed.buffer, packed.byteOffset + bigsAt, count * BIGS);
  let at = 0;
  names.forEach((name, i) => {
    packed.writeUInt32LE(at += name.length, endsAt + i * 4);
    name.copy(packed, endsAt + count * 4 + at - name.length);
    let st;
    try {
      st = lstatSync(joinPath(dir, name), { bigint: true });
    } catch {
      nums[i * NUMS] = 1; // entry(i) reads it again for the exact error
      return;
    }
    nums.set([0, Number(st.mode), Number(st.uid), Number(st.gid), Number(st.size), Number(st.nlink), Number(st.rdev), Number(st.blocks), -1], i * NUMS);
    bigs.set([st.atimeNs, st.mtimeNs, st.ctimeNs, BigInt.asIntN(64, st.dev), BigInt.asIntN(64, st.ino)], i * BIGS);
  });
  return scan;
}

/**
 * What one walk's scans share: its number for the addon's scan-ahead (0: none), and the buffer
 * statDir fills, reused by each scan of the walk (it scans one directory at a time); each scan
 * keeps a copy of the used part, one allocation (from Node's buffer pool when small). The
 * buffer grows to the largest directory the walk has seen and never shrinks.
 */
export class ScanWalk {
  scratch = Buffer.alloc(0);
  constructor(readonly id: number) {}
}

/**
 * The last walk number given out. The one piece of module state here, and on purpose: the
 * addon's scan-ahead thread serves the whole process and tells walks apart by this number, so
 * it must be unique in the process, as the thread is. These count below 2^31; the addon numbers
 * the walks it starts ahead from 2^31 up.
 */
let walks = 0;

/**
 * A new walk that scans every directory it descends into with scanDir(…, walk). The addon
 * then scans each directory's subdirectories ahead, on a thread of its own, while the walk
 * handles the directory (native/src/scan_ahead.cc; ~80 ms of the ~200 ms walk of the `mixed`
 * set's 4,529 directories are those system calls). A listing made ahead is at most one second
 * old when the walk takes it, and is only ever handed to the walk it was made for.
 *
 * With `root` (the directory the walk begins at, scanned with `xattrSizes`): a walk the addon
 * started there ahead of its walker (native scanAhead: fxcp's launcher, lib/cli/cli-loader.cts)
 * is taken over, with what it has scanned so far, if it began with the same option and less
 * than a second ago.
 */
export function newScanWalk(root?: Buffer, xattrSizes = false): ScanWalk {
  const ahead = root && native ? native.claimScanAhead(root, xattrSizes) : 0;
  if (ahead !== 0) return new ScanWalk(ahead);
  walks = (walks % 0x7fffffff) + 1;
  return new ScanWalk(walks);
}

/**
 * Scans directory `dir`; with `xattrSizes`, also sizes each entry's xattr name list (one
 * llistxattr per entry, native scan only: see xattrBytes); with `walk` (newScanWalk), scans
 * its subdirectories ahead. Throws when the directory itself cannot be listed (NotFoundError
 * when it is gone, FsError otherwise).
 */
export function scanDir(dir: Buffer, xattrSizes = false, walk?: ScanWalk): ScannedDir {
  if (!native) return portableScan(dir);
  try {
    // Without a walk, a scan has a buffer of its own (no caller on a hot path scans without one).
    return nativeScan(dir, xattrSizes, walk ?? new ScanWalk(0));
  } catch (e) {
    throw fsError(e, 'list directory', dir, 'scandir');
  }
}

/** Every entry of directory `dir` with its metadata (xattrs only if opts.xattrs); throws as scanDir. */
export function scanDirSync(dir: Buffer, opts: CaptureOptions): ScannedEntry[] {
  const scan = scanDir(dir);
  const out: ScannedEntry[] = new Array(scan.count);
  for (let i = 0; i < scan.count; i++) out[i] = scan.entry(i, opts);
  return out;
}

function captureOne(path: Buffer, name: Buffer, opts: CaptureOptions): ScannedEntry {
  try {
    return { name, path, meta: captureMetaSync(path, name, opts) };
  } catch (e) {
    return { name, path, error: fsError(e, 'read metadata of', path, 'lstat') };
  }
}
