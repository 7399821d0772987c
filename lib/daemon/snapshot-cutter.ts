/**
 * Continuous snapshots: the changes a watch sees (fs-change.ts) turned into snapshots of the
 * source in a chunk store, one every interval in which something changed, each built from the
 * previous one plus the directories that changed (ArchiveOptions.changedDirs): an unchanged
 * subtree keeps its tree id without being listed, so a cut costs what changed, not the
 * tree's size. `fxcp snap list|restore|diff|prune STORE` see them as any other snapshots.
 *
 * - The first cut after a start, and the first after a lost event (a `rescan`), list every
 *   directory (still with the parent shortcut: unchanged files are not read). So do cuts
 *   whose parent is not this cutter's previous cut (someone else snapshotted the source).
 * - The changes are swapped out when a cut begins: what changes during it goes into the next.
 *   A cut that fails hands its changes to the next one as "list everything".
 * - The store is opened, with a shared lock, only for each cut: `snap prune`, `store gc` and
 *   `store check` from cron take their exclusive lock in between.
 *
 * A closed file's content goes into the store right away (close-ingest.ts): durable there
 * within a fraction of a second, named by a snapshot at the next cut, which takes its chunk
 * list from the ingest instead of reading the file again.
 */
import { lstatSync, type Stats } from 'node:fs';
import { parseCodec } from '../codec/codec.js';
import type { Warn } from '../errors/index.js';
import type { ExcludeTest } from '../filter/exclude-rules.js';
import { displayPath } from '../fs/fs-path.js';
import { archive, type ArchiveResult } from '../snapshot/archiver.js';
import { HeldTrees } from '../snapshot/held-tree.js';
import { allowConcurrentStoreUses, setIndexMapBudget, type Store, withStore } from '../store/index.js';
import { ChangedDirs } from './changed-dirs.js';
import { CloseIngest } from './close-ingest.js';
import type { FsChange } from './fs-change.js';

export interface CutterOptions {
  intervalMs: number;
  /** What the snapshots leave out (the mirror's exclude patterns, compiled for the archiver). */
  exclude?: ExcludeTest;
  onWarn: Warn;
  log(line: string): void;
  signal?: AbortSignal;
  workers?: number;
  /**
   * Each snapshot made, with how long the cut took, the changes it was told of or why it listed
   * every directory, and the process's CPU time over the cut (every thread: the chunk workers'
   * too, and whatever else ran meanwhile, such as event handling).
   */
  onCut?(r: ArchiveResult, ms: number, dirs: number | { all: string }, cpuMs: number): void;
  /** Each closed file stored early (close-ingest.ts), with the milliseconds from its close's event to durable. */
  onDurable?(path: Buffer, ms: number): void;
}

/**
 * What the store's index may leave mapped in the daemon before lookups release it (map-budget.ts):
 * 16 MiB, about what releasing every 128 lookups left (0-30 MiB during a first cut). A daemon's
 * RSS is bounded at 256 MiB on a source of a million files (docs/daemon.md, "Memory"); fxcp's
 * 96 MiB would take a first cut past it, for a speed a daemon's first cut does not need.
 */
const DAEMON_INDEX_MAP_BYTES = 16 << 20;

export class SnapshotCutter {
  private changed: ChangedDirs;
  private dirCount = 0;
  /** The id of this cutter's last snapshot; null: the next cut lists everything. */
  private last: string | null = null;
  /** Why the next cut lists everything when `last` is null. */
  private noParent = 'the first cut since the start';
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  readonly stats = { cuts: 0, failures: 0, lastCutMs: 0, lastId: null as string | null, readBytes: 0 };

  private readonly root: Stats;
  /** The trees the last cut spliced, held for the next one (held-tree.ts). */
  private readonly held = new HeldTrees();

  /** Closed files stored before the cut (close-ingest.ts). */
  readonly ingest: CloseIngest;

  constructor(readonly source: Buffer, readonly store: string, private readonly opts: CutterOptions) {
    // Cuts, ingest batches and the daemon's other parts use stores side by side.
    allowConcurrentStoreUses();
    setIndexMapBudget(DAEMON_INDEX_MAP_BYTES);
    this.changed = new ChangedDirs(source);
    this.root = lstatSync(source);
    this.ingest = new CloseIngest(source, store, { onWarn: opts.onWarn, exclude: opts.exclude, onDurable: opts.onDurable, useStore: (fn) => this.useStore('foxingd (ingest)', fn) });
  }

  /** The store, one user at a time in this process: a cut or an ingest batch. */
  private turns: Promise<unknown> = Promise.resolve();
  private turn<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.turns.then(fn, fn);
    this.turns = next.catch(() => {});
    return next;
  }

  /** Whether this process has walked the store's index file once (store-index.ts IndexWalk). */
  private walked = false;

  /**
   * Runs `fn` with the store opened (shared lock), in its turn. The index file is walked at the
   * first open only: the daemon opens the store for every cut and every ingest batch, and a
   * walk costs ~0.1 s per million chunks; the file changes between opens only through LMDB
   * (other fxcp processes, a rebuild), which writes no garbage pages.
   */
  private useStore<T>(command: string, fn: (store: Store) => Promise<T>): Promise<T> {
    return this.turn(async () => {
      const r = await withStore(this.store, { create: true, lock: 'shared', command, onWarn: this.opts.onWarn, signal: this.opts.signal, indexWalk: this.walked ? 'none' : 'bounded' }, fn);
      this.walked = true;
      return r;
    });
  }

  change(c: FsChange): void {
    this.changed.add(c);
    this.dirCount++;
    this.ingest.change(c);
  }

  /** Cuts the first snapshot now (resolves when it is done), then one every interval with changes. */
  start(): Promise<void> {
    return this.runCut();
  }

  /** Stops the timer and waits for a running cut; then cuts once more if anything changed. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ingest.stop();
    await this.running;
    if (!this.changed.empty) await this.cut();
  }

  private runCut(): Promise<void> {
    const running = this.cut().finally(() => {
      this.running = null;
      if (!this.stopped) this.timer = setTimeout(() => { this.timer = null; void this.runCut(); }, this.opts.intervalMs);
    });
    this.running = running;
    return running;
  }

  private async cut(): Promise<void> {
    if (this.last !== null && this.changed.empty) return;
    // An unmounted or replaced source is not snapshotted (it would record an empty tree); its
    // changes wait, and the cut after its return lists everything.
    const now = lstatSync(this.source, { throwIfNoEntry: false });
    if (!now || now.dev !== this.root.dev || now.ino !== this.root.ino) {
      this.changed.add({ kind: 'rescan', path: null, why: 'the source root changed' });
      return;
    }
    const changed = this.changed, dirs = this.dirCount;
    this.changed = new ChangedDirs(this.source);
    this.dirCount = 0;
    const since = this.last !== null && !changed.everything ? this.last : null;
    const listedAll = since !== null ? null : this.last === null ? this.noParent : changed.why ?? 'every directory changed';
    const started = performance.now(), cpu = process.cpuUsage();
    const knownContent = this.ingest.takeKnown();
    try {
      const r = await this.useStore('foxingd (snapshot)',
        (store) => archive(store, {
          source: this.source.toString('utf8'), tags: ['foxingd'], codec: parseCodec('zstd'), signal: this.opts.signal, onWarn: this.opts.onWarn,
          workers: this.opts.workers, lowMemory: true, exclude: this.opts.exclude, knownContent, heldTrees: this.held, wholeTrees: true,
          changedDirs: since === null ? undefined : { since, touches: (rel) => changed.touches(rel), entriesChanged: (rel) => changed.entriesChanged(rel), touchedChildren: (rel) => changed.touchedChildren(rel), changedNames: (rel) => changed.changedNames(rel) },
        }));
      this.held.endCut();
      this.last = r.id;
      const ms = performance.now() - started;
      Object.assign(this.stats, { cuts: this.stats.cuts + 1, lastCutMs: ms, lastId: r.id, readBytes: this.stats.readBytes + r.record.stats.readBytes });
      const used = process.cpuUsage(cpu);
      this.opts.onCut?.(r, ms, listedAll === null ? dirs : { all: listedAll }, (used.user + used.system) / 1000);
    } catch (err) {
      this.last = null;  // the changes it took are lost to the next cut: that one lists everything
      this.held.endCut(false);
      this.noParent = 'the last cut failed';
      this.stats.failures++;
      this.opts.onWarn('SNAPSHOT', `${displayPath(this.source)}: no snapshot cut into ${this.store}: ${(err as Error).message}; the next cut lists the whole source`, { path: this.store });
    }
  }
}
