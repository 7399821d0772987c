/**
 * Splicing: a new tree for a directory that is not listed. A watch (foxingd) says which
 * directories' own entries may have changed and which are only above such a change
 * (ArchiveOptions.changedDirs). A directory of the second kind has the parent snapshot's
 * entries, except its subdirectories below which something changed: those are walked again
 * and their entries replaced. On a root of 10,000 directories with 100 changed files below
 * it, a cut then reads 100 directories, not the root's 10,000 entries, their fingerprint and
 * 10,000 memo lookups for the totals.
 *
 * Why each changed subdirectory is lstat'ed afresh: its own times (an entry created or
 * removed in it moves its mtime and ctime) are recorded in this directory's tree. Why the
 * plan gives up (the directory is then listed as usual): a subdirectory gone, no longer a
 * directory, or another inode under the same name means this directory's entries did change,
 * whatever the events said; and without totals in the memos the snapshot's figures could not
 * be kept exact. Pure apart from the lstat it is given.
 */
import type { FileMeta } from '../fs/file-meta.js';
import type { SubtreeTotals } from './listing-memo.js';
import type { TreeEntry } from './tree-entry.js';

export interface SpliceChild {
  /** Its index in the parent tree's entries. */
  index: number;
  rel: string;
  path: Buffer;
  /** Its metadata now (without xattrs). */
  meta: FileMeta;
}

export interface SplicePlan {
  children: SpliceChild[];
  /** What the directory holds outside the changed subdirectories (each of them, and all below it, left out). */
  unchanged: SubtreeTotals;
}

export interface SpliceInputs {
  /** The parent tree's entries, in name order. */
  entries: readonly TreeEntry[];
  /** The directory's totals in the parent snapshot (its memo). */
  totals: SubtreeTotals;
  /** Whether something at or below subdirectory `rel` may have changed. */
  touches(rel: string): boolean;
  /**
   * The names of the subdirectories `touches` is true for, when the caller knows them: then
   * only they are looked up (by name, in the sorted entries), not every entry asked about.
   */
  touchedNames?: Iterable<string>;
  childRel(name: Buffer): string;
  childPath(name: Buffer): Buffer;
  /** The subdirectory's metadata now; null when it is gone. */
  lstat(path: Buffer, name: Buffer): FileMeta | null;
  /** A subtree's totals in the parent snapshot; null when its memo does not say. */
  totalsOf(subtree: Buffer): SubtreeTotals | null;
}

export function planSplice(p: SpliceInputs): SplicePlan | null {
  const children: SpliceChild[] = [];
  const unchanged = { ...p.totals };
  const candidates = (p.touchedNames && touchedIndices(p.entries, p.touchedNames)) ?? p.entries.keys();
  for (const index of candidates) {
    const e = p.entries[index];
    if (e.type !== 'dir') continue;
    const rel = p.childRel(e.name);
    if (!p.touches(rel)) continue;
    const path = p.childPath(e.name);
    const meta = p.lstat(path, e.name);
    if (!meta || meta.type !== 'dir' || meta.ino !== e.ino || meta.dev !== e.dev) return null;
    const old = p.totalsOf(e.subtree!);
    if (!old) return null;
    subtract(unchanged, old);
    children.push({ index, rel, path, meta });
  }
  return children.length > 0 ? { children, unchanged } : null;
}

/**
 * The indices of the entries named, ascending; a name that is not there is left out (an
 * excluded directory). Null for a name that is not the text of its bytes (a name that is not
 * UTF-8 is known by its lossy text only): then every entry is asked.
 */
function touchedIndices(entries: readonly TreeEntry[], names: Iterable<string>): number[] | null {
  const found: number[] = [];
  for (const name of names) {
    if (name.includes('\uFFFD')) return null;
    const want = Buffer.from(name, 'utf8');
    let lo = 0, hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare(entries[mid].name, want) < 0) lo = mid + 1; else hi = mid;
    }
    if (lo < entries.length && entries[lo].name.equals(want)) found.push(lo);
  }
  return found.sort((a, b) => a - b);
}

/** Takes a subdirectory (itself and all it holds) out of `t`. */
function subtract(t: SubtreeTotals, sub: SubtreeTotals): void {
  t.dirs -= 1 + sub.dirs;
  t.files -= sub.files;
  t.symlinks -= sub.symlinks;
  t.others -= sub.others;
  t.bytes -= sub.bytes;
}

/** Adds a subdirectory (itself and all it holds) to `t`. */
export function addSubtree(t: SubtreeTotals, sub: SubtreeTotals): void {
  t.dirs += 1 + sub.dirs;
  t.files += sub.files;
  t.symlinks += sub.symlinks;
  t.others += sub.others;
  t.bytes += sub.bytes;
}
