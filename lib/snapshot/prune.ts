/**
 * Prune: apply a retention policy to the snapshot catalogue, remove the snapshot records it
 * does not keep, then collect garbage. The caller holds the exclusive lock.
 *
 * Records are removed first (each file, then an fsync of snapshots/, then the catalogue), and
 * gc runs after: a kill between the two leaves fewer snapshots and garbage that the next gc
 * (or the rerun prune) frees. A dry run removes nothing and reports what gc would free if
 * the removed snapshots were gone.
 */
import type { Warn } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { killPoint } from '../util/kill-point.js';
import type { Progress } from '../util/progress.js';
import { collectGarbage, quarantineHold, type GcResult } from './garbage-collect.js';
import { applyRetention, type RetentionClock, type RetentionDecision, type RetentionPolicy } from './retention-policy.js';
import { listSnapshots, type SnapshotListing } from './snapshot-catalogue.js';

export interface PruneOptions {
  policy: RetentionPolicy;
  clock: RetentionClock;
  /** How snapshots are grouped before the policy is applied (default: host and source). */
  groupBy?: 'host-source' | 'host' | 'source' | 'none';
  dryRun?: boolean;
  repackThreshold?: number;
  onWarn?: Warn;
  signal?: AbortSignal;
  /** Live counters of the gc that follows the removal (GcOptions.progress). */
  progress?: Progress;
}

export interface PruneResult {
  decisions: Array<RetentionDecision & { snapshot: SnapshotListing; group: string }>;
  removed: string[];
  gc: GcResult;
}

export function groupKey(s: SnapshotListing, by: PruneOptions['groupBy']): string {
  switch (by ?? 'host-source') {
    case 'none': return '';
    case 'host': return s.record.host;
    case 'source': return s.record.source;
    default: return `${s.record.host}:${s.record.source}`;
  }
}

export async function prune(store: Store, opts: PruneOptions): Promise<PruneResult> {
  await store.reconcile(opts.onWarn);
  const all = listSnapshots(store);
  const byId = new Map(all.map((s) => [s.id, s]));
  const decided = applyRetention(all.map((s) => ({
    id: s.id, time: Date.parse(s.record.time), tags: s.record.tags, group: groupKey(s, opts.groupBy),
  })), opts.policy, opts.clock);
  const decisions = decided.map((d) => ({ ...d, snapshot: byId.get(d.id)!, group: groupKey(byId.get(d.id)!, opts.groupBy) }));
  const removed = decisions.filter((d) => !d.keep).map((d) => d.id);
  // Before any record goes: a gc that would then refuse must not leave a prune half done.
  await quarantineHold(store, { dryRun: opts.dryRun });
  if (!opts.dryRun && removed.length > 0) {
    await store.removeSnapshots(removed, () => killPoint('prune:after-first-record'));
    killPoint('prune:after-forget');
  }
  // A real run marks from the catalogue as it is after the removal; a dry run from what would be left.
  const keep = decisions.filter((d) => d.keep).map((d) => d.snapshot);
  const gc = await collectGarbage(store, { keep: opts.dryRun ? keep : undefined, dryRun: opts.dryRun, repackThreshold: opts.repackThreshold, onWarn: opts.onWarn, signal: opts.signal, progress: opts.progress });
  return { decisions, removed, gc };
}
