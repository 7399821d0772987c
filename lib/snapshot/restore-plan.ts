/**
 * Sizing a selective restore before it writes anything: a walk of the subtrees the selector
 * can reach (the restorer's own rule: a directory is entered only when it is selected or may
 * contain a selected path), loading trees and never file data, that sums the bytes the restore
 * will write. The CLI checks them against the target's free space.
 *
 * What counts: a file's data bytes (the lengths of its chunks, so a sparse file counts only its
 * data segments, as it is restored with its holes); a hard-link group once (later members are
 * links). Not counted: directory, inode and block-rounding overhead, which depend on the
 * target file system (on one with 4 KiB blocks a restore of many tiny files takes more).
 *
 * Cost: the trees the walk decodes are kept in a TreeCache, up to MAX_CACHED_ENTRIES entries,
 * and the restore takes them from there, so a restore that loads few trees (one file from a
 * large archive) loads each of them once, as it did without the plan. A selection larger
 * than the cache loads the trees past it a second time (the file data still dominates).
 */
import type { ChunkSource } from './chunk-source.js';
import { compileSelector } from './path-selector.js';
import type { SnapshotRecord } from './snapshot-record.js';
import { entriesNamed, type TreeEntry } from './tree-entry.js';
import { loadTree } from './tree-store.js';
import { walkTrees } from './tree-walk.js';

/** Tree entries a plan keeps for the restore (a few MiB of decoded entries). */
const MAX_CACHED_ENTRIES = 20_000;

type TreeLoader = Pick<ChunkSource, 'loadChunkPreferSync'>;

/** Decoded trees by id, bounded by their total entries; each is handed out once. */
export class TreeCache {
  private readonly trees = new Map<string, TreeEntry[]>();
  private entries = 0;

  constructor(private readonly maxEntries = MAX_CACHED_ENTRIES) {}

  /** Loads a tree and keeps it for one later `take` while the cache has room. */
  async load(source: TreeLoader, id: Uint8Array): Promise<TreeEntry[]> {
    const key = Buffer.from(id).toString('latin1');
    const cached = this.trees.get(key);
    if (cached) return cached;
    const tree = await loadTree(source, id);
    if (this.entries + tree.length <= this.maxEntries) {
      this.trees.set(key, tree);
      this.entries += tree.length;
    }
    return tree;
  }

  /** The tree, from the cache (which then forgets it) or loaded. */
  async take(source: TreeLoader, id: Uint8Array): Promise<TreeEntry[]> {
    const key = Buffer.from(id).toString('latin1');
    const cached = this.trees.get(key);
    if (!cached) return loadTree(source, id);
    this.trees.delete(key);
    this.entries -= cached.length;
    return cached;
  }

  get size(): number { return this.trees.size; }
}

export interface RestorePlan {
  /** Data bytes the restore will write. */
  bytes: number;
  /** Sizes of the selected files, each name of a hard link (holes too): what the restore's progress counts. */
  fileBytes: number;
  /** Selected entries (files, links, specials, directories selected whole) and the files among them. */
  entries: number;
  files: number;
  /** Trees the walk decoded, for the restore (RestoreOptions.plan). */
  trees: TreeCache;
}

/** Sizes the restore of the entries `files` (globs, as for restore) select from `record`. */
export async function planRestore(source: TreeLoader, record: SnapshotRecord, files: readonly string[], signal?: AbortSignal): Promise<RestorePlan> {
  const selector = compileSelector(files);
  const trees = new TreeCache();
  const plan: RestorePlan = { bytes: 0, fileBytes: 0, entries: 0, files: 0, trees };
  const linked = new Set<string>();
  const count = (e: TreeEntry) => {
    plan.entries++;
    if (e.type !== 'file') return;
    plan.files++;
    plan.fileBytes += e.size;
    if (e.nlink > 1) {
      const key = `${e.dev}:${e.ino}`;
      if (linked.has(key)) return;
      linked.add(key);
    }
    for (const c of e.chunks ?? []) plan.bytes += c.length;
  };
  // Per directory on the walk's path: whether it was selected whole (the restorer's own rule).
  const all: boolean[] = [];
  await walkTrees(source, Buffer.from(record.tree, 'hex'), {
    entry(e, path) {
      if (all.length === 0) {
        // The root tree's entry, the source itself: a directory is the target, not an entry.
        if (e.type === 'dir') all.push(false);
        else if (selector.selects(e.name.toString('utf8'))) count(e);
        return;
      }
      const rel = path.toString('utf8');
      const whole = all[all.length - 1];
      const selected = whole || selector.selects(rel);
      if (e.type === 'dir') {
        if (selected && !whole) plan.entries++;
        if (!selected && !selector.mayContain(rel)) return false;
        all.push(selected);
      } else if (selected) {
        count(e);
      }
    },
    leave() { all.pop(); },
  }, {
    signal,
    load: (id) => trees.load(source, id),
    narrow: (entries, path) => {
      const names = all[all.length - 1] ? null : selector.childNames(path.toString('utf8'));
      return names ? entriesNamed(entries, names) : entries;
    },
  });
  return plan;
}
