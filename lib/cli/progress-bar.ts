/**
 * --progress: the state of a long command on stderr, never on stdout.
 * - On a terminal (without --json): one line redrawn in place 5 times a second, cleared at the
 *   end, never wider than the terminal. A plain counter (bytes, files, rate) until the total is
 *   known, then a bar with percent and ETA.
 * - Off a terminal (a log, an agent): the same line, once a second, each on its own line.
 * - With --json: one JSON object a line, once a second.
 *
 * The counters (lib/util/progress.ts) are the operation's own, bumped in place; this only reads
 * them. Text goes through std-write.ts (synchronous, in order with warnings).
 * A warning written while the bar is drawn on a terminal replaces the bar's line
 * (std-write.ts writeStatus); the next redraw draws the bar below it.
 */
import type { Progress } from '../util/progress.js';
import { formatBytes } from './output.js';
import { writeErr, writeStatus } from './std-write.js';

export type { Progress } from '../util/progress.js';

/** One moment of a progress display: what the pure formatters below need. */
export interface ProgressView {
  label: string;
  unit: string;
  files: number;
  bytes: number;
  totalFiles: number | null;
  totalBytes: number | null;
  /** Seconds since the phase started. */
  seconds: number;
}

/** Done share 0..1 (bytes when a byte total is known, else files), or null without a total. */
export function doneFraction(v: ProgressView): number | null {
  if (v.totalBytes !== null && v.totalBytes > 0) return Math.min(1, v.bytes / v.totalBytes);
  if (v.totalFiles !== null && v.totalFiles > 0) return Math.min(1, v.files / v.totalFiles);
  if (v.totalBytes !== null || v.totalFiles !== null) return 1; // a known total of nothing
  return null;
}

/** Seconds left at the pace so far, or null while there is no pace (or no total). */
export function etaSeconds(v: ProgressView): number | null {
  const f = doneFraction(v);
  if (f === 1) return 0;
  if (f === null || f <= 0 || v.seconds <= 0) return null;
  return (v.seconds * (1 - f)) / f;
}

export function bytesPerSecond(v: ProgressView): number {
  return v.seconds > 0 ? v.bytes / v.seconds : 0;
}

const BAR_MAX = 30;
const BAR_MIN = 8;

/**
 * The progress line, at most `columns - 1` characters (the last column would make some
 * terminals wrap). Without a total: `label bytes, N files, rate/s`. With one:
 * `label [#####.....]  42.3% bytes / total, N/M files, rate/s, ETA 1m05s`. A narrow terminal
 * loses parts (below); what still does not fit is cut.
 */
export function progressLine(v: ProgressView, columns = 80): string {
  const max = Math.max(1, columns - 1);
  const f = doneFraction(v);
  const known = f !== null;
  const eta = etaSeconds(v);
  const amount = v.totalBytes !== null && v.totalBytes > 0 ? `${formatBytes(v.bytes)} / ${formatBytes(v.totalBytes)}` : formatBytes(v.bytes);
  const count = `${v.files}${v.totalFiles !== null ? '/' + v.totalFiles : ''} ${v.unit}`;
  const rate = `${formatBytes(bytesPerSecond(v))}/s`;
  const etaText = known ? [`ETA ${eta === null ? '?' : formatDuration(eta)}`] : [];
  // Narrower terminals lose the count, then the rate, then the bar; the amount stays. A phase
  // that counts no bytes (gc's mark: snapshots) shows its count alone.
  const choices = v.bytes > 0 || (v.totalBytes ?? 0) > 0
    ? [[amount, count, rate, ...etaText], [amount, rate, ...etaText], [amount, ...etaText], [amount]]
    : [[count, ...etaText], [count]];
  const pct = known ? `${(100 * f).toFixed(1).padStart(5)}%` : '';
  const compose = (parts: string[], barWidth: number) => {
    const head = [v.label];
    if (barWidth > 0) {
      const filled = Math.min(barWidth, Math.floor(barWidth * f!));
      head.push(`[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]`);
    }
    if (pct) head.push(pct);
    return `${head.join(' ')} ${parts.join(', ')}`;
  };
  if (known) {
    for (const parts of choices) {
      const room = max - compose(parts, 0).length - 3; // " [" and "]"
      if (room >= BAR_MIN) return compose(parts, Math.min(BAR_MAX, room));
    }
  }
  for (const parts of choices) {
    const line = compose(parts, 0);
    if (line.length <= max) return line;
  }
  return compose(choices[choices.length - 1], 0).slice(0, max);
}

/** The --json progress record (one line on stderr). */
export function progressRecord(v: ProgressView, phase?: string): Record<string, unknown> {
  const f = doneFraction(v);
  const eta = etaSeconds(v);
  return {
    progress: v.label, ...(phase ? { phase } : {}), files: v.files, bytes: v.bytes, unit: v.unit,
    totalFiles: v.totalFiles, totalBytes: v.totalBytes, percent: f === null ? null : Math.round(1000 * f) / 10,
    bytesPerSecond: Math.round(bytesPerSecond(v)), etaSeconds: eta === null ? null : Math.round(eta),
  };
}

/**
 * The bar of a command whose operation keeps the counters and names its phases (check, gc,
 * prune): pass `bar?.counters` down, stop it when the operation ends. Null without --progress.
 */
export function progressFor(on: unknown, json: boolean, label: string): ProgressBar | null {
  return on ? new ProgressBar({ files: 0, bytes: 0 }, json, label).start() : null;
}

export function formatDuration(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class ProgressBar {
  private timer: NodeJS.Timeout | null = null;
  private phaseStarted = Date.now();
  private phase: string | undefined;
  private readonly tty: boolean;
  private readonly scan = new AbortController();
  private bytesRead: (() => number) | null = null;

  /** `label` names the command ("snapshot"); a phase the operation names is added to it ("gc sweep"). */
  constructor(readonly counters: Progress, private readonly json: boolean, private readonly label: string) {
    // process.stderr is made only here: a command run without --progress never pays for it.
    this.tty = !json && !!process.stderr.isTTY;
    counters.onPhaseEnd = () => { if (this.timer) this.draw(); };
  }

  start(): this {
    this.timer = setInterval(() => this.draw(), this.tty ? 200 : 1000);
    this.timer.unref();
    return this;
  }

  /**
   * Sets the totals when `find` gives them: a pre-scan that runs beside the work (null leaves
   * the plain counter). stop() aborts it, so a scan slower than the work never keeps the
   * process alive after the command.
   */
  totalsFrom(find: (stop: AbortSignal) => Promise<{ files: number; bytes: number } | null>): this {
    void find(this.scan.signal).then((t) => {
      if (t && !this.scan.signal.aborted) { this.counters.totalFiles = t.files; this.counters.totalBytes = t.bytes; }
    }, () => {});
    return this;
  }

  /** Totals known before (or while) the work runs: a snapshot record's stats, a plan's sizes. */
  setTotals(t: { files: number | null; bytes: number | null }): this {
    this.counters.totalFiles = t.files;
    this.counters.totalBytes = t.bytes;
    return this;
  }

  /**
   * Bytes come from what `source` has read (a file's ReadStream, or stdin's stream, both keep
   * bytesRead), against `size` when it is known (a file): an import's progress through its
   * archive, whatever the archive's chunks hold. A source without bytesRead leaves the counters.
   */
  readFrom(source: unknown, size: number | null): this {
    const s = source as { bytesRead?: unknown };
    if (typeof s.bytesRead === 'number') {
      this.bytesRead = () => s.bytesRead as number;
      this.counters.totalBytes = size;
    }
    return this;
  }

  view(now = Date.now()): ProgressView {
    const c = this.counters;
    if (c.phase !== this.phase) { this.phase = c.phase; this.phaseStarted = c.phaseStarted ?? now; }
    return {
      label: c.phase ? `${this.label} ${c.phase}` : this.label, unit: c.unit ?? 'files',
      files: c.files, bytes: this.bytesRead ? this.bytesRead() : c.bytes, totalFiles: c.totalFiles ?? null, totalBytes: c.totalBytes ?? null,
      seconds: (now - this.phaseStarted) / 1000,
    };
  }

  private draw(): void {
    const v = this.view();
    if (this.json) writeErr(JSON.stringify(progressRecord(v, this.phase)) + '\n');
    else if (this.tty) writeStatus(progressLine(v, process.stderr.columns || 80));
    else writeErr(progressLine(v, Number.MAX_SAFE_INTEGER) + '\n');
  }

  /**
   * Stops drawing. The last state is drawn once more (a log always holds it; a command shorter
   * than one redraw still shows its end); on a terminal the line is then cleared.
   */
  stop(): void {
    this.scan.abort();
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    this.draw();
    if (this.tty) writeStatus('');
  }
}
