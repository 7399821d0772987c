/**
 * The store's loss epoch (formats/store.md §2, §9): an opaque token that changes whenever the
 * store may have lost chunks. A snapshot records the token it started under; the next
 * snapshot reuses its parent's chunk lists without looking them up only when the token is
 * still the same. After a change it checks every reused list once against the index, and reads
 * again every file whose chunks are gone, so a fresh snapshot heals a store that lost a pack.
 *
 * Why a token and not a counter: only equality matters, two processes that change it at once
 * both leave a token no record carries, and no read-modify-write is needed.
 *
 * What changes it: a rebuilt index (it cannot tell what the old one knew), a pack the index
 * lists that is gone (Store.reconcilePacks), and repair. A store with no `loss-epoch` file
 * (created before it existed, and never changed since) is in epoch "0", as are records without
 * the field.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';
import { randomTag } from '../util/random-tag.js';

export const LOSS_EPOCH_FILE = 'loss-epoch';
/** The epoch of a store that never recorded one, and of records written before the field. */
export const FIRST_LOSS_EPOCH = '0';
/** An unreadable epoch file: equal to no record's epoch, so the next snapshot checks. */
const UNKNOWN_EPOCH = 'unknown';

export function readLossEpoch(root: string): string {
  try {
    const text = readFileSync(join(root, LOSS_EPOCH_FILE), 'latin1').trim();
    return /^[0-9a-f]{1,32}$/.test(text) ? text : UNKNOWN_EPOCH;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? FIRST_LOSS_EPOCH : UNKNOWN_EPOCH;
  }
}

/** Writes a fresh epoch durably and returns it. */
export async function newLossEpoch(root: string): Promise<string> {
  const epoch = randomTag(16);
  await writeFileAtomic(join(root, LOSS_EPOCH_FILE), Buffer.from(`${epoch}\n`, 'latin1'));
  return epoch;
}
