/**
 * The store's writing half: the main-thread chunk writer with its space guard, and the stream
 * chunking of tar import. The entry module (index.ts) loads it on first use (storeWriters()),
 * so a command that only reads (list, restore, export, diff) does not initialise these modules
 * and the pack pipeline behind them when it starts (about 6 ms, measured; docs/BENCHMARKS.md).
 */
export { ChunkWriter, storeSpaceGuard } from './chunk-writer.js';
export { StreamChunkPool } from './stream-chunk-pool.js';
export { StreamChunker } from './stream-chunks.js';
