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
 * be kept exact.
 *
 * A directory whose own entries changed is spliced too when the watch names every entry that
 * changed (changedNames): only those names are lstat'ed and walked, the other entries are the
 * parent tree's, as for a directory the watch saw no change in at all. For the daemon's cut of
 * a source of 1,000,000 files with 100 files written in 100 directories, that is 100 lstats
 * and files looked at, not 10,000. Pure apart from the lstat it is given.
 */
import type { FileMeta } from '../fs/file-meta.js';
import type { SubtreeTotals } from './listing-memo.js';
import type { TreeEntry } from './tree-entry.js';

export interface SpliceChild {
  /** Its index in the parent tree's entries; for an insert, the index it goes before. */
  index: number;
  /** A new name: inserted before entry `index`. */
  insert: boolean;
  rel: string;
  path: Buffer;
  /** Its metadata now (without xattrs). */
  meta: FileMeta;
  /** What it was in the parent tree, when it is the same inode of the same type (else it is walked as new). */
  parent: TreeEntry | undefined;
}

export interface SplicePlan {
  /** What is walked again, ascending by index (at one index, an insert comes first). */
  children: SpliceChild[];
  /** Indices of the parent tree's entries that are gone (or now left out by the rules). */
  removed: number[];
  /** What the directory holds outside what is walked again or removed (each of those, and all below it, left out). */
  unchanged: SubtreeTotals;
}

/** A parent tree's entries, in name order, decoded only when asked for (encoded-tree.ts). */
export interface SpliceEntries {
  readonly length: number;
  name(i: number): Buffer;
  type(i: number): TreeEntry['type'];
  entry(i: number): TreeEntry;
}

export interface SpliceInputs {
  /** The parent tree's entries. */
  entries: SpliceEntries;
  /** The directory's totals in the parent snapshot (its memo). */
  totals: SubtreeTotals;
  /** Whether something at or below subdirectory `rel` may have changed. */
  touches(rel: string): boolean;
  /**
   * The names of the subdirectories `touches` is true for, when the caller knows them: then
   * only they are looked up (by name, in the sorted entries), not every entry asked about.
   */
  touchedNames?: Iterable<string>;
  /**
   * The names of the directory's own entries that a watch saw change (written, created,
   * removed, renamed, metadata), when the directory's own entries changed and these are all
   * that did: each is lstat'ed and replaced, inserted or removed; the other entries are the
   * parent tree's. Absent: the directory's own entries saw no change.
   */
  changedNames?: Iterable<string>;
  /** Whether a new entry (or one that changed type) is kept, by the listing rules (excludes, the store itself). */
  keep?(rel: string, meta: FileMeta): boolean;
  childRel(name: Buffer): string;
  childPath(name: Buffer): Buffer;
  /** The entry's metadata now; null when it is gone. */
  lstat(path: Buffer, name: Buffer): FileMeta | null;
  /** A subtree's totals in the parent snapshot; null when its memo does not say. */
  totalsOf(subtree: Buffer): SubtreeTotals | null;
}

/**
 * What to walk again in a directory that is not listed; null when it must be listed (a name
 * that is not the text of its bytes, a subdirectory replaced, totals a memo does not give).
 */
export function planSplice(p: SpliceInputs): SplicePlan | null {
  const children: SpliceChild[] = [];
  const removed: number[] = [];
  const unchanged = { ...p.totals };
  const visited = new Set<number>();
  for (const name of p.changedNames ?? []) {
    if (name.includes('\uFFFD')) return null;
    const bytes = Buffer.from(name, 'utf8');
    const [index, found] = search(p.entries, bytes);
    if (found && visited.has(index)) continue;
    const rel = p.childRel(bytes), path = p.childPath(bytes);
    const meta = p.lstat(path, bytes);
    const kept = meta !== null && (p.keep?.(rel, meta) ?? true);
    if (!found) {
      if (kept) children.push({ index, insert: true, rel, path, meta, parent: undefined });
      continue;
    }
    visited.add(index);
    const old = p.entries.entry(index);
    if (!subtractEntry(unchanged, old, p.totalsOf)) return null;
    if (!kept) { removed.push(index); continue; }
    const same = meta.type === old.type && meta.ino === old.ino && meta.dev === old.dev;
    children.push({ index, insert: false, rel, path, meta, parent: same ? old : undefined });
  }
  const candidates = (p.touchedNames && touchedIndices(p.entries, p.touchedNames)) ?? Array.from({ length: p.entries.length }, (_, i) => i);
  for (const index of candidates) {
    if (p.entries.type(index) !== 'dir' || visited.has(index)) continue;
    const e = p.entries.entry(index);
    const rel = p.childRel(e.name);
    if (!p.touches(rel)) continue;
    const path = p.childPath(e.name);
    const meta = p.lstat(path, e.name);
    if (!meta || meta.type !== 'dir' || meta.ino !== e.ino || meta.dev !== e.dev) return null;
    if (!subtractEntry(unchanged, e, p.totalsOf)) return null;
    children.push({ index, insert: false, rel, path, meta, parent: e });
  }
  children.sort((a, b) => a.index - b.index || Number(b.insert) - Number(a.insert) || Buffer.compare(Buffer.from(a.rel), Buffer.from(b.rel)));
  removed.sort((a, b) => a - b);
  return children.length > 0 || p.changedNames ? { children, removed, unchanged } : null;
}

/** Where `name` is in the sorted entries, or goes; and whether it is there. */
function search(entries: SpliceEntries, name: Buffer): [number, boolean] {
  let lo = 0, hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Buffer.compare(entries.name(mid), name) < 0) lo = mid + 1; else hi = mid;
  }
  return [lo, lo < entries.length && entries.name(lo).equals(name)];
}

/**
 * The indices of the entries named, ascending; a name that is not there is left out (an
 * excluded directory). Null for a name that is not the text of its bytes (a name that is not
 * UTF-8 is known by its lossy text only): then every entry is asked.
 */
function touchedIndices(entries: SpliceEntries, names: Iterable<string>): number[] | null {
  const found: number[] = [];
  for (const name of names) {
    if (name.includes('\uFFFD')) return null;
    const [at, there] = search(entries, Buffer.from(name, 'utf8'));
    if (there) found.push(at);
  }
  return found.sort((a, b) => a - b);
}

/** Takes an entry (a subdirectory: itself and all it holds) out of `t`; false when a subdirectory's totals are not known. */
function subtractEntry(t: SubtreeTotals, e: TreeEntry, totalsOf: (subtree: Buffer) => SubtreeTotals | null): boolean {
  if (e.type !== 'dir') { addEntry(t, e, -1); return true; }
  const sub = totalsOf(e.subtree!);
  if (!sub) return false;
  t.dirs -= 1 + sub.dirs;
  t.files -= sub.files;
  t.symlinks -= sub.symlinks;
  t.others -= sub.others;
  t.bytes -= sub.bytes;
  return true;
}

/** Adds (sign 1) or takes out (-1) an entry that is not a directory. */
export function addEntry(t: SubtreeTotals, e: TreeEntry, sign: 1 | -1 = 1): void {
  if (e.type === 'file') { t.files += sign; t.bytes += sign * e.size; } else if (e.type === 'symlink') t.symlinks += sign;
  else if (e.type !== 'dir') t.others += sign;
}

/** Adds a subdirectory (itself and all it holds) to `t`. */
export function addSubtree(t: SubtreeTotals, sub: SubtreeTotals): void {
  t.dirs += 1 + sub.dirs;
  t.files += sub.files;
  t.symlinks += sub.symlinks;
  t.others += sub.others;
  t.bytes += sub.bytes;
}
