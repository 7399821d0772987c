/**
 * The store's loss epoch (formats/store.md §12.1): an opaque token that changes whenever the
 * store may have lost chunks. A snapshot records the token it started under; the next
 * snapshot reuses its parent's chunk lists without looking them up only when the token is
 * still the same. After a change it checks every reused list once against the index, and reads
 * again every file whose chunks are gone, so a fresh snapshot heals a store that lost a pack.
 *
 * The token lives in the index (StoreIndex.lossEpoch), and changes in the same transaction
 * that forgets lost packs, so no reader sees the one without the other. Every new index (a new
 * store, any rebuild: a rebuilt index cannot tell which packs the old one knew) starts with a
 * fresh token. Why a token and not a counter: only equality matters, and a token needs no
 * read-modify-write. An index written before tokens existed, like a record written before
 * them, is in epoch "0".
 */
import { randomTag } from '../util/random-tag.js';

/** The epoch of an index, and of a record, written before epochs existed. */
export const FIRST_LOSS_EPOCH = '0';

export function freshLossEpoch(): string {
  return randomTag(16);
}
