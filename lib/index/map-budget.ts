/**
 * How much of the index file lookups may leave mapped in this process before StoreIndex releases
 * its mappings (native/src/file_maps.cc: MADV_DONTNEED on every mapping of the file; the pages
 * stay in the page cache).
 *
 * Why a budget and not a release every few lookups: each index insert or lookup of a random id
 * reads a random leaf through LMDB's map, a page fault (with fault-around, ~100 KiB mapped) when
 * that leaf is not mapped any more. On the bench VM a fault costs 18-25 µs. Releasing every 128
 * lookups once the file passed 8 MiB (sessions 27-32) made nearly every insert of a first
 * snapshot fault: 1,000,000 small text files, 1.2 million faults, and the main thread (which
 * indexes the sealed packs) spent about half its time in them: 90 s, 132 CPU-s, peak 295 MiB.
 * Left mapped, 152,000 faults: 49 s, 83 CPU-s, 380 MiB.
 *
 * So lookups release only once the process's file-backed RSS has grown by MAP_BUDGET_BYTES since
 * the index was opened (RssFile of /proc/self/status, read every RELEASE_LOOKUPS lookups): an
 * index up to about that size stays mapped whole, a larger one is released each time its
 * mapped share reaches the budget. Counted honestly: those pages are in the peak RSS that the
 * bench reports. The budget is what issue 25's bound (512 MiB at 3,000,000 small files) leaves
 * with a margin: that first snapshot (a 315 MiB index) took 304 s, 148 µs of CPU a file and
 * peaked at 396 MiB releasing every 128 lookups; 262 s, 134 µs, 455 MiB with 96 MiB; 237 s,
 * 121 µs, 479 MiB with 112 MiB (one run each, the same warm tree).
 *
 * RssFile counts every file the process maps, the node binary's code too, and that grows after
 * the index is opened as code first runs (worker threads, codecs): ~20 MiB in an export. Counted
 * from the open, it made a 93 MiB index (1,000,000 small files) spend a 96 MiB budget, and every
 * release was followed by faults: an export of that store spent 15.5 s of its main thread in
 * lookups, 4 s with nothing released. So when RssFile says the budget is spent, the index's own
 * mappings are counted (/proc/self/smaps, native fileMapsResident, ~1 ms), and what the rest grew
 * by moves into the baseline (at most once a second: COUNT_EVERY_MS). Over budget, an index at
 * most twice the budget gives back a quarter of the file at a time (releaseMappedPart): its
 * mappings then hold 3/4 to all of the budget, not none to all of it. A larger one gives back all
 * of it, as before: its mapped share is small anyway, and a quarter at a time made four times
 * as many releases (each reads /proc/self/maps) for no fewer faults.
 * Limits: without the addon, RssFile alone decides; without /proc, the file's size stands in for
 * its mapped part (released each time once the file is past the budget).
 */
import { readFileSync, statSync } from 'node:fs';
import { native } from '../native/load.js';

export const MAP_BUDGET_BYTES = 96 << 20;

let processBudget = MAP_BUDGET_BYTES;

/**
 * The budget of the indexes this process opens from now on, and of the chunk workers their
 * stores start (WorkerStoreRef). foxingd's cutter takes a smaller one: a daemon's RSS is bounded
 * at 256 MiB on a source of a million files (issue 23), and it runs for months, not minutes.
 */
export function setIndexMapBudget(bytes: number): void {
  processBudget = bytes;
}

/** The budget an index opened now gets by default (setIndexMapBudget). */
export function indexMapBudget(): number {
  return processBudget;
}

/** This process's file-backed resident bytes (RssFile), or null where /proc cannot say. */
export function rssFileBytes(): number | null {
  try {
    const m = /^RssFile:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'latin1'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Between two counts of the file's own mappings, at least (a count reads all of /proc/self/smaps,
 * 1-10 ms in a process of many mappings). A daemon's first cut over a 16 MiB budget is spent
 * every few hundred lookups: counted each time, its first cut of 1,000,000 files took 246 s
 * instead of 72-85.
 */
const COUNT_EVERY_MS = 1000;

export class MapBudget {
  /** RssFile less what the file's mappings held, when last counted (at the open: ~none of it). */
  private baseline = rssFileBytes();
  private countedAt = 0;

  constructor(private readonly file: string, readonly budgetBytes = processBudget) {}

  /** True when the mappings should be released now. */
  spent(): boolean {
    const now = this.baseline === null ? null : rssFileBytes();
    if (now === null || this.baseline === null) return (statSync(this.file, { throwIfNoEntry: false })?.size ?? 0) >= this.budgetBytes;
    if (now - this.baseline < this.budgetBytes) return false;
    const at = Date.now();
    if (!native || at - this.countedAt < COUNT_EVERY_MS) return true;
    this.countedAt = at;
    let own: number;
    try {
      own = native.fileMapsResident(this.file);
    } catch {
      return true; // the file is gone (a removed store): as before, RssFile decides
    }
    this.baseline = now - own;
    return own >= this.budgetBytes;
  }

  /** Whether a release should give back a part of the file, not all of it: only where the file is at most twice the budget (map-budget.ts). */
  releasesByPart(fileBytes: number): boolean {
    return fileBytes <= 2 * this.budgetBytes;
  }
}
