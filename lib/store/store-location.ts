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
import type { MessagePort } from 'node:worker_threads';
import { ToolkitError } from '../errors/index.js';
import type { BlobStorage } from './blob-storage.js';
import { FsStorage } from './fs-storage.js';
import { DIRS } from './store-layout.js';
import { type PortDescriptor, PortStorage } from './port-storage.js';
import { type S3Descriptor, S3Storage } from './s3-storage.js';
import type { StoreConfig, StoreUpgrade } from './store-config.js';
import type { Warn } from '../errors/index.js';

export interface StoreLocation {
  /**
   * A local directory: where config, locks, quarantine and tmp/ live (the directory backend's
   * root); for a remote store, its local cache (index, tmp/ for spills).
   */
  root: string;
  storage: BlobStorage;
  /** The LMDB index's directory (a cache of what storage holds). */
  indexDir: string;
  /** A store whose config and locks are not local files (s3-location.ts). */
  remote?: RemoteStore;
}

export interface RemoteLockRequest { exclusive: boolean; command: string; waitMs?: number; signal?: AbortSignal; onWarn?: Warn }

/** What a store kept elsewhere (an S3 bucket) does that a directory store does with files in `root`. */
export interface RemoteStore {
  /** How messages name the store (s3://BUCKET/PREFIX). */
  name: string;
  /** The config's text, read when the location was made; null when there is none. */
  configText: string | null;
  /** The config to create when there is none (its id already names the local cache). */
  freshConfig: StoreConfig | null;
  /** Creates the config if absent; false when another process created one meanwhile. */
  createConfig(text: string): Promise<boolean>;
  /** The error for a location without a config: NO_STORE when it is empty, NOT_A_STORE when it holds other things. */
  missingStore(): Promise<Error>;
  /** Takes the store's lock (the one asked for when the location was made, if it was: LocationOptions.lock). */
  lock(opts: RemoteLockRequest): Promise<{ release(): Promise<void> }>;
  /** Raises the config's format version to `to` (store-upgrade.ts); the caller holds the exclusive lock. */
  upgradeConfig(to: number): Promise<StoreUpgrade>;
  /** Removes what killed writers left (old temporary objects, unfinished uploads). */
  cleanTemporaries(): Promise<number>;
  /** Removes the config of a store this process created and that holds nothing. */
  removeIfUnused(): Promise<void>;
}

/** What a worker thread needs to build the same storage: plain data. */
export type StorageDescriptor = { kind: 'dir'; root: string; directPacks?: boolean } | S3Descriptor | PortDescriptor;

/** What chunk workers receive to reach the store: its storage and its index, as data. */
export interface WorkerStoreRef {
  storage: StorageDescriptor;
  indexDir: string;
  /** Writers may bundle small chunks (a store of version BUNDLES_SINCE_VERSION or later). */
  bundles: boolean;
  /** The index's map budget in the main thread (map-budget.ts), for the worker's own index; default its own. */
  mapBudgetBytes?: number;
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
    case 'port': return new PortStorage(d.port);
    default: throw new ToolkitError('INTERNAL', `unknown storage kind ${JSON.stringify((d as { kind: unknown }).kind)}`, {});
  }
}

/** What must be transferred (not cloned) with a worker's store reference: a storage port. */
export function workerTransfer(ref: WorkerStoreRef): MessagePort[] {
  return ref.storage.kind === 'port' ? [ref.storage.port] : [];
}
