/**
 * What a running daemon tells the outside: Prometheus metrics (prom-client, served over HTTP
 * by daemon-control.ts) and the status document of `foxingd status`. Both are read from the
 * live syncs' and cutters' own figures when asked, so nothing is counted twice and an idle
 * daemon does no work for them.
 *
 * Metrics (all labelled by source, and target where there is one): events seen, lost-event
 * notices (overflows, limits), rescans, operations, retries, failures, bytes copied, bytes
 * delta updates saved, queue depth, operations in flight, replication lag (the oldest waiting
 * change, seconds), paused (0/1); per store: snapshots cut, failed cuts, bytes read into the
 * store, the last cut's time.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { displayPath } from '../fs/fs-path.js';
import type { FileVersions } from './file-versions.js';
import type { LiveSync, LiveSyncStats } from './live-sync.js';
import type { SnapshotCutter } from './snapshot-cutter.js';

export interface Watched { sync: LiveSync; cutter?: SnapshotCutter; versions?: FileVersions }

type SyncCounter = keyof Pick<LiveSyncStats, 'changes' | 'overflows' | 'rescans' | 'operations' | 'retries' | 'failures' | 'bytes' | 'reused'>;

const SYNC_COUNTERS: Array<[string, string, SyncCounter]> = [
  ['foxingd_events_total', 'changes reported by the event source', 'changes'],
  ['foxingd_events_lost_total', 'lost-event notices (queue overflows, watch limits) that forced a rescan', 'overflows'],
  ['foxingd_rescans_total', 'full comparisons of source and mirror', 'rescans'],
  ['foxingd_operations_total', 'mirror operations done (sync, move, rescan)', 'operations'],
  ['foxingd_retries_total', 'operations tried again after a failure', 'retries'],
  ['foxingd_failures_total', 'operations given up (a MIRROR warning each)', 'failures'],
  ['foxingd_bytes_copied_total', 'data bytes written to mirrors', 'bytes'],
  ['foxingd_delta_bytes_saved_total', 'bytes delta updates took from old files instead of writing', 'reused'],
];

export function daemonRegistry(watched: () => readonly Watched[]): Registry {
  const registry = new Registry();
  const labelsOf = (w: Watched) => ({ source: displayPath(w.sync.src), target: w.sync.dest ? displayPath(w.sync.dest) : '' });
  const seen = new Map<string, number>();
  for (const [name, help, field] of SYNC_COUNTERS) {
    new Counter({
      name, help, labelNames: ['source', 'target'], registers: [registry],
      collect() {
        for (const w of watched()) {
          const labels = labelsOf(w), key = `${name}\0${labels.source}\0${labels.target}`;
          const now = w.sync.stats[field], before = seen.get(key) ?? 0;
          // A counter is shown at 0 from the first scrape: a series that first appears at 1
          // hides that first increase from Prometheus's rate() and increase().
          if (now > before || !seen.has(key)) this.inc(labels, Math.max(0, now - before));
          seen.set(key, now);
        }
      },
    });
  }
  const gauge = (name: string, help: string, value: (w: Watched) => number) => new Gauge({
    name, help, labelNames: ['source', 'target'], registers: [registry],
    collect() { for (const w of watched()) this.set(labelsOf(w), value(w)); },
  });
  gauge('foxingd_queue_depth', 'mirror operations waiting or running', (w) => w.sync.backlog);
  gauge('foxingd_copies_in_flight', 'mirror operations running', (w) => w.sync.running);
  gauge('foxingd_replication_lag_seconds', 'how long the oldest change not yet mirrored has waited', (w) => w.sync.lagMs / 1000);
  gauge('foxingd_paused', '1 while the mirror is paused (a root gone, a full target)', (w) => (w.sync.isPaused ? 1 : 0));
  const storeGauge = (name: string, help: string, value: (c: SnapshotCutter) => number) => new Gauge({
    name, help, labelNames: ['source', 'store'], registers: [registry],
    collect() { for (const w of watched()) if (w.cutter) this.set({ source: displayPath(w.sync.src), store: w.cutter.store }, value(w.cutter)); },
  });
  storeGauge('foxingd_snapshots_cut', 'continuous snapshots cut since the start', (c) => c.stats.cuts);
  storeGauge('foxingd_snapshot_failures', 'snapshot cuts that failed since the start', (c) => c.stats.failures);
  storeGauge('foxingd_bytes_ingested', 'bytes read into the store by the cuts since the start', (c) => c.stats.readBytes);
  storeGauge('foxingd_snapshot_cut_seconds', 'how long the last cut took', (c) => c.stats.lastCutMs / 1000);
  const versionGauge = (name: string, help: string, value: (v: FileVersions) => number) => new Gauge({
    name, help, labelNames: ['source', 'target'], registers: [registry],
    collect() { for (const w of watched()) if (w.versions) this.set(labelsOf(w), value(w.versions)); },
  });
  versionGauge('foxingd_versions_recorded', 'file versions recorded since the start (enable_versioning)', (v) => v.stats.versions);
  versionGauge('foxingd_versions_forgotten', 'file versions the policy dropped since the start', (v) => v.stats.forgotten);
  return registry;
}

/** The document `foxingd status` prints. */
export function statusDocument(watched: readonly Watched[], started: number): unknown {
  return {
    pid: process.pid, uptimeSeconds: Math.round((Date.now() - started) / 1000),
    mirrors: watched.map((w) => ({
      source: displayPath(w.sync.src), target: w.sync.dest ? displayPath(w.sync.dest) : null,
      paused: w.sync.isPaused, queue: w.sync.backlog, running: w.sync.running, lagSeconds: w.sync.lagMs / 1000, ...w.sync.stats,
      ...(w.cutter ? { store: w.cutter.store, snapshots: { ...w.cutter.stats } } : {}),
      ...(w.versions ? { versions: { store: w.versions.store, ...w.versions.stats } } : {}),
    })),
  };
}
