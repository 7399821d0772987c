/**
 * Opening a store for an operation: the lock it needs, then the store, with the lock released
 * when the operation ends however it ends. Writers (snapshot create, import, the daemon) and
 * readers that must not lose chunks mid-way (restore, export) take a shared lock; prune and gc
 * an exclusive one; listing takes none.
 *
 * A command that only reads (`access: 'read'`) also works on a store it cannot write (read-only
 * media): the store and its index are opened read-only (chunk-store.ts), and a shared lock
 * whose file cannot be written is skipped with one warning. Nobody can write that store
 * through this mount, so only a writer reaching it another way (another host, another mount)
 * could change it meanwhile.
 */
import { lmdbDamage } from '../index/store-index.js';
import { Store } from './chunk-store.js';
import { DIRS } from './store-layout.js';
import { StoreLock, type Warn } from './store-lock.js';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface UseStoreOptions {
  create?: boolean;
  lock: 'none' | 'shared' | 'exclusive';
  command: string;
  waitMs?: number;
  onWarn?: Warn;
  /** 'read' for commands that never write to the store (see Store.open); default 'write'. */
  access?: 'read' | 'write';
  /** The command rebuilds the index under its lock; the old one is never opened (Store.open). */
  rebuildIndex?: boolean;
}

/** Errors of a lock file that cannot be written where the store is read-only to us. */
const UNWRITABLE = new Set(['EROFS', 'EACCES', 'EPERM']);

export async function withStore<T>(path: string, opts: UseStoreOptions, fn: (store: Store) => Promise<T>): Promise<T> {
  const root = resolve(path);
  // Validate before locking, so a wrong path is reported as such and gets no locks/ directory.
  const store = await Store.open(root, { create: opts.create, onWarn: opts.onWarn, access: opts.access, command: opts.command, rebuildIndex: opts.rebuildIndex });
  let lock: StoreLock | null = null;
  try {
    if (opts.lock !== 'none') {
      try {
        mkdirSync(root, { recursive: true });
        lock = await StoreLock.acquire(root, { exclusive: opts.lock === 'exclusive', command: opts.command, waitMs: opts.waitMs, onWarn: opts.onWarn });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (opts.access !== 'read' || opts.lock !== 'shared' || !UNWRITABLE.has(code ?? '')) throw err;
        opts.onWarn?.('UNLOCKED', `${root}: cannot write a lock file (${code}): reading the store without a lock`, { path: root, errno: code });
      }
    }
    return await fn(store);
  } catch (err) {
    // Damage below what opening checks (index-file-check.ts) that LMDB itself reports.
    throw lmdbDamage(join(root, DIRS.index, 'index.mdb'), err, `; the index is a cache: run 'fxcp store rebuild-index ${root}'`) ?? err;
  } finally {
    await store.close();
    lock?.release();
  }
}
