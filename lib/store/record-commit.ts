/**
 * The last step of every producer of a snapshot (snap create, tar import, archive import): the
 * record, written after everything it refers to is durable and indexed (formats/store.md §12).
 * Store.commitSnapshot runs it; no producer writes a record any other way.
 *
 * The rule it keeps: a snapshot is never recorded unless every chunk it references is in the
 * store. A producer checks what it reuses against the store as it was when it started (the
 * archiver's parent chunk lists, every producer's deduplication against the index, which
 * Store.reconcilePacks brought in step with packs/ first). If the store's loss epoch changed
 * while the producer ran (another process found a pack missing, or rebuilt the index), the
 * producer's `checkReferences` (a walk of the snapshot's own trees, which only the producer's
 * layer knows how to read) runs once more before the record goes. A producer that cannot vouch
 * for its chunks at all (an archive import) gives no start epoch: the check always runs.
 *
 * Order: the check; room for the catalogue entry; every index write so far durable; the record
 * (durable, atomic); its catalogue entry, durable. A catalogue write that fails takes the record
 * back, so that a failed command leaves no snapshot.
 */
import type { StoreIndex } from '../index/store-index.js';
import type { BlobStorage } from './blob-storage.js';

/** A snapshot record ready to be written: its id (the hash of `bytes`), its bytes, and the parsed record the catalogue keeps. */
export interface RecordToCommit {
  id: string;
  bytes: Uint8Array;
  record: unknown;
}

export interface CommitChecks {
  /** The loss epoch the producer started under; absent: checkReferences always runs. */
  startEpoch?: string;
  /** Throws (naming what is missing) unless every chunk the record refers to is in the store. */
  checkReferences: () => Promise<void>;
}

export async function commitRecord(index: StoreIndex, storage: BlobStorage, rec: RecordToCommit, checks: CommitChecks): Promise<void> {
  if (checks.startEpoch === undefined || index.lossEpoch() !== checks.startEpoch) await checks.checkReferences();
  // Not written when its catalogue entry would not fit, nor before every index write so far is
  // durable: a full disk or a failing one fails the snapshot here, cleanly, with no record.
  index.requireSpace(1);
  await index.flushed();
  await storage.put('snapshot', rec.id, rec.bytes);
  try {
    await index.putSnapshot(rec.id, rec.record);
    await index.flushed();
  } catch (err) {
    // The record is durable, but the command fails: it is taken back (best effort: if even
    // that fails, the snapshot is complete and the next command lists it).
    await storage.remove('snapshot', rec.id).catch(() => {});
    throw err;
  }
}
