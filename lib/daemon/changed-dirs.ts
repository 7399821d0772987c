/**
 * Which directories of a watched source may have changed since a point in time, from the
 * changes a watch saw (fs-change.ts), in the archiver's terms (ArchiveOptions.changedDirs:
 * relative paths, '' for the root). Pure.
 *
 * - An entry changed, created, removed or renamed: its directory changed, and so, for the
 *   walk to reach it, did every directory above it.
 * - A directory created or moved in (or to a new name): all of it, down to the bottom, is
 *   listed; what it held before its watch was added was never an event, and its name may
 *   stand for a different subtree in the parent snapshot.
 * - A lost event (`rescan`): everything (`touches` is then true for every directory).
 *
 * A directory above a change whose own entries saw no event (`entriesChanged` false) need not
 * be listed: the archiver takes its entries from the parent snapshot and splices in the
 * subdirectories that changed. Nor need a directory whose changed entries are all named by
 * events (`changedNames`): only those names are looked at. That is what keeps a cut of a wide
 * tree cheap: 100 changed files in 100 directories below a root of 10,000 directories look at
 * 100 files, not the root's 10,000 entries nor the 100 directories' 10,000 files.
 */
import { relPath } from '../fs/fs-path.js';
import type { FsChange } from './fs-change.js';

/** The most changed names of one directory looked at one by one (changedNames). */
const MAX_NAMES = 1024;

export class ChangedDirs {
  private readonly dirs = new Set<string>();
  /** Directories an event named an entry of: their listings may differ from the parent snapshot's. */
  private readonly own = new Set<string>();
  private readonly whole = new Set<string>();
  /** The names in `dirs` of each directory's subdirectories (what a splice visits). */
  private readonly below = new Map<string, Set<string>>();
  /** The names of each directory in `own` that events named; null past MAX_NAMES (it is listed). */
  private readonly names = new Map<string, Set<string> | null>();
  private all = false;
  /** Why every directory must be listed (the first lost event's reason); null while not. */
  why: string | null = null;

  constructor(private readonly root: Buffer) {}

  get empty(): boolean { return !this.all && this.dirs.size === 0; }
  /** True once a lost event means every directory must be listed. */
  get everything(): boolean { return this.all; }

  add(c: FsChange): void {
    if (c.kind === 'rescan') { this.all = true; this.why ??= c.why; return; }
    if (c.kind === 'moved') this.entry(c.from, false);
    this.entry(c.path, c.dir && c.kind !== 'removed');
  }

  touches(rel: string): boolean {
    return this.all || this.dirs.has(rel) || this.inWhole(rel);
  }

  /** Whether directory `rel`'s own entries may have changed (it must be listed), not only something below it. */
  entriesChanged(rel: string): boolean {
    return this.all || this.own.has(rel) || this.inWhole(rel);
  }

  /**
   * The names of `rel`'s subdirectories that `touches` is true for, when its own entries saw no
   * change (entriesChanged false; otherwise they may be any).
   */
  touchedChildren(rel: string): Iterable<string> {
    return this.below.get(rel) ?? [];
  }

  /**
   * The names of `rel`'s own entries that events named (changed, created, removed, renamed from
   * or to), when entriesChanged(rel) and the directory need not be listed for another reason:
   * the cut then looks at these names only. Null: list the directory (every directory must be,
   * or it is listed all the way down, or more than MAX_NAMES of its entries changed).
   */
  changedNames(rel: string): Iterable<string> | null {
    if (this.all || this.inWhole(rel)) return null;
    return this.names.get(rel) ?? null;
  }

  /** Whether `rel` is, or is below, a directory that is listed all the way down. */
  private inWhole(rel: string): boolean {
    for (let at = rel.length; at > 0; at = rel.lastIndexOf('/', at - 1)) if (this.whole.has(rel.slice(0, at))) return true;
    return false;
  }

  private entry(path: Buffer, subtree: boolean): void {
    const r = relPath(this.root, path);
    if (r === null) return;
    const rel = r.toString('utf8');
    if (rel === '') { this.all = true; this.why ??= 'the source root itself changed'; return; }
    if (subtree) { this.whole.add(rel); this.addDir(rel); }
    const parent = parentOf(rel);
    this.own.add(parent);
    this.addName(parent, parent === '' ? rel : rel.slice(parent.length + 1));
    // Every directory in the set has its ancestors in it too: stop at the first one there.
    for (let dir = parentOf(rel); !this.dirs.has(dir); dir = parentOf(dir)) {
      this.addDir(dir);
      if (dir === '') break;
    }
  }

  private addName(dir: string, name: string): void {
    const names = this.names.get(dir);
    if (names === null) return;
    if (names === undefined) { this.names.set(dir, new Set([name])); return; }
    names.add(name);
    // Past this many, listing the directory costs less than looking at each name, and the set
    // stops growing (a burst of creates in one directory).
    if (names.size > MAX_NAMES) this.names.set(dir, null);
  }

  private addDir(dir: string): void {
    this.dirs.add(dir);
    if (dir === '') return;
    const parent = parentOf(dir);
    let names = this.below.get(parent);
    if (!names) this.below.set(parent, names = new Set());
    names.add(parent === '' ? dir : dir.slice(parent.length + 1));
  }
}

function parentOf(rel: string): string {
  const at = rel.lastIndexOf('/');
  return at < 0 ? '' : rel.slice(0, at);
}
