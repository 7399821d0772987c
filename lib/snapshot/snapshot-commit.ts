/**
 * The last step of every producer of a snapshot (snap create, tar import): the record, written
 * after everything it refers to is durable and indexed (formats/store.md §12).
 *
 * The rule it keeps: a snapshot is never recorded unless every chunk it references is in the
 * store. A producer checks what it reuses against the store as it was when it started (the
 * archiver's parent chunk lists, every producer's deduplication against the index, which
 * Store.reconcilePacks brought in step with packs/ first). If the store's loss epoch changed
 * while the producer ran (another process found a pack missing, or rebuilt the index), the
 * snapshot's own trees are walked once more and every chunk looked up before the record goes.
 */
import { ToolkitError } from '../errors/index.js';
import type { Store } from '../store/chunk-store.js';
import { encodeSnapshot, type SnapshotRecord } from './snapshot-record.js';
import { walkTree } from './tree-walk.js';

/** Writes the record (with the loss epoch the producer started under); returns its id. */
export async function commitSnapshot(store: Store, record: SnapshotRecord, startEpoch: string, signal?: AbortSignal): Promise<{ id: string; record: SnapshotRecord }> {
  if (store.lossEpoch() !== startEpoch) await checkPresent(store, Buffer.from(record.tree, 'hex'), signal);
  const full: SnapshotRecord = { ...record, lossEpoch: startEpoch };
  const { id, bytes } = encodeSnapshot(full);
  // Not written when its catalogue entry would not fit, nor before every index write so far is
  // durable: a full disk or a failing one fails the snapshot here, cleanly, with no record.
  store.index.requireSpace(1);
  await store.index.flushed();
  await store.storage.put('snapshot', id, bytes);
  try {
    await store.index.putSnapshot(id, full);
    await store.index.flushed();
  } catch (err) {
    // The record is durable, but the command fails: it is taken back, so that a failed
    // command leaves no snapshot (best effort: if even that fails, the snapshot is complete
    // and the next command lists it).
    await store.storage.remove('snapshot', id).catch(() => {});
    throw err;
  }
  return { id, record: full };
}

async function checkPresent(store: Store, root: Buffer, signal?: AbortSignal): Promise<void> {
  const seen = new Set<string>();
  let missing: { chunk: string; path: string } | null = null;
  await walkTree(store, root, {
    enterTree: (id) => !missing && !seen.has(id.toString('latin1')) && !!seen.add(id.toString('latin1')),
    chunk(id, path) {
      if (!missing && !store.index.hasChunk(id)) missing = { chunk: id.toString('hex'), path };
    },
    treeError(id, path) { missing ??= { chunk: id.toString('hex'), path: path || '.' }; },
  }, signal);
  const m = missing as { chunk: string; path: string } | null;
  if (m) {
    throw new ToolkitError('CHUNKS_LOST', `${store.root}: chunks were lost from the store while the snapshot ran (${m.path} needs chunk ${m.chunk.slice(0, 16)}); no snapshot was recorded: run it again`,
      { path: store.root, chunk: m.chunk });
  }
}
