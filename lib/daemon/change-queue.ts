/**
 * The daemon's pipeline between the event source and the mirror: changes in, mirror
 * operations out, in an order that is safe to run in parallel. Pure (the clock is a parameter);
 * tested with scripted sequences (test/daemon/change-queue.test.ts).
 *
 * Every operation is a reconciliation: `sync P` makes the target's P what the source's P is
 * when it runs (copy, or delete when gone); `move` renames on the target and then syncs both
 * names. So a change only has to name a path, and the mirror converges whatever the events
 * said, provided each change is followed by a sync of its path that starts after it. The queue
 * guarantees that:
 *   - a change to a path with a sync waiting merges into that sync (many writes: one copy);
 *     with one running, a new sync waits behind it;
 *   - operations on overlapping paths (equal, or one below the other) run one at a time, in
 *     the order their first change came; others run in parallel;
 *   - a file still being written (no IN_CLOSE_WRITE yet) waits until QUIET_MS pass without a
 *     change, but never more than MAX_WAIT_MS after its first, so a log that is always being
 *     appended to is still copied; a closed file or a removal goes at once;
 *   - created-then-removed files (editor temporaries) cost nothing: the sync finds no file on
 *     either side;
 *   - a `rescan` (lost events) takes over every waiting sync it covers;
 *   - memory is bounded: past `maxItems` waiting and running operations, the waiting ones are
 *     dropped for one rescan of everything (a burst of a million changes costs one comparison
 *     of the tree, not a million queued paths).
 */
import type { FsChange } from './fs-change.js';

export const QUIET_MS = 50;
export const MAX_WAIT_MS = 1000;
/** Operations queued at most before the waiting ones give way to one rescan (queue_max). */
export const MAX_ITEMS = 100_000;

export type MirrorOp =
  | { kind: 'sync'; path: Buffer }
  | { kind: 'move'; from: Buffer; path: Buffer }
  | { kind: 'rescan'; path: Buffer | null; why: string };

interface Item {
  op: MirrorOp;
  seq: number;
  due: number;
  first: number;
  running: boolean;
  /** Whether it may touch a whole subtree: a directory's sync, a move, a rescan. */
  wide: boolean;
}

const key = (p: Buffer) => p.toString('latin1');

/** Whether `a` and `b` are the same path or one lies under the other (null: everything). */
export function overlaps(a: Buffer | null, b: Buffer | null): boolean {
  if (a === null || b === null) return true;
  const [s, l] = a.length <= b.length ? [a, b] : [b, a];
  return l.subarray(0, s.length).equals(s) && (l.length === s.length || l[s.length] === 0x2f);
}

/** Whether `p` is `dir` or lies under it. */
function below(p: Buffer, dir: Buffer): boolean {
  return p.length >= dir.length && p.subarray(0, dir.length).equals(dir) && (p.length === dir.length || p[dir.length] === 0x2f);
}

function pathsOf(op: MirrorOp): Array<Buffer | null> {
  return op.kind === 'move' ? [op.from, op.path] : [op.path];
}

function conflict(a: MirrorOp, b: MirrorOp): boolean {
  return pathsOf(a).some((p) => pathsOf(b).some((q) => overlaps(p, q)));
}

export class ChangeQueue {
  private seq = 0;
  /** Every waiting or running item, oldest first. */
  private items: Item[] = [];
  /** The waiting (not running) sync of each path. */
  private readonly waiting = new Map<string, Item>();
  /** Paths with a sync running. */
  private readonly runningSyncs = new Map<string, number>();

  constructor(private readonly quietMs = QUIET_MS, private readonly maxWaitMs = MAX_WAIT_MS, private readonly maxItems = MAX_ITEMS) {}

  get size(): number { return this.items.length; }
  get running(): number { return this.items.filter((i) => i.running).length; }

  /** Queues `c`; returns the rescan it became when the queue was full (null otherwise). */
  add(c: FsChange, now: number): string | null {
    let full: string | null = null;
    if (this.items.length >= this.maxItems && c.kind !== 'rescan') {
      full = `more than ${this.maxItems.toLocaleString('en-US')} operations queued (queue_max)`;
      c = { kind: 'rescan', path: null, why: full };
    }
    if (c.kind === 'rescan') {
      // What it covers and has not started is done by the rescan itself (all of it, for a
      // rescan of everything: waiting moves and rescans too).
      // (A rescan of one directory takes over the syncs below it, not those of its parents.)
      const path = c.path;
      this.items = this.items.filter((i) => i.running || (path !== null && (i.op.kind !== 'sync' || !below(i.op.path, path))));
      for (const [k, i] of this.waiting) if (!this.items.includes(i)) this.waiting.delete(k);
      this.push({ kind: 'rescan', path, why: c.why }, now, true);
      return full;
    }
    if (c.kind === 'moved') {
      this.push({ kind: 'move', from: c.from, path: c.path }, now, true);
      return null;
    }
    const settled = c.kind === 'removed' || c.closed || c.dir;
    const w = this.waiting.get(key(c.path));
    if (w) {
      w.due = settled ? Math.min(w.due, now) : Math.min(Math.max(w.due, now + this.quietMs), w.first + this.maxWaitMs);
      w.wide ||= c.dir;
      return null;
    }
    const item = this.push({ kind: 'sync', path: c.path }, now, c.dir, settled ? now : now + this.quietMs);
    this.waiting.set(key(c.path), item);
    return null;
  }

  /** Up to `limit` operations that may start now; each must be handed back to `done`. */
  take(now: number, limit: number): MirrorOp[] {
    const out: MirrorOp[] = [];
    const wideBefore: Item[] = [];
    for (const item of this.items) {
      if (out.length >= limit) break;
      if (!item.running && item.due <= now && this.free(item, wideBefore)) {
        item.running = true;
        if (item.op.kind === 'sync') {
          this.waiting.delete(key(item.op.path));
          this.runningSyncs.set(key(item.op.path), (this.runningSyncs.get(key(item.op.path)) ?? 0) + 1);
        }
        out.push(item.op);
      }
      if (item.wide || item.op.kind !== 'sync') wideBefore.push(item);
      // A wide item that cannot start holds back everything under it (and a rescan of all, all).
      if (item.op.kind === 'rescan' && item.op.path === null && !item.running) break;
    }
    return out;
  }

  /** The operation `op` (from take) has finished, done or failed. */
  done(op: MirrorOp): void {
    const at = this.items.findIndex((i) => i.op === op);
    if (at < 0) return;
    this.items.splice(at, 1);
    if (op.kind === 'sync') {
      const k = key(op.path), n = (this.runningSyncs.get(k) ?? 1) - 1;
      if (n === 0) this.runningSyncs.delete(k);
      else this.runningSyncs.set(k, n);
    }
  }

  /** How long the oldest change not yet running has waited (0: none waits): the replication lag. */
  oldestWait(now: number): number {
    for (const i of this.items) if (!i.running) return now - i.first;
    return 0;
  }

  /** When take() can next give something not ready now: the earliest due time, or null. */
  nextDue(now: number): number | null {
    let next: number | null = null;
    for (const i of this.items) if (!i.running && i.due > now && (next === null || i.due < next)) next = i.due;
    return next;
  }

  private push(op: MirrorOp, now: number, wide: boolean, due = now): Item {
    const item: Item = { op, seq: this.seq++, due, first: now, running: false, wide };
    this.items.push(item);
    return item;
  }

  /**
   * Whether `item` may start: no earlier or running wide item overlaps it, and no sync of the
   * same path runs; a wide item also waits for every earlier item it overlaps.
   */
  private free(item: Item, wideBefore: Item[]): boolean {
    if (wideBefore.some((w) => conflict(w.op, item.op))) return false;
    if (item.op.kind === 'sync' && this.runningSyncs.has(key(item.op.path))) return false;
    if (!item.wide && item.op.kind === 'sync') return true;
    for (const other of this.items) {
      if (other === item) break;
      if (conflict(other.op, item.op)) return false;
    }
    // Running items after it in order (started before it could) conflict too.
    return !this.items.some((o) => o !== item && o.running && conflict(o.op, item.op));
  }
}
