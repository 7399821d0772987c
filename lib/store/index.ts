/**
 * The chunk store's public surface: everything outside lib/store imports from here, and from no
 * other file of lib/store (test/architecture/store-boundary.test.ts checks it). Worker scripts
 * of lib/store (chunk-worker, stream-chunk-worker, verify-worker) are loaded by path, not imported.
 * lib/store imports nothing from lib/snapshot: the snapshot layer hands it what it needs
 * (record bytes, a check that walks trees) through these methods.
 *
 * How data flows into packs (formats/store.md §Crash safety):
 *
 *   producers                 chunk intake                  pack pipeline              storage
 *   ---------                 ------------                  -------------              -------
 *   snap create  --files-->   chunk workers: cut, hash,     WorkerPacker (one per      packs/xx/*.pack
 *   (archiver)                dedup against index+pending,  worker)  \                 (temp blob, fsync,
 *   tar import   --streams->  compress (chunk-intake.ts)     \        > PackPipeline    rename: durable
 *                                                             \      /  pending ids,   before it is named)
 *   trees, fxar  --chunks-->  ChunkWriter (main thread) -----/      seal limit,            |
 *   import, tar               dedup, space guard                     failure latch,        |
 *   small files                                                      queue limit           |
 *                                                                        |                 |
 *                      index after data: a sealed pack is indexed   <----+  Store.indexSealed
 *                      (Store.indexSealed) only once durable; until then its ids are "pending"
 *                                                                        |
 *                      record last: Store.commitSnapshot (record-commit.ts) writes the
 *                      snapshot record once every pack it needs is durable and indexed
 *
 *   gc, repair: RepackRecords copies verified records into new packs, and swaps them for the
 *   old ones in one index transaction before any old pack is deleted.
 */
export { Store, type OpenOptions, type Rescue } from './chunk-store.js';
export type { MemberReader } from './member-reader.js';
export { withStore, type UseStoreOptions } from './open-store.js';
export { allowConcurrentStoreUses, inStoreTurn } from './store-turns.js';
export { directoryLocation, type RemoteStore, type StoreLocation, type StorageDescriptor, type WorkerStoreRef, workerTransfer } from './store-location.js';
export { type BlobKind, type BlobStorage, type BlobWriter, putThroughWriter } from './blob-storage.js';
export { FsStorage } from './fs-storage.js';
export { StoreLock } from './store-lock.js';
export { portDescriptor, type PortDescriptor } from './port-storage.js';
export { newStoreConfig, type StoreUpgrade } from './store-config.js';
export { upgradeConfigFile, upgradeStore } from './store-upgrade.js';
export { S3Client, type S3Settings } from './s3-client.js';
export { isS3Url, parseS3Url } from './s3-settings.js';
export { isSchemeStore } from './store-argument.js';
export type { ChunkRef, StoredPlace } from './chunk-ref.js';
export type { RecordToCommit, CommitChecks } from './record-commit.js';
export { FIRST_LOSS_EPOCH } from '../index/loss-epoch.js';
export { setIndexMapBudget } from '../index/map-budget.js';
export { CHUNK_BUNDLE, CHUNK_DATA, CHUNK_TREE, CONFIG_FILE, DIRS, RECORD_HEADER_BYTES, STORE_VERSION } from './store-layout.js';
export { checkRecord, decodeVerified } from './chunk-verify.js';
export { bundlesChunk, VerifiedBundles, type VerifiedBundle } from './verified-bundles.js';
export type { PackEntry } from './pack-codec.js';
export type { SealedPack } from './pack-writer.js';
// Writers (create, import) are loaded on first use: writers.ts says why.
export type { ChunkWriter, WriteStats } from './chunk-writer.js';
export type { StreamChunkPool } from './stream-chunk-pool.js';
export type { StreamChunker } from './stream-chunks.js';
export type StoreWriters = typeof import('./writers.js');
export function storeWriters(): Promise<StoreWriters> {
  return import('./writers.js');
}
export type { ChunkList, FileJob, FilePart, FileResult, FilesJob, FilesResult } from './chunk-worker.js';
export { ClaimTable } from './claim-table.js';
export { DEFAULT_REPACK_THRESHOLD } from './store-layout.js';
// Maintenance (check, repair, gc, stats) is loaded on first use: maintenance.ts says why.
export type { ChunkTable, U32Column } from './chunk-table.js';
export type { SweepResult } from './pack-sweep.js';
export type { PackCheckOptions, PackCheckResult, PackProblem } from './pack-check.js';
export type { PackDamage, SalvagedPack } from './pack-repair.js';
/** An archive written to an S3 object (snap export -o s3://...), loaded on first use. */
export async function openS3ObjectSink(...args: Parameters<typeof import('./s3-object-sink.js').openS3ObjectSink>) {
  return (await import('./s3-object-sink.js')).openS3ObjectSink(...args);
}
/**
 * An archive object in a bucket as a positional reader (snap restore s3://.../x.fxar), or null
 * when there is no such object; loaded on first use.
 */
export async function openS3Archive(url: string, opts: { env?: Readonly<Record<string, string | undefined>>; s3Endpoint?: string } = {}) {
  const [{ S3RangeReader }, { parseS3Url, readTextOrNull, resolveS3Settings }] = await Promise.all([import('./s3-range-reader.js'), import('./s3-settings.js')]);
  const { bucket, prefix } = parseS3Url(url);
  if (prefix === '') return null;
  const settings = resolveS3Settings({ env: opts.env ?? process.env, endpoint: opts.s3Endpoint, readFile: readTextOrNull });
  return S3RangeReader.open(bucket, prefix, settings);
}
export type StoreMaintenance = typeof import('./maintenance.js');
export function storeMaintenance(): Promise<StoreMaintenance> {
  return import('./maintenance.js');
}
export { ReadAhead } from './read-ahead.js';
