/**
 * Sparse maps: which byte ranges of a file hold data, as the file system reports them through
 * lseek(SEEK_DATA / SEEK_HOLE). Archiving reads only these ranges and records the rest as
 * holes; restoring leaves the holes unwritten (truncate to size), so a 64 GiB VM image with
 * 2 GiB of data costs 2 GiB of reads and writes, not 64.
 *
 * Limits:
 * - Holes are what the file system says. A file system without SEEK_HOLE support reports the
 *   whole file as data (Linux's generic lseek does that), and so does the fallback without the
 *   native addon. A caller that wants holes anyway may also detect all-zero blocks while
 *   reading (`isZeroBlock`) and store them as holes: that finds zeros that were written, not
 *   only unallocated ranges, at the cost of comparing every block.
 * - Segment edges are block-aligned as the file system allocates (4 KiB on ext4), except that
 *   the last segment is cut at `size`. Unwritten preallocated extents (fallocate) may be
 *   reported as data or as holes, depending on the file system; either reads as zeros.
 * - The map is taken against `size` as the caller saw it: a file that grows afterwards is
 *   mapped only up to `size`; one that shrinks ends the map early.
 * - Synchronous: each call is one lseek, which does not block on data I/O.
 */
import { native, nativeLoadError } from '../native/load.js';
import type { FileMeta } from './file-meta.js';
import type { Warn } from '../errors/index.js';
import { fsError, warnFallback } from './fs-error.js';

/** [offset, length] of one data range. */
export type Segment = [offset: number, length: number];

/** lseek errors meaning "this file system cannot tell holes": treat the whole file as data. */
const NO_HOLE_SUPPORT = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'ESPIPE']);

/**
 * The data ranges of the open file `fd`, in order, within [from, size) (`from` maps one
 * section of a large file: its syscalls are those of its own range). A file with no holes
 * returns [[from, size - from]] after a single lseek; an empty file returns []; a file that is
 * all hole returns []. Without the native addon returns the whole range and warns once
 * through `onWarn`.
 */
export function dataSegments(fd: number, size: number, onWarn?: Warn, from = 0): Segment[] {
  if (size <= from) return [];
  if (!native) {
    warnFallback(onWarn, 'seek-hole', 'holes in sparse files cannot be found; such files are read and stored in full (restored without holes)', nativeLoadError);
    return [[from, size - from]];
  }
  try {
    // Fast path, one syscall: the first hole at or past the end means no holes at all.
    const firstHole = native.seekHole(fd, from);
    if (firstHole >= size) return [[from, size - from]];
    const out: Segment[] = [];
    let off = from;
    while (off < size) {
      const data = native.seekData(fd, off);
      if (data < 0 || data >= size) break; // -1: ENXIO, no data after off
      let hole: number;
      try {
        hole = native.seekHole(fd, data);
      } catch (e) {
        // ENXIO here: the file shrank below `data` since the previous call; the map ends.
        if ((e as NodeJS.ErrnoException).code === 'ENXIO') break;
        throw e;
      }
      if (hole > size) hole = size;
      if (hole <= data) break; // defensive: never loop without progress
      out.push([data, hole - data]);
      off = hole;
    }
    return out;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENXIO') return []; // the file was truncated to 0 under us
    if (code && NO_HOLE_SUPPORT.has(code)) return [[from, size - from]];
    throw fsError(e, 'map data and holes of', `fd ${fd}`, 'lseek');
  }
}

/** Segments in order with touching ones joined (the pieces of clipped sections made whole again). Pure. */
export function joinSegments(segments: readonly Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const [off, len] of segments) {
    if (len <= 0) continue;
    const last = out[out.length - 1];
    if (last && last[0] + last[1] === off) last[1] += len;
    else out.push([off, len]);
  }
  return out;
}

/**
 * A cheap hint that a file has holes: fewer 512-byte blocks allocated than its size needs.
 * False positives: compressed file systems (btrfs, ZFS), inline data of tiny files. False
 * negatives: holes offset by preallocation or metadata blocks. Use it to decide whether a
 * sparse map is worth asking for; `dataSegments` is the answer.
 */
export function isLikelySparse(meta: Pick<FileMeta, 'blocks' | 'size'>): boolean {
  return meta.blocks * 512 < meta.size;
}

const ZEROS = Buffer.alloc(64 * 1024);

/** True when every byte of `block` is zero (for callers that also store zero runs as holes). */
export function isZeroBlock(block: Uint8Array): boolean {
  for (let off = 0; off < block.length; off += ZEROS.length) {
    const n = Math.min(ZEROS.length, block.length - off);
    if (Buffer.compare(block.subarray(off, off + n), ZEROS.subarray(0, n)) !== 0) return false;
  }
  return true;
}

/** Total bytes covered by the segments. */
export function segmentsBytes(segments: readonly Segment[]): number {
  let n = 0;
  for (const [, len] of segments) n += len;
  return n;
}
