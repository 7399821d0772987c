/**
 * Opens (or creates) the store at `root` on the given blob storage, in process: the one place
 * tests inject a storage (a FaultyStorage, a MemoryStorage), so a change to how Store.open
 * takes its storage is made here only.
 */
import { join } from 'node:path';
import type { BlobStorage } from '../../lib/store/blob-storage.js';
import { type OpenOptions, Store } from '../../lib/store/chunk-store.js';

export function openStoreWith(root: string, storage: BlobStorage, opts: OpenOptions = {}): Promise<Store> {
  return Store.open({ root, storage, indexDir: join(root, 'index') }, { create: true, ...opts });
}
