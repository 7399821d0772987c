/**
 * What only an index holds, rescued before it is thrown away: a snapshot record that no longer
 * verifies on disk is written again from the catalogue's copy, when that copy re-encodes to
 * exactly the bytes the id names (indexCopyOf). So neither `store rebuild-index` nor `store
 * repair` can turn a damaged record into a lost snapshot while a good copy exists
 * (formats/store.md §16).
 */
import type { StoreIndex } from '../index/store-index.js';
import type { Warn } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { indexCopyOf } from './snapshot-catalogue.js';
import { encodeSnapshot } from './snapshot-record.js';

export interface RewrittenRecord { snapshot: string; reason: string }

/**
 * Rewrites every damaged record on disk that the old index holds a good copy of; warns
 * REWRITTEN for each. The old index is opened only if a record is damaged: opening it is
 * what a rebuild otherwise avoids (its check does not read below the tree roots).
 */
export async function rewriteDamagedRecords(store: Store, openOld: () => Pick<StoreIndex, 'getSnapshot'> | null, onWarn?: Warn): Promise<RewrittenRecord[]> {
  const out: RewrittenRecord[] = [];
  for await (const id of store.storage.list('snapshot')) {
    try {
      await store.verifySnapshotFile(id);
      continue;
    } catch (err) {
      const old = openOld();
      const copy = old && indexCopyOf(old, id);
      if (!copy) continue; // no good copy: the rebuild skips it, repair quarantines it
      await store.rewriteSnapshotFile(id, encodeSnapshot(copy).bytes);
      const reason = (err as Error).message;
      out.push({ snapshot: id, reason });
      onWarn?.('REWRITTEN', `${store.storage.describe('snapshot', id)}: damaged snapshot record written again from the index's verified copy (${reason})`, { snapshot: id });
    }
  }
  return out;
}
