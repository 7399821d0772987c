/**
 * Opening a store for an operation: the lock it needs, then the store, with the lock released
 * when the operation ends however it ends. Writers (snapshot create, import, the daemon) and
 * readers that must not lose chunks mid-way (restore, export) take a shared lock; prune and gc
 * an exclusive one; listing takes none.
 */
import { Store } from './chunk-store.js';
import { StoreLock, type Warn } from './store-lock.js';
import { makeDirsSync } from '../fs/make-dirs.js';
import { resolve } from 'node:path';

export interface UseStoreOptions {
  create?: boolean;
  lock: 'none' | 'shared' | 'exclusive';
  command: string;
  waitMs?: number;
  onWarn?: Warn;
}

export async function withStore<T>(path: string, opts: UseStoreOptions, fn: (store: Store) => Promise<T>): Promise<T> {
  const root = resolve(path);
  // Validate before locking, so a wrong path is reported as such and gets no locks/ directory.
  const store = await Store.open(root, { create: opts.create, onWarn: opts.onWarn });
  let lock: StoreLock | null = null;
  try {
    if (opts.lock !== 'none') {
      makeDirsSync(root);
      lock = await StoreLock.acquire(root, { exclusive: opts.lock === 'exclusive', command: opts.command, waitMs: opts.waitMs, onWarn: opts.onWarn });
    }
    return await fn(store);
  } finally {
    await store.close();
    lock?.release();
  }
}
