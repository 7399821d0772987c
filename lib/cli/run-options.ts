/**
 * The run options the environment sets, read once by the CLI (main.ts) and passed down to the
 * library as ordinary options: the library reads no FOXING_* variable for these, so a test or a
 * daemon calling it in process says what it wants instead of setting process.env.
 *
 *   FOXING_WORKERS=N               worker threads of the chunk, restore, verify and compress pools
 *   FOXING_RESTORE_POOL_BYTES=N    a restore writing at most N bytes runs on the main thread alone
 *   FOXING_DIRECT_PACKS=0          packs are written through the page cache, not with O_DIRECT
 *
 * Limits: switches that choose an implementation for every thread of the process before any
 * command runs stay where they act, read from the environment the worker threads inherit:
 * FOXING_NO_NATIVE (lib/native/load.ts, also read by the build), FOXING_BLAKE3
 * (lib/hash/blake3.ts) and the test-only hooks FOXING_TEST_KILL_AT and FOXING_TEST_PAUSE_CHECK
 * (lib/util/kill-point.ts).
 */
export interface RunOptions {
  /** Worker threads per pool; undefined: one per core. */
  workers?: number;
  /** Bytes up to which a restore runs on the main thread alone; undefined: the restorer's default. */
  restorePoolBytes?: number;
  /** false: packs are written through the page cache; undefined: O_DIRECT where it works. */
  directPacks?: boolean;
}

export function runOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RunOptions {
  const workers = Number(env.FOXING_WORKERS);
  const poolBytes = Number(env.FOXING_RESTORE_POOL_BYTES);
  return {
    workers: Number.isInteger(workers) && workers > 0 ? workers : undefined,
    restorePoolBytes: env.FOXING_RESTORE_POOL_BYTES && Number.isSafeInteger(poolBytes) && poolBytes >= 0 ? poolBytes : undefined,
    directPacks: env.FOXING_DIRECT_PACKS === '0' ? false : undefined,
  };
}
