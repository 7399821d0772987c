/**
 * What a command's handler gets besides its arguments: the output, the stop signal, the run
 * options, and openStore, the one way a command opens the store its STORE argument names. It
 * passes what every command would otherwise write out again (the command's name for the lock
 * file, --lock-wait, the signal that ends a wait, warnings, FOXING_DIRECT_PACKS), so a handler
 * says only what is its own: the lock it needs and how it reads.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Store, UseStoreOptions } from '../store/index.js';
import { parseLockWait } from './lock-wait.js';
import type { Output } from './output.js';
import type { RunOptions } from './run-options.js';

/** The part of opening a store that is each command's own choice. */
export type StoreOpening = Pick<UseStoreOptions, 'lock' | 'access' | 'create' | 'indexWalk' | 'rebuildIndex' | 'reportIndexDamage' | 'createBucket' | 'compactIndex'>;

export interface CommandContext {
  out: Output;
  signal: AbortSignal;
  /** What the environment asks of this run (FOXING_WORKERS, ...), read once by main.ts. */
  run: RunOptions;
  /** Opens the store of the command's STORE argument for fn, with its lock held until fn ends. */
  openStore<T>(opening: StoreOpening, fn: (store: Store) => Promise<T>): Promise<T>;
}

/**
 * The store a STORE argument names: the directory itself, or, for a destination tree kept with
 * `fxcp -a --snapshot`, its history store DEST/.foxing/store (when DEST is no store itself).
 */
function storeOf(path: string): string {
  const history = join(path, '.foxing', 'store');
  return !existsSync(join(path, 'config')) && existsSync(join(history, 'config')) ? history : path;
}

export function commandContext(command: string, argv: { store?: unknown; lockWait?: unknown; s3Endpoint?: unknown }, out: Output, signal: AbortSignal, run: RunOptions): CommandContext {
  return {
    out, signal, run,
    async openStore(opening, fn) {
      if (typeof argv.store !== 'string') throw new Error(`${command}: opens a store but has no STORE argument`);
      // Loaded here, not at the top: a restore from an archive never loads the store.
      const { withStore } = await import('../store/index.js');
      return withStore(/^(s3|ssh):\/\//.test(argv.store) ? argv.store : storeOf(argv.store), {
        ...opening, command, signal, onWarn: out.warn, directPacks: run.directPacks,
        s3Endpoint: typeof argv.s3Endpoint === 'string' ? argv.s3Endpoint : undefined,
        waitMs: opening.lock === 'none' ? 0 : parseLockWait(argv.lockWait as string | undefined),
      }, fn);
    },
  };
}
