/**
 * `fxcp -a --snapshot SRC DEST`: a history of DEST in a chunk store of its own,
 * `DEST/.foxing/store` (the store of docs/lifecycle.md, with its snapshots, prune and restore).
 *
 * A run takes a snapshot of DEST before it copies, so that everything the copy overwrites or
 * deletes is recorded first, and one after, DEST as it now stands. The snapshot before is an
 * incremental one (unchanged files are not read again); when it holds exactly what the store's
 * latest snapshot of DEST holds (the same root tree: DEST untouched since the last run), it is
 * dropped again, so an undisturbed series of runs lists one snapshot per run.
 *
 * `.foxing` (the store, the signatures) is left out of every snapshot, and never copied or
 * deleted as data (copy-signer.ts). The store lock is held exclusively for each snapshot; a
 * second run into the same DEST waits for it (--lock-wait) as any store command does.
 */
import { join, resolve } from 'node:path';
import { parseCodec } from '../codec/codec.js';
import type { Warn } from '../errors/index.js';
import { compileExcludes } from '../filter/exclude-rules.js';
import { archive } from '../snapshot/archiver.js';
import { checkSnapshot } from '../snapshot/snapshot-record.js';
import { STATE_DIR } from '../signature/signature-store.js';
import { withStore } from '../store/index.js';

/** The store of a destination tree, inside its state directory. */
export function historyStore(dest: string): string {
  return join(resolve(dest), STATE_DIR, 'store');
}

export interface HistoryOptions {
  onWarn: Warn;
  signal?: AbortSignal;
  workers?: number;
  waitMs?: number;
}

/** A snapshot of DEST into its store; `before`: dropped again when it equals the latest one. Returns its id, or null when dropped. */
export async function snapshotDest(dest: string, when: 'before' | 'after', opts: HistoryOptions): Promise<string | null> {
  return withStore(historyStore(dest), { create: true, lock: 'exclusive', command: `fxcp --snapshot (${when})`, signal: opts.signal, onWarn: opts.onWarn, waitMs: opts.waitMs },
    async (store) => {
      const r = await archive(store, {
        source: resolve(dest), tags: ['fxcp'], codec: parseCodec('zstd'), exclude: compileExcludes([`/${STATE_DIR}`]), signal: opts.signal, onWarn: opts.onWarn, workers: opts.workers,
      });
      if (when === 'before' && r.record.parent) {
        const parent = checkSnapshot(await store.readSnapshotFile(r.record.parent), r.record.parent);
        if (parent.tree === r.record.tree) {
          await store.removeSnapshots([r.id]);
          return null;
        }
      }
      return r.id;
    });
}
