/**
 * What the restorer needs from wherever chunks live: a store (lib/store/chunk-store.ts) or an
 * archive file (lib/fxar/archive-reader.ts). Both verify every chunk against its id.
 */
import type { StoredPlace } from '../store/index.js';

export type { StoredPlace };

export interface ChunkSource {
  /** Reads a chunk, decompresses it and verifies it against its id. */
  loadChunk(id: Uint8Array): Promise<Uint8Array>;
  /** loadChunk preferring a synchronous read (trees are loaded one per directory). */
  loadChunkPreferSync(id: Uint8Array): Promise<Uint8Array>;
  /** True when placeOf works: the chunks are in local files a worker thread can read. */
  readonly local: boolean;
  /** Synchronous: an index or table lookup, no read (a promise per chunk was a measurable share of a restore's main thread). */
  placeOf(id: Uint8Array): StoredPlace;
  /** True when fetchedPlace works (a store in a bucket). */
  readonly fetchesRecords?: boolean;
  /** The chunk's place with its record fetched (StoredPlace.record, a view of a read-ahead window: copied before it goes to a worker). */
  fetchedPlace?(id: Uint8Array): Promise<StoredPlace>;
}
