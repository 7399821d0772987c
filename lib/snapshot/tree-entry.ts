/**
 * A tree is one directory's listing: entries sorted by name bytes, each with full metadata.
 * Files point to the chunks of their content, directories to the id of their own tree.
 * Trees are stored as chunks, so an unchanged directory is stored once across snapshots.
 */
import type { EntryType, FileMeta } from '../fs/file-meta.js';

export interface ChunkRef {
  id: Buffer;
  /** Raw (uncompressed) length: lets a reader find a byte offset without the index. */
  length: number;
}

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
