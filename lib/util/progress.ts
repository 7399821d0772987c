/**
 * Live counters of a long operation, for `--progress` (lib/cli/progress-bar.ts reads them a
 * few times a second). The operation bumps fields in place: a hot path (chunking, restore
 * writes) pays one field increment, never a call, an await or an allocation.
 *
 * Totals are set once they are known, in the same units as the counters, so that the counters
 * reach them exactly when the work is done (a snapshot counts the bytes of unchanged files it
 * skips, as its pre-scan counts every file). An operation of several phases (gc: mark, then
 * sweep) names the phase and starts its counters again with `startPhase`.
 */
export interface Progress {
  files: number;
  bytes: number;
  /** Not yet known: absent or null. */
  totalFiles?: number | null;
  totalBytes?: number | null;
  /** What `files` counts, when it is not files (packs, snapshots). */
  unit?: string;
  phase?: string;
  /** When the phase started (Date.now()): its rate and ETA count from there. */
  phaseStarted?: number;
  /** Called by startPhase before the counters of a phase are reset: a display shows the phase's end. */
  onPhaseEnd?: () => void;
}

/** Starts a phase: its name, what it counts, its totals (null where not known), counters at 0. */
export function startPhase(p: Progress | undefined, phase: string, unit: string, totalFiles: number | null, totalBytes: number | null): void {
  if (!p) return;
  if (p.phase !== undefined) p.onPhaseEnd?.();
  p.phase = phase;
  p.phaseStarted = Date.now();
  p.unit = unit;
  p.files = 0;
  p.bytes = 0;
  p.totalFiles = totalFiles;
  p.totalBytes = totalBytes;
}
