/**
 * Where a store lives: its blob storage, its index directory, and the directory its config,
 * locks, quarantine and temporary files are kept in. The caller chooses the backend (the CLI:
 * directoryLocation, a store on the local file system); Store.open only uses what it is given.
 *
 * Worker threads cannot be handed a BlobStorage object: they get a StorageDescriptor, plain
 * data that survives structured cloning, and build their own storage from it (storageFrom).
 * Only backends a worker can reach on its own have a descriptor (an in-memory storage has
 * none, so nothing that needs workers runs on it).
 */
import { join, resolve } from 'node:path';
import { ToolkitError } from '../errors/index.js';
import type { BlobStorage } from './blob-storage.js';
import { FsStorage } from './fs-storage.js';
import { DIRS } from './store-layout.js';
import { type S3Descriptor, S3Storage } from './s3-storage.js';

export interface StoreLocation {
  /** Where config, locks, quarantine and tmp/ live (the directory backend's root). */
  root: string;
  storage: BlobStorage;
  /** The LMDB index's directory (a cache of what storage holds). */
  indexDir: string;
}

/** What a worker thread needs to build the same storage: plain data. */
export type StorageDescriptor = { kind: 'dir'; root: string; directPacks?: boolean } | S3Descriptor;

/** What chunk workers receive to reach the store: its storage and its index, as data. */
export interface WorkerStoreRef {
  storage: StorageDescriptor;
  indexDir: string;
}

/**
 * A store in the local directory `root`: packs and records as files (fs-storage.ts), the index
 * in root/index. `directPacks: false` writes packs through the page cache (no O_DIRECT).
 */
export function directoryLocation(root: string, opts: { directPacks?: boolean } = {}): StoreLocation {
  const abs = resolve(root);
  return { root: abs, storage: new FsStorage(abs, opts), indexDir: join(abs, DIRS.index) };
}

/** The one place a worker builds its storage from a descriptor. */
export function storageFrom(d: StorageDescriptor): BlobStorage {
  switch (d.kind) {
    case 'dir': return new FsStorage(d.root, { directPacks: d.directPacks });
    case 's3': return new S3Storage(d.bucket, d.prefix, d.settings);
    default: throw new ToolkitError('INTERNAL', `unknown storage kind ${JSON.stringify((d as { kind: unknown }).kind)}`, {});
  }
}
