/**
 * A tree is one directory's listing: entries sorted by name bytes, each with full metadata.
 * Files point to the chunks of their content, directories to the id of their own tree.
 * Trees are stored as chunks, so an unchanged directory is stored once across snapshots.
 */
import type { EntryType, FileMeta } from '../fs/file-meta.js';
import type { ChunkRef } from '../store/index.js';

export type { ChunkRef };

/**
 * An entry of a tree: the metadata captured from the file system (FileMeta, without the
 * allocated-blocks hint) plus where its content is.
 */
export interface TreeEntry extends Omit<FileMeta, 'blocks'> {
  /** Data extents of a file with holes, in order; absent means one extent [0, size). */
  segments?: Array<[number, number]>;
  /** File content, in order (concatenated data of all segments). */
  chunks?: ChunkRef[];
  /** Directories: the id of their tree. */
  subtree?: Buffer;
}

export const ENTRY_TYPE_CODES: Record<EntryType, number> = {
  file: 1, dir: 2, symlink: 3, fifo: 4, chardev: 5, blockdev: 6, socket: 7,
};

export const ENTRY_TYPES_BY_CODE: Array<EntryType | undefined> = [
  undefined, 'file', 'dir', 'symlink', 'fifo', 'chardev', 'blockdev', 'socket',
];

/**
 * The entries of a tree named `names`, in tree order: a binary search each (a tree is sorted by
 * name bytes), for a walk that knows which names it wants (PathSelector.childNames).
 */
export function entriesNamed(entries: readonly TreeEntry[], names: readonly string[]): TreeEntry[] {
  const found = new Set<number>();
  for (const name of names) {
    const key = Buffer.from(name, 'utf8');
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = Buffer.compare(entries[mid].name, key);
      if (c === 0) { found.add(mid); break; }
      if (c < 0) lo = mid + 1; else hi = mid;
    }
  }
  return [...found].sort((a, b) => a - b).map((i) => entries[i]);
}
