/**
 * Garbage collection, mark and sweep: mark every chunk the kept snapshots reference (walking
 * their trees, each tree once), then sweep the packs (lib/store/pack-sweep.ts).
 *
 * The caller must hold the store's exclusive lock: no writer may be deduplicating against a
 * chunk while gc decides it is garbage (formats/store.md §Garbage collection). Under that
 * lock gc first indexes packs that dead writers left unindexed and removes their temporary
 * files, so their chunks are judged like any other.
 *
 * If any kept snapshot's tree cannot be read, or a snapshot record does not verify, gc stops
 * before deleting anything: it cannot know what the unreadable part references.
 */
import { IntegrityError, isAbortError, ToolkitError } from '../errors/index.js';
import type { Warn } from '../errors/index.js';
import { type ChunkTable, type Store, storeMaintenance, type SweepResult } from '../store/index.js';
import { killPoint } from '../util/kill-point.js';
import { startPhase, type Progress } from '../util/progress.js';
import { listSnapshots, shortId, type SnapshotListing } from './snapshot-catalogue.js';
import { walkTree } from './tree-walk.js';

export interface GcOptions {
  /** Snapshots whose chunks stay (default: every snapshot in the catalogue). */
  keep?: SnapshotListing[];
  dryRun?: boolean;
  repackThreshold?: number;
  /** Delete quarantined snapshot records first, so gc may free what only they named. */
  forgetQuarantined?: boolean;
  onWarn?: Warn;
  signal?: AbortSignal;
  /** Live counters, by phase: 'mark' (snapshots whose trees are walked), 'sweep' (packs and their bytes). */
  progress?: Progress;
}

export interface GcResult extends SweepResult {
  snapshots: number;
  trees: number;
  /** Bytes of the mark table: the part of gc's memory that grows with the store. */
  markBytes: number;
  tmpRemoved: number;
  /** Quarantined snapshot records: deleted with --forget-quarantined; a dry run without it freed as if they were. */
  quarantined: string[];
  forgetQuarantined: boolean;
}

/** Marks the chunks of `snapshots` in a new set. */
export async function markLive(store: Store, snapshots: SnapshotListing[], signal?: AbortSignal, progress?: Progress): Promise<{ live: ChunkTable; trees: number }> {
  const { ChunkTable } = await storeMaintenance();
  const live = new ChunkTable(store.index.totals().chunks);
  const walked = new ChunkTable();
  let trees = 0;
  startPhase(progress, 'mark', 'snapshots', snapshots.length, null);
  for (const s of snapshots) {
    try {
      await walkTree(store, Buffer.from(s.record.tree, 'hex'), {
        enterTree(id) {
          // A chunk can be marked as data before it is met as a tree (identical bytes): the
          // walked set, not presence in `live`, says whether its subtrees were marked.
          if (!walked.add(id)) return false;
          live.add(id);
          trees++;
          return true;
        },
        chunk(id) { live.add(id); },
      }, signal);
    } catch (err) {
      if (isAbortError(err)) throw err;
      throw new IntegrityError(`${store.root}: snapshot ${shortId(s.id)} cannot be read (${(err as Error).message}); nothing was deleted (run 'fxcp store check')`,
        { path: store.root, snapshot: s.id });
    }
    if (progress) progress.files++;
  }
  return { live, trees };
}

export async function collectGarbage(store: Store, opts: GcOptions = {}): Promise<GcResult> {
  // The index is a cache: bringing it up to date changes no data, so a dry run does it too.
  await store.reconcile(opts.onWarn);
  const tmpRemoved = opts.dryRun ? 0 : await store.cleanTmp();
  // A record on disk that the catalogue could not take (it does not verify) still names data
  // somebody may want: gc cannot know what it references, so it stops. `store repair` moves
  // such records to quarantine/, after which gc frees what only they referenced.
  for await (const id of store.storage.list('snapshot')) {
    if (!store.index.hasSnapshot(id)) {
      throw new IntegrityError(`${store.storage.describe('snapshot', id)}: snapshot record is damaged; nothing was deleted (run 'fxcp store repair' to quarantine it)`,
        { path: store.storage.describe('snapshot', id), snapshot: id });
    }
  }
  const { forgetQuarantinedSnapshots, sweepPacks } = await storeMaintenance();
  const quarantined = await quarantineHold(store, opts);
  const keep = opts.keep ?? listSnapshots(store);
  const { live, trees } = await markLive(store, keep, opts.signal, opts.progress);
  killPoint('gc:after-mark');
  // Forgotten only once the mark has succeeded: a gc that stops before it deletes nothing.
  if (!opts.dryRun && quarantined.length > 0) await forgetQuarantinedSnapshots(store, quarantined);
  const sweep = await sweepPacks(store, live, { dryRun: opts.dryRun, repackThreshold: opts.repackThreshold, onWarn: opts.onWarn, signal: opts.signal, progress: opts.progress });
  return { ...sweep, snapshots: keep.length, trees, markBytes: live.bytes, tmpRemoved, quarantined, forgetQuarantined: !!opts.forgetQuarantined };
}

/**
 * Quarantined snapshot records (repair put them there: they did not verify, and the index held
 * no good copy) may name data no other snapshot keeps, and which data cannot be known: nothing
 * is deleted while they are there, unless gc is told to forget them. Throws unless that was
 * asked or this is a dry run (which reports what gc would free once they are forgotten); returns
 * their ids. Prune calls it before it removes any record.
 */
export async function quarantineHold(store: Store, opts: Pick<GcOptions, 'forgetQuarantined' | 'dryRun'>): Promise<string[]> {
  const { quarantineDir, quarantinedSnapshots } = await storeMaintenance();
  const ids = await quarantinedSnapshots(store);
  if (ids.length > 0 && !opts.forgetQuarantined && !opts.dryRun) {
    const where = quarantineDir(store, 'snapshot');
    throw new ToolkitError('QUARANTINED_SNAPSHOTS', `${where}: ${ids.length} quarantined snapshot record${ids.length === 1 ? '' : 's'} (${ids.map(shortId).join(', ')}) may name data no other snapshot keeps; nothing was deleted (look at ${ids.length === 1 ? 'it' : 'them'}, then run 'fxcp store gc ${store.root} --forget-quarantined' to let gc free that data)`,
      { path: where, snapshots: ids });
  }
  return ids;
}
