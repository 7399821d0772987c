/**
 * `snap diff`: what changed between two snapshots, from their trees alone. Two directories whose
 * tree ids are equal hold the same entries all the way down, so they are skipped unread; file
 * contents are compared by chunk list (and size and hole map), never by reading data. So the cost
 * is one tree read per changed directory, whatever the size of the data.
 *
 * Output is a stream of changes in tree order: depth first, a directory before its entries,
 * entries of one directory in name-byte order (the order `find` gives with sorted names).
 * - added / removed: an entry present in one snapshot only. A directory added or removed is
 *   followed by every entry beneath it, so each changed path is named.
 * - modified: same path and type, with `what` naming the differences: content (file data: chunk
 *   list, size or holes), target (symlink), device (rdev), mode, owner (uid or gid), mtime, xattrs.
 *   A directory is `modified` only for its own metadata (adding a file changes its mtime).
 * - A path whose type changed (file → directory, ...) is `removed` and then `added`, so a
 *   consumer never sees a change that applies to two different objects.
 * Not reported: atime, ctime, inode, device and link-count differences (they change without the
 * content or metadata a user sets; a `cp -a` restore changes all of them).
 *
 * Memory: the two listings of one directory pair per depth of the walk, never a file list.
 * Paths are bytes until a change is reported; names that are not UTF-8 are shown with U+FFFD
 * for the bad bytes (as `snap restore --file` matches them).
 */
import { abortPoint } from '../errors/index.js';
import type { EntryType } from '../fs/file-meta.js';
import type { Store } from '../store/index.js';
import type { SnapshotRecord } from './snapshot-record.js';
import type { TreeEntry } from './tree-entry.js';
import { loadTree } from './tree-store.js';
import { joinPath } from '../fs/fs-path.js';
import { END, ENTRY, TreeCursor, TREE } from './tree-walk.js';

export type ChangeKind = 'added' | 'removed' | 'modified';
export type ChangeField = 'content' | 'target' | 'device' | 'mode' | 'owner' | 'mtime' | 'xattrs';

export interface Change {
  /** Relative to the snapshot's source ('.' is the source directory itself). */
  path: string;
  kind: ChangeKind;
  /** The entry's type (in the newer snapshot, or in the older one for `removed`). */
  type: EntryType;
  /** For `modified`: what differs, in a fixed order. Empty otherwise. */
  what: ChangeField[];
  /** Apparent size (files), in the newer snapshot, or the older one for `removed`. */
  size: number;
}

export interface DiffOptions {
  signal?: AbortSignal;
}

/** The changes that turn snapshot `a` into snapshot `b`, in tree order. */
export async function* diffSnapshots(store: Store, a: SnapshotRecord, b: SnapshotRecord, opts: DiffOptions = {}): AsyncGenerator<Change> {
  if (a.tree === b.tree) return;
  const walker = new TreeDiff(store, opts);
  const [ra] = await loadTree(store, Buffer.from(a.tree, 'hex'));
  const [rb] = await loadTree(store, Buffer.from(b.tree, 'hex'));
  if (ra.type === 'dir' && rb.type === 'dir') {
    // Two directory sources: compare contents whatever the source directories were called.
    const what = compareEntries(ra, rb);
    if (what.length > 0) yield change('.', 'modified', rb, what);
    if (!ra.subtree!.equals(rb.subtree!)) yield* walker.dirs(ra.subtree!, rb.subtree!, NO_PATH);
  } else {
    yield* walker.lists([ra], [rb], NO_PATH);
  }
}

class TreeDiff {
  constructor(private readonly store: Store, private readonly opts: DiffOptions) {}

  private async load(id: Buffer): Promise<TreeEntry[]> {
    await abortPoint(this.opts.signal);
    return loadTree(this.store, id);
  }

  async *dirs(ta: Buffer, tb: Buffer, rel: Buffer): AsyncGenerator<Change> {
    yield* this.lists(await this.load(ta), await this.load(tb), rel);
  }

  /** Merges two name-sorted listings. */
  async *lists(ea: TreeEntry[], eb: TreeEntry[], rel: Buffer): AsyncGenerator<Change> {
    let i = 0, j = 0;
    while (i < ea.length || j < eb.length) {
      const c = i >= ea.length ? 1 : j >= eb.length ? -1 : Buffer.compare(ea[i].name, eb[j].name);
      if (c < 0) {
        yield* this.whole(ea[i], joinPath(rel, ea[i].name), 'removed');
        i++;
      } else if (c > 0) {
        yield* this.whole(eb[j], joinPath(rel, eb[j].name), 'added');
        j++;
      } else {
        const x = ea[i++], y = eb[j++], path = joinPath(rel, x.name);
        if (x.type !== y.type) {
          yield* this.whole(x, path, 'removed');
          yield* this.whole(y, path, 'added');
          continue;
        }
        const what = compareEntries(x, y);
        if (what.length > 0) yield change(path, 'modified', y, what);
        if (x.type === 'dir' && !x.subtree!.equals(y.subtree!)) yield* this.dirs(x.subtree!, y.subtree!, path);
      }
    }
  }

  /** An entry added or removed as a whole, then (for a directory) everything beneath it (tree-walk.ts). */
  private async *whole(e: TreeEntry, path: Buffer, kind: 'added' | 'removed'): AsyncGenerator<Change> {
    yield change(path, kind, e, []);
    if (e.type !== 'dir') return;
    const walk = new TreeCursor(this.store, e.subtree!, { prefix: path, directory: true, signal: this.opts.signal });
    for (let s = walk.step(); s !== END; s = walk.step()) {
      if (s === TREE) await walk.load();
      else if (s === ENTRY) yield change(walk.path, kind, walk.entry, []);
    }
  }
}

const NO_PATH = Buffer.alloc(0);

function change(path: Buffer | string, kind: ChangeKind, e: TreeEntry, what: ChangeField[]): Change {
  return { path: typeof path === 'string' ? path : path.toString('utf8'), kind, type: e.type, what, size: e.type === 'file' ? e.size : 0 };
}

/** The user-visible differences between two entries of the same type (names not compared). */
export function compareEntries(x: TreeEntry, y: TreeEntry): ChangeField[] {
  const what: ChangeField[] = [];
  if (x.type === 'file' && !sameContent(x, y)) what.push('content');
  if (!sameBytes(x.linkTarget, y.linkTarget)) what.push('target');
  if (x.rdev !== y.rdev) what.push('device');
  if (x.mode !== y.mode) what.push('mode');
  if (x.uid !== y.uid || x.gid !== y.gid) what.push('owner');
  if (x.mtimeNs !== y.mtimeNs) what.push('mtime');
  if (!sameXattrs(x.xattrs, y.xattrs)) what.push('xattrs');
  return what;
}

function sameContent(x: TreeEntry, y: TreeEntry): boolean {
  if (x.size !== y.size) return false;
  const sx = x.segments, sy = y.segments;
  if ((sx?.length ?? -1) !== (sy?.length ?? -1)) return false;
  if (sx && sy) for (let i = 0; i < sx.length; i++) if (sx[i][0] !== sy[i][0] || sx[i][1] !== sy[i][1]) return false;
  const cx = x.chunks ?? [], cy = y.chunks ?? [];
  if (cx.length !== cy.length) return false;
  for (let i = 0; i < cx.length; i++) if (cx[i].length !== cy[i].length || !cx[i].id.equals(cy[i].id)) return false;
  return true;
}

function sameXattrs(a: TreeEntry['xattrs'], b: TreeEntry['xattrs']): boolean {
  const la = a?.length ?? 0, lb = b?.length ?? 0;
  if (la !== lb) return false;
  for (let i = 0; i < la; i++) if (a![i][0] !== b![i][0] || !a![i][1].equals(b![i][1])) return false;
  return true;
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.equals(b));
}
