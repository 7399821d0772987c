/**
 * A new snapshot's record, committed through the store (snap create, tar import): encoded with
 * the loss epoch the producer started under, and handed to Store.commitSnapshot, which keeps
 * the crash-safety rule (lib/store/record-commit.ts). What this layer adds is the check the
 * store runs when the epoch moved: the snapshot's own trees walked, every chunk looked up.
 */
import { ToolkitError } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { encodeSnapshot, type SnapshotRecord } from './snapshot-record.js';
import { walkTree } from './tree-walk.js';

/** Writes the record (with the loss epoch the producer started under); returns its id. */
export async function commitSnapshot(store: Store, record: SnapshotRecord, startEpoch: string, signal?: AbortSignal): Promise<{ id: string; record: SnapshotRecord }> {
  const full: SnapshotRecord = { ...record, lossEpoch: startEpoch };
  const { id, bytes } = encodeSnapshot(full);
  await store.commitSnapshot({ id, bytes, record: full },
    { startEpoch, checkReferences: () => checkPresent(store, Buffer.from(record.tree, 'hex'), signal) });
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
