/**
 * `foxingd sync --watch`: one source kept mirrored on one target, live. The event source, the
 * change queue and the mirror put together:
 *
 *   1. the source is watched first (change-source.ts: fanotify as root, else inotify), its
 *      changes queued and held;
 *   2. the target is hydrated: the whole tree compared and copied with --delete (a target
 *      seeded by `fxcp -a` copies nothing but what changed since);
 *   3. the held changes run, then every new one, as it comes (change-queue.ts decides when and
 *      in what order; up to `concurrency` operations at once);
 *   4. with a store, the first snapshot is cut, then one every interval (snapshot-cutter.ts).
 * So nothing changed during the hydration is missed: it was queued before the copy began.
 *
 * Failures, by kind:
 *   - the source root is no longer the directory it was (unmounted, replaced) or the target
 *     root is gone (unmounted, removed): operations pause, changes keep queueing, the roots are
 *     looked at every PAUSE_POLL_MS, and on their return a rescan makes the target exact. An
 *     empty mount point is never mirrored as "everything deleted";
 *   - the target is full (ENOSPC, EDQUOT): likewise, until NO_SPACE_RESUME of it is free again
 *     (the copy engine leaves no temporary behind, and no file is torn: each is renamed into
 *     place whole or not at all); a versioned target first gives up its older versions
 *     (file-versions.ts makeRoom);
 *   - an operation that fails otherwise (it throws, or the copy could not write an entry) is
 *     retried after RETRY_MS (doubling, RETRIES times),
 *     then reported and left to the next change or rescan of its path.
 *
 * While paused, changes go to an on-disk outage journal (outage-journal.ts), replayed first at
 * the return; then the whole target is compared.
 *
 * Limits: the queue is in memory (a restart hydrates again: converges, but compares the whole
 * tree); one target per source.
 */
import { existsSync, lstatSync, type Stats } from 'node:fs';
import type { Warn } from '../errors/index.js';
import type { FilterRules } from '../filter/filter-list.js';
import { freeSpace, isNoSpace } from '../fs/free-space.js';
import { displayPath, joinPath, relPath, relPathString } from '../fs/fs-path.js';
import { ChangeQueue, MAX_ITEMS, MAX_WAIT_MS, type MirrorOp, QUIET_MS } from './change-queue.js';
import { type EventsChoice, openChangeSource } from './change-source.js';
import type { ChangeSource, FsChange } from './fs-change.js';
import type { FileVersions } from './file-versions.js';
import { Mirror, type MirrorOutcome } from './mirror.js';
import { journalPath, OutageJournal } from './outage-journal.js';
import type { SharedWatch } from './shared-watch.js';
import type { SnapshotCutter } from './snapshot-cutter.js';

export const PAUSE_POLL_MS = 1000;

/** A root that is no longer what it was, found in the middle of an operation (mirror.ts asks). */
class RootsGone extends Error {}
/** The share of a full target's size that must be free again before the mirror resumes. */
export const NO_SPACE_RESUME = 0.05;
export const RETRY_MS = 100;
export const RETRIES = 4;

export interface LiveSyncOptions {
  onWarn: Warn;
  /** A line for the log (stderr of the daemon). */
  log(line: string): void;
  /** Operations at once (each may copy in batches of its own). */
  concurrency: number;
  workers?: number;
  signal?: AbortSignal;
  /** Each operation done, with what it did. */
  onDone?(op: MirrorOp, outcome: MirrorOutcome): void;
  /** Continuous snapshots of the source (snapshot-cutter.ts), fed the same changes. */
  cutter?: SnapshotCutter;
  /** Which kernel interface watches the source (change-source.ts; default auto). */
  events?: EventsChoice;
  /** Operations queued at most before they give way to one rescan (change-queue.ts, MAX_ITEMS). */
  queueMax?: number;
  /** Exclude rules of the mirror (mirror.ts). */
  rules?: FilterRules | null;
  /** Per-file versions of what the mirror writes (file-versions.ts; enable_versioning). */
  versions?: FileVersions;
  /** Where the outage journal is kept (outage-journal.ts; default defaultStateDir()). */
  stateDir?: string;
  /** The source's watch, shared with its other mirrors (shared-watch.ts; `events` is then its own); default: one of its own. */
  watch?: SharedWatch;
  /** How often directories refused a watch are watched again, or else compared again (default REWATCH_MS). */
  rewatchMs?: number;
}

/**
 * A directory the kernel refused a watch (inotify's fs.inotify.max_user_watches) is compared
 * once, but its later changes go unseen: every REWATCH_MS it is watched again where the limit
 * now allows (and compared, for what changed meanwhile), else compared again. So a mirror over
 * the limit still converges, within this interval, and says so in one log line each time.
 */
export const REWATCH_MS = 60_000;

export interface LiveSyncStats {
  /** Changes the event source reported; those that were lost-event notices (overflows, limits). */
  changes: number;
  overflows: number;
  operations: number;
  written: number;
  deleted: number;
  renamed: number;
  rescans: number;
  retries: number;
  failures: number;
  /** Data bytes copied, and bytes delta updates took from old files instead. */
  bytes: number;
  reused: number;
}

export class LiveSync {
  readonly stats: LiveSyncStats = { changes: 0, overflows: 0, operations: 0, written: 0, deleted: 0, renamed: 0, rescans: 0, retries: 0, failures: 0, bytes: 0, reused: 0 };
  private readonly queue: ChangeQueue;
  private readonly mirror: Mirror | null;
  private source: ChangeSource | null = null;
  private held = true;
  private paused = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly root: Stats;
  private stopped = false;
  /** Where changes go while the mirror is paused (outage-journal.ts); null without a mirror. */
  private readonly journal: OutageJournal | null;
  private journalFailed = false;
  /** Directories refused a watch for the limit, by their path's bytes (rewatch). */
  private readonly unwatched = new Map<string, Buffer>();
  private rewatchTimer: NodeJS.Timeout | null = null;
  private rewatching = false;

  /** `dest` null: no mirror, the changes only feed the cutter (a source with a store alone). */
  constructor(readonly src: Buffer, readonly dest: Buffer | null, private readonly opts: LiveSyncOptions) {
    this.mirror = dest && new Mirror(src, dest, {
      onWarn: opts.onWarn, workers: opts.workers, signal: opts.signal, rules: opts.rules,
      onWritten: opts.versions && ((p, fresh, full) => opts.versions!.written(p, fresh, full)),
      rootsOk: () => { const why = this.rootsProblem(); if (why !== null) throw new RootsGone(why); },
    });
    this.queue = new ChangeQueue(QUIET_MS, MAX_WAIT_MS, opts.queueMax ?? MAX_ITEMS);
    this.root = lstatSync(src);
    this.journal = dest && new OutageJournal(journalPath(src, dest, opts.stateDir));
  }

  /** Watches, hydrates, then runs the changes held meanwhile; resolves once live (the hydration's result). */
  async start(): Promise<{ watches: number; events: string; hydration: Awaited<ReturnType<Mirror['hydrate']>> | null }> {
    const note = this.watch();
    try {
      this.opts.versions?.beginFull();
      const hydration = this.mirror && await this.mirror.hydrate();
      // A journal an earlier run left (stopped or killed while its target was away): the
      // hydration just compared everything it could name.
      if (this.journal && existsSync(this.journal.path)) {
        this.journal.remove();
        this.opts.log(`removed the outage journal of an earlier run (${this.journal.path}): the hydration covered it`);
      }
      // The target's device as hydrated: the same path on another device (an unmounted mount
      // point) is not the mirror.
      if (this.dest) this.destRoot = lstatSync(this.dest);
      this.opts.versions?.start();
      this.held = false;
      this.pump();
      await this.opts.cutter?.start();
      return { watches: this.source!.watches, events: note, hydration };
    } catch (err) {
      this.source?.close();  // nothing may keep the process alive after a failed start
      throw err;
    }
  }

  /** (Re)opens the event source on the source root; returns which one it is. */
  private watch(): string {
    this.source?.close();
    const hooks = { onChange: (c: FsChange) => this.change(c), skip: () => false };
    const opened = this.opts.watch ? this.opts.watch.open(hooks) : openChangeSource(this.opts.events ?? 'auto', this.src, hooks);
    this.source = opened.source;
    this.source.watchTree(this.src);
    return opened.note;
  }

  private destRoot: Stats | null = null;

  /** Stops watching, lets running operations end (queued ones are dropped: the next start hydrates). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.source?.close();
    if (this.timer) clearTimeout(this.timer);
    if (this.rewatchTimer) clearTimeout(this.rewatchTimer);
    await Promise.allSettled([...this.inFlight]);
    await this.opts.versions?.stop();
    await this.opts.cutter?.stop();
  }

  /** Waiting and running operations; those running; how long the oldest waiting change has waited (ms). */
  get backlog(): number { return this.queue.size; }
  get running(): number { return this.inFlight.size; }
  get lagMs(): number { return this.queue.oldestWait(performance.now()); }
  /** Whether operations are held (a root gone, a full target). */
  get isPaused(): boolean { return this.paused; }

  private change(c: FsChange): void {
    this.stats.changes++;
    if (c.kind === 'rescan') this.stats.overflows++;
    this.opts.cutter?.change(c);
    if (c.kind === 'rescan' && c.refused && c.path) {
      this.unwatched.set(c.path.toString('latin1'), c.path);
      this.rewatchTimer ??= setTimeout(() => this.rewatch(), this.opts.rewatchMs ?? REWATCH_MS).unref();
    }
    if (c.kind === 'rescan' && !(c.refused && this.rewatching)) this.opts.log(`rescan of ${c.path ? displayPath(c.path) : 'the whole source'}: ${c.why}`);
    if (!this.mirror) return;
    if (this.paused && this.toJournal(c)) return;
    const full = this.queue.add(c, performance.now());
    if (full && !this.fullLogged) this.opts.log(`rescan of the whole source: ${full}`);
    this.fullLogged = full !== null;
    this.pump();
  }

  /** The directories refused a watch, watched again where the limit allows, and compared again either way (REWATCH_MS). */
  private rewatch(): void {
    this.rewatchTimer = null;
    if (this.stopped || !this.source) return;
    const dirs = [...this.unwatched.values()];
    this.unwatched.clear();
    this.rewatching = true;
    try {
      // A directory refused again comes back through change() (and into `unwatched`); one
      // watched now is compared for what changed while it was not.
      for (const d of dirs) if (this.source.watchTree(d)) this.change({ kind: 'rescan', path: d, why: 'watched again after its watch was refused' });
    } finally {
      this.rewatching = false;
    }
    this.opts.log(`${dirs.length} director${dirs.length === 1 ? 'y' : 'ies'} refused a watch for the limit (fs.inotify.max_user_watches) watched again: ` +
      `${this.unwatched.size} still without one, compared again`);
  }

  /**
   * A change while paused, appended to the outage journal (memory stays flat however long the
   * target is away); false when the journal cannot be written (then it is queued in memory,
   * as before, bounded by the queue's limit).
   */
  private toJournal(c: FsChange): boolean {
    if (this.journalFailed) return false;
    try {
      if (c.kind === 'rescan' && c.path === null) {
        this.journal!.append(null);
      } else {
        for (const p of c.kind === 'moved' ? [c.from, c.path] : [c.path!]) {
          const rel = relPath(this.src, p);
          if (rel !== null) this.journal!.append(rel);
        }
      }
      return true;
    } catch (err) {
      this.journalFailed = true;
      this.opts.onWarn('MIRROR', `${this.journal!.path}: cannot write the outage journal (${(err as Error).message}); changes are kept in memory`, { path: this.journal!.path });
      return false;
    }
  }

  /**
   * The return after a pause: the journaled paths synced first (each once per batch, the
   * operations' own order and retries), then the whole target compared. A root gone again in
   * the middle pauses once more and keeps the journal for the next return.
   */
  private async replay(): Promise<void> {
    let replayed = 0;
    for (const batch of this.journal?.read() ?? []) {
      if (batch === null) break;  // everything may have changed: the comparison covers it
      for (let k = 0; k < batch.length && !this.paused && !this.stopped; k += this.opts.concurrency) {
        await Promise.all(batch.slice(k, k + this.opts.concurrency).map((rel) => this.run({ kind: 'sync', path: rel.length === 0 ? this.src : joinPath(this.src, rel) })));
      }
      replayed += batch.length;
    }
    if (this.paused || this.stopped) return;
    this.journal?.remove();
    this.opts.log(`resumed: ${replayed} journaled change${replayed === 1 ? '' : 's'} replayed; comparing the whole target`);
  }

  /** Whether the last change found the queue full (one log line per overflow, not per change). */
  private fullLogged = false;

  private pump(): void {
    if (!this.mirror || this.held || this.paused || this.stopped) return;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    const now = performance.now();
    if (!this.rootsThere()) return;
    for (const op of this.queue.take(now, this.opts.concurrency - this.inFlight.size)) {
      const p = this.run(op).finally(() => {
        this.inFlight.delete(p);
        this.queue.done(op);
        this.pump();
      });
      this.inFlight.add(p);
    }
    const next = this.queue.nextDue(now);
    if (next !== null) this.timer = setTimeout(() => { this.timer = null; this.pump(); }, Math.max(1, next - now));
  }

  private async run(op: MirrorOp): Promise<void> {
    // A rescan after lost events also watches again what may have been missed (directories
    // made while events were dropped, or whose watch was refused: inotify adds only those).
    if (op.kind === 'rescan' && op.path === null) this.source?.watchTree(this.src);
    for (let attempt = 0; ; attempt++) {
      if (this.stopped || !this.rootsThere()) return;
      const full = op.kind === 'rescan' && op.path === null;
      if (full) this.opts.versions?.beginFull();
      try {
        const o = await this.mirror!.run(op);
        // Only once it succeeded: the target is there (its versions are prepared again if a
        // lost .foxing made this a baseline), never re-created after it went away.
        if (full) this.opts.versions?.endFull();
        // Entries the copy could not write (a full comparison's were reported as it went): a
        // live operation is tried again like one that threw; a source entry gone meanwhile is
        // no failure (its removal is an event of its own).
        const failed = full ? [] : o.problems.filter((p) => p.code !== 'VANISHED');
        if (failed.length > 0 && attempt < RETRIES && !this.stopped) {
          this.stats.retries++;
          await new Promise((r) => setTimeout(r, RETRY_MS * 2 ** attempt));
          continue;
        }
        if (!full) for (const p of o.problems) this.opts.onWarn(p.code, p.message, { path: p.path });
        if (failed.length > 0) {
          this.stats.failures++;
          this.opts.onWarn('MIRROR', `${this.describe(op)}: not mirrored: ${failed.length} entr${failed.length === 1 ? 'y' : 'ies'} could not be copied (${failed[0].message})`, { path: this.describe(op) });
        }
        this.stats.operations++;
        this.fullBackoffMs = PAUSE_POLL_MS;
        this.stats.written += o.written;
        this.stats.deleted += o.deleted;
        this.stats.bytes += o.bytes;
        this.stats.reused += o.reused;
        if (o.renamed) this.stats.renamed++;
        if (op.kind === 'rescan') this.stats.rescans++;
        this.opts.onDone?.(op, o);
        return;
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof RootsGone || !this.rootsThere()) {
          // Not this operation's fault: it runs again with the rescan that follows the return.
          this.rootsThere();
          return;
        }
        if (isNoSpace(err)) { this.noSpace(err); return; }
        if (attempt >= RETRIES) {
          this.stats.failures++;
          this.opts.onWarn('MIRROR', `${this.describe(op)}: not mirrored: ${(err as Error).message}`, { path: this.describe(op) });
          return;
        }
        this.stats.retries++;
        await new Promise((r) => setTimeout(r, RETRY_MS * 2 ** attempt));
      }
    }
  }

  /** Whether both roots are as they were; if not, pauses until they are, then rescans. */
  private rootsThere(): boolean {
    const why = this.rootsProblem();
    if (why === null || this.paused) return why === null;
    this.pause(why, () => this.rootsProblem() === null, true);
    return false;
  }

  private rootsProblem(): string | null {
    const look = (p: Buffer) => { try { return lstatSync(p, { throwIfNoEntry: false }); } catch { return undefined; } };
    const s = look(this.src), d = this.dest && look(this.dest);
    if (s === undefined || s.dev !== this.root.dev || s.ino !== this.root.ino) return `the source ${displayPath(this.src)} is not the directory it was (unmounted or replaced?)`;
    if (d === undefined || (d !== null && !d.isDirectory())) return `the target ${displayPath(this.dest ?? '')} is gone`;
    // On another device than when hydrated: the mount under it is gone (the empty mount point
    // is not the mirror). A directory made anew on the same device is a target put back.
    if (d && this.destRoot && d.dev !== this.destRoot.dev) return `the target ${displayPath(this.dest!)} is on another file system than it was (unmounted?)`;
    return null;
  }

  /**
   * Stops running operations until `ready()` (looked at every PAUSE_POLL_MS); changes go to
   * the outage journal, and the return replays it, then rescans, which makes the target exact.
   */
  private pause(why: string, ready: () => boolean, rewatch = false): void {
    this.paused = true;
    this.opts.log(`paused: ${why}; changes go to ${this.journal?.path ?? 'memory'} and the target is compared in full when it can be written again`);
    const poll = setInterval(() => {
      if (this.stopped) { clearInterval(poll); return; }
      if (!ready()) return;
      clearInterval(poll);
      this.paused = false;
      // The roots may be other mounts now: watch them anew (inotify dropped its watches with
      // the old directories; a fanotify mark stays on the old file system).
      if (rewatch) try { this.watch(); } catch (err) { this.opts.onWarn('MIRROR', `${displayPath(this.src)}: cannot watch again: ${(err as Error).message}`, { path: displayPath(this.src) }); }
      // Queued operations wait for the replay (no two operations on one path at once).
      this.held = true;
      void this.replay().finally(() => {
        this.held = false;
        if (!this.paused) this.change({ kind: 'rescan', path: null, why: 'after the pause' });
      });
    }, PAUSE_POLL_MS);
  }

  /**
   * A full target: a pause until it has room again (NO_SPACE_RESUME of its size free, or 256
   * MiB), longer each time it fills again without an operation done in between (no thrashing
   * on a source that does not fit).
   */
  private noSpace(err: unknown): void {
    const dest = this.dest!;
    this.queue.add({ kind: 'rescan', path: null, why: 'after the target was full' }, performance.now());
    if (this.paused) return;
    // Versions kept on the target give way first (the resume below waits for the room anyway).
    void this.opts.versions?.makeRoom();
    const waitUntil = Date.now() + this.fullBackoffMs;
    this.fullBackoffMs = Math.min(this.fullBackoffMs * 2, 60_000);
    this.pause(`the target ${displayPath(dest)} is full (${(err as Error).message.split('\n')[0]})`, () => {
      if (Date.now() < waitUntil) return false;
      try {
        const { available, total } = freeSpace(dest);
        return available >= Math.min(total * NO_SPACE_RESUME, 256 * 1024 * 1024);
      } catch {
        return false;
      }
    });
  }

  /** How long the next pause for a full target lasts at least; reset by any operation done. */
  private fullBackoffMs = PAUSE_POLL_MS;

  private describe(op: MirrorOp): string {
    if (op.kind === 'rescan') return op.path ? displayPath(op.path) : displayPath(this.src);
    const rel = relPathString(this.src, op.path);
    return op.kind === 'move' ? `${relPathString(this.src, op.from)} -> ${rel}` : rel;
  }
}
