/**
 * The store's maintenance half: pack checks, repair, gc's sweep, the quarantine and the chunk
 * tables check, gc and stats keep. The entry module (index.ts) loads it on first use
 * (storeMaintenance()), so a command that never maintains the store does not initialise these
 * modules when it starts (about 6 ms of every `snap list` or one-file restore, measured;
 * docs/BENCHMARKS.md).
 */
export { ChunkTable, U32Column } from './chunk-table.js';
export { sweepPacks } from './pack-sweep.js';
export { forgetQuarantinedSnapshots, quarantineBlob, quarantineDir, quarantinedSnapshots } from './quarantine.js';
export { checkPacks } from './pack-check.js';
export { findDamagedPacks, salvagePack } from './pack-repair.js';
