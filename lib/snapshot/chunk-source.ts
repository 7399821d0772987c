/**
 * What the restorer needs from wherever chunks live: a store (lib/store/chunk-store.ts) or an
 * archive file (lib/fxar/archive-reader.ts). Both verify every chunk against its id.
 */

/** Where a chunk's record lies in a local file, so a restore worker can read it directly. */
export interface StoredPlace {
  /** Path of the pack or archive file. */
  path: string;
  /** Offset of the record header. */
  offset: number;
  storedLength: number;
  rawLength: number;
  codec: number;
  /** Record header layout: a store pack's (44 bytes) or an FXAR archive's (48 bytes). */
  layout: 'pack' | 'fxar';
}

export interface ChunkSource {
  /** Reads a chunk, decompresses it and verifies it against its id. */
  loadChunk(id: Uint8Array): Promise<Uint8Array>;
  /** loadChunk preferring a synchronous read (trees are loaded one per directory). */
  loadChunkPreferSync(id: Uint8Array): Promise<Uint8Array>;
  /** True when placeOf works: the chunks are in local files a worker thread can read. */
  readonly local: boolean;
  placeOf(id: Uint8Array): Promise<StoredPlace>;
}
