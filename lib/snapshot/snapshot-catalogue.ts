/**
 * Listing and choosing snapshots: by id (or unique id prefix), the latest, or the latest at or
 * before a date. Reads the index's catalogue, which reconcile() keeps in step with the records.
 */
import { NotFoundError, UsageError } from '../errors/index.js';
import type { StoreIndex } from '../index/store-index.js';
import type { Warn } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { checkSnapshot, encodeSnapshot, type SnapshotRecord } from './snapshot-record.js';

export interface SnapshotListing { id: string; record: SnapshotRecord }

export function listSnapshots(store: Store): SnapshotListing[] {
  const out: SnapshotListing[] = [];
  for (const { id, record } of store.index.listSnapshots()) out.push({ id, record: checkSnapshot(record, id) });
  out.sort((a, b) => (a.record.time < b.record.time ? -1 : a.record.time > b.record.time ? 1 : a.id < b.id ? -1 : 1));
  return out;
}

/**
 * The catalogue's copy of a record, if it is a good one: it re-encodes to exactly the bytes
 * the id names (formats/store.md §9), so it can stand in for, or rewrite, a damaged file.
 */
export function indexCopyOf(index: Pick<StoreIndex, 'getSnapshot'>, id: string): SnapshotRecord | null {
  const record = index.getSnapshot(id);
  if (!record) return null;
  try {
    return encodeSnapshot(checkSnapshot(record, id)).id === id ? (record as SnapshotRecord) : null;
  } catch {
    return null;
  }
}

/**
 * Reads the records of `ids` from disk and warns (DAMAGED_SNAPSHOT) for each that is missing or
 * does not verify: the catalogue serves records from the index, and its copy must never hide
 * damage on disk. Returns the ids whose record is damaged. Local records are read synchronously
 * (storage.getSync): 1,000 of them in ~30 ms here, a third of what the thread pool takes.
 */
export async function warnDamagedRecords(store: Store, ids: Iterable<string>, onWarn: Warn): Promise<string[]> {
  const damaged: string[] = [];
  for (const id of ids) {
    try {
      await store.verifySnapshotFile(id);
    } catch (err) {
      damaged.push(id);
      const copy = indexCopyOf(store.index, id) !== null;
      onWarn('DAMAGED_SNAPSHOT', `${(err as Error).message}; ${copy
        ? "the index holds a good copy, which is used: run 'fxcp store repair' to rewrite the record from it"
        : "no good copy is left: run 'fxcp store check'"}`, { snapshot: id, path: store.storage.describe('snapshot', id) });
    }
  }
  return damaged;
}

export interface SnapshotSelector { snapshot?: string; latest?: boolean; at?: string }

export function parseDate(text: string): number {
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`cannot read date '${text}' (use ISO 8601, e.g. 2026-11-21 or 2026-11-21T10:00:00Z)`);
  return t;
}

export function selectSnapshot(store: Store, sel: SnapshotSelector): SnapshotListing {
  return chooseSnapshot(listSnapshots(store), sel, store.root, 'store');
}

/** Picks from listings sorted oldest first (a store's catalogue or an archive's snapshots). */
export function chooseSnapshot<T extends SnapshotListing>(all: T[], sel: SnapshotSelector, where: string, kind = 'store'): T {
  if (all.length === 0) throw new NotFoundError(`${where}: ${kind} has no snapshots`, { path: where }, 'NO_SNAPSHOT');
  if (sel.snapshot) {
    const want = sel.snapshot.toLowerCase();
    const hits = all.filter((s) => s.id.startsWith(want));
    if (hits.length === 0) throw new NotFoundError(`${where}: no snapshot with id '${sel.snapshot}'`, { path: where }, 'NO_SNAPSHOT');
    if (hits.length > 1) throw new UsageError(`snapshot id '${sel.snapshot}' is ambiguous (${hits.length} snapshots match); give more digits`);
    return hits[0];
  }
  if (sel.at) {
    const t = parseDate(sel.at);
    const before = all.filter((s) => Date.parse(s.record.time) <= t);
    if (before.length === 0) throw new NotFoundError(`${where}: no snapshot at or before ${sel.at}`, { path: where }, 'NO_SNAPSHOT');
    return before[before.length - 1];
  }
  return all[all.length - 1];
}

/**
 * The snapshots a command that moves several takes (export, push, pull): those `snapshot` names
 * (id prefixes; each once, in the listing's order), else the latest with `latest`, else all.
 * `none` ends the error when there are none ("to export").
 */
export function chooseSnapshots<T extends SnapshotListing>(all: T[], sel: { snapshot: readonly string[]; latest?: boolean }, where: string, none: string): T[] {
  if (sel.snapshot.length > 0) {
    const chosen = new Set(sel.snapshot.map((s) => chooseSnapshot(all, { snapshot: s }, where)));
    return all.filter((s) => chosen.has(s));
  }
  if (sel.latest) return [chooseSnapshot(all, { latest: true }, where)];
  if (all.length === 0) throw new NotFoundError(`${where}: store has no snapshots ${none}`, { path: where }, 'NO_SNAPSHOT');
  return all;
}

export function shortId(id: string): string {
  return id.slice(0, 12);
}
