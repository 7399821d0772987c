/**
 * The store's words for a chunk as others hold it: a reference in a file's chunk list (the tree
 * entry keeps these), and the place of its record in a local file (for a restore worker that
 * reads packs, or an archive, directly).
 */

export interface ChunkRef {
  id: Buffer;
  /** Raw (uncompressed) length: lets a reader find a byte offset without the index. */
  length: number;
}

/**
 * Where a chunk's record lies in a local file, so a restore worker can read it directly; or,
 * for a store whose packs a worker cannot open (a bucket), the record itself, already fetched.
 */
export interface StoredPlace {
  /** Path of the pack or archive file (for a fetched record: the object, as messages name it). */
  path: string;
  /** Offset of the record header. */
  offset: number;
  storedLength: number;
  rawLength: number;
  codec: number;
  /** Record header layout: a store pack's (44 bytes) or an FXAR archive's (48 bytes). */
  layout: 'pack' | 'fxar';
  /**
   * The record (header and payload) when it was fetched rather than lying in a local file (a
   * view of a read-ahead window until a restore copies it for its worker: copyRecords).
   */
  record?: Uint8Array;
}
