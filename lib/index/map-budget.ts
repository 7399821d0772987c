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
 * Limits: RssFile counts every file mapping of the process (the node binary's code pages too),
 * which move little after start-up; without /proc the file's size stands in for its mapped
 * part (released each time once the file is past the budget, as before).
 */
import { readFileSync, statSync } from 'node:fs';

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

export class MapBudget {
  private readonly baseline = rssFileBytes();

  constructor(private readonly file: string, readonly budgetBytes = processBudget) {}

  /** True when the mappings should be released now. */
  spent(): boolean {
    const now = this.baseline === null ? null : rssFileBytes();
    if (now === null || this.baseline === null) return (statSync(this.file, { throwIfNoEntry: false })?.size ?? 0) >= this.budgetBytes;
    return now - this.baseline >= this.budgetBytes;
  }
}
