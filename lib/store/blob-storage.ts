/**
 * The small storage interface the chunk store is built on: named immutable blobs of two kinds
 * (packs and snapshot records), written atomically, read whole or by range. The local
 * directory backend is fs-storage.ts; a remote or object-storage backend implements the same
 * interface and passes the same conformance suite (test/conformance/blob-storage.test.ts).
 */
import type { StorageDescriptor } from './store-location.js';

export type BlobKind = 'pack' | 'snapshot';

/**
 * A blob being written. Nothing is visible under a real name until `commit`.
 *
 * Writes are appends, never positional: a backend may write each at its offset (a file), or
 * gather them into parts of its own size and upload those in order (S3 multipart: parts of at
 * least 5 MiB, numbered in order; s3-blob-writer.ts). So a producer writes whatever sizes suit
 * it (the pack writer's 1 MiB stages) and no producer knows about parts.
 */
export interface BlobWriter {
  /**
   * Appends `data` (parts are written back to back, in one call where the storage can). Calls
   * may overlap: each takes its place in the blob when called, and `data` must stay unchanged
   * until its promise resolves. A buffering backend resolves once it has copied `data` and has
   * no more than its bound of uploads in flight: that is the producer's backpressure.
   */
  write(data: Uint8Array | readonly Uint8Array[]): Promise<void>;
  /** Makes the blob durable and visible as `name`. */
  commit(name: string): Promise<void>;
  /** Drops everything written; safe to call after a failed write. */
  abort(): Promise<void>;
  readonly bytesWritten: number;
}

export interface BlobStorage {
  /** Writes a whole blob atomically and durably. */
  put(kind: BlobKind, name: string, data: Uint8Array): Promise<void>;
  /**
   * Starts a blob. `direct` is a hint for bulk data that will not be read back soon: write
   * around the page cache where the backend can (fs-storage: O_DIRECT, lib/fs/direct-io.ts).
   */
  create(kind: BlobKind, options?: { direct?: boolean }): Promise<BlobWriter>;
  get(kind: BlobKind, name: string): Promise<Buffer>;
  /** Optional synchronous get, for backends where a read is local (small blobs: snapshot records). */
  getSync?(kind: BlobKind, name: string): Buffer;
  /** Reads exactly `length` bytes at `offset`; a short read is a format error (truncated blob). */
  readRange(kind: BlobKind, name: string, offset: number, length: number): Promise<Buffer>;
  /**
   * Optional readRange whose bytes may be a view of a larger buffer the backend keeps (a
   * read-ahead window), not a copy: remote backends, for a restore that hands the records it
   * fetched to its workers and copies them on the way (s3-storage.ts).
   */
  readRangeView?(kind: BlobKind, name: string, offset: number, length: number): Promise<Buffer>;
  /** Optional synchronous readRange, for backends where a read is a local pread. */
  readRangeSync?(kind: BlobKind, name: string, offset: number, length: number): Buffer;
  size(kind: BlobKind, name: string): Promise<number>;
  /** Optional synchronous size, with readRangeSync. */
  sizeSync?(kind: BlobKind, name: string): number;
  exists(kind: BlobKind, name: string): Promise<boolean>;
  list(kind: BlobKind): AsyncIterable<string>;
  /** Optional synchronous list, for backends where listing is a local readdir. */
  listSync?(kind: BlobKind): string[];
  remove(kind: BlobKind, name: string): Promise<void>;
  /** The blob's path on the local file system, when the backend keeps blobs there (restore workers read packs directly). */
  localPath?(kind: BlobKind, name: string): string;
  /**
   * The pack size this storage takes best, when smaller than the store's (store-layout.ts
   * PACK_TARGET_BYTES): a bucket takes a pack of up to this size in one PUT (s3-blob-writer.ts).
   */
  readonly blobTarget?: number;
  /** Human-readable location of a blob, for messages. */
  describe(kind: BlobKind, name: string): string;
  /** How a worker thread builds the same storage (store-location.ts storageFrom); absent when it cannot. */
  readonly descriptor?: StorageDescriptor;
  /** Where repair puts blobs it cannot use, for a backend whose blobs are not local files (quarantine.ts). */
  readonly quarantine?: QuarantineArea;
  close(): Promise<void>;
}

/**
 * Quarantine beside the blobs (a bucket's PREFIX/quarantine/), not in a local directory: every
 * host that shares the store must see a quarantined snapshot record, because gc deletes nothing
 * while one is there (formats/store.md §16). Names are blob names; messages name `describe`.
 */
export interface QuarantineArea {
  /** Stores `data` as the quarantined blob `name` of `kind`; returns where, for messages. */
  put(kind: BlobKind, name: string, data: Uint8Array): Promise<string>;
  /** Names of the quarantined blobs of `kind`, sorted. */
  list(kind: BlobKind): Promise<string[]>;
  remove(kind: BlobKind, name: string): Promise<void>;
  /** The place quarantined blobs of `kind` go to, for messages. */
  describe(kind: BlobKind): string;
}

/** `put` for a backend whose whole-blob write is a blob writer's (create, write, commit; abort on failure). */
export async function putThroughWriter(storage: BlobStorage, kind: BlobKind, name: string, data: Uint8Array): Promise<void> {
  const w = await storage.create(kind);
  try {
    await w.write(data);
    await w.commit(name);
  } catch (err) {
    await w.abort();
    throw err;
  }
}
