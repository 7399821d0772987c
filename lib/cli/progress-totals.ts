/**
 * The totals of a command's progress bar where the command has to work them out, each in the
 * units the operation's own counters count (lib/util/progress.ts), so the bar ends at 100%.
 * Only the commands that use one import this.
 */
import type { Progress } from '../util/progress.js';
import { ProgressBar } from './progress-bar.js';

/** An FXAR export counts the raw bytes of each chunk it writes (trees too) and the files of each tree it walks: exportSize's figures. */
export function exportProgressTotals(size: { rawBytes: number; files: number }): { files: number; bytes: number } {
  return { files: size.files, bytes: size.rawBytes };
}

/**
 * A tar export's bar, fed by exportTar's onProgress: entries written, and the bytes of their
 * file data against the snapshot's bytes. Limit: a hard link after its first name is a link
 * member with no data, so a snapshot with hard links ends short of 100% by their sizes.
 */
export function tarProgress(on: boolean | undefined, json: boolean, stats: { bytes: number }): { onTar: (p: { entries: number; bytes: number }) => void; stop(): void } | null {
  if (!on) return null;
  const counters: Progress = { files: 0, bytes: 0, unit: 'entries' };
  const bar = new ProgressBar(counters, json, 'export').setTotals({ files: null, bytes: stats.bytes }).start();
  return { onTar: (p) => { counters.files = p.entries; counters.bytes = p.bytes; }, stop: () => bar.stop() };
}
