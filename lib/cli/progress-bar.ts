/**
 * --progress: a live line on stderr. On a terminal it redraws 5 times a second (bytes, files,
 * rate, ETA when the total is known); otherwise (a log, an agent) it prints a line, or a JSON
 * object with --json, once a second. Totals come from a concurrent stat-only scan that may
 * finish after the work starts; until then no ETA is shown.
 */
import { formatBytes } from './output.js';

export interface ProgressCounters { files: number; bytes: number; readBytes?: number }
export interface ProgressTotals { files: number; bytes: number; done: boolean }

export class ProgressBar {
  private timer: NodeJS.Timeout | null = null;
  private readonly started = Date.now();
  private readonly tty = !!process.stderr.isTTY;
  totals: ProgressTotals | null = null;

  constructor(private readonly counters: ProgressCounters, private readonly json: boolean, private readonly label: string) {}

  start(): this {
    this.timer = setInterval(() => this.draw(), this.tty && !this.json ? 200 : 1000);
    this.timer.unref();
    return this;
  }

  private draw(): void {
    const secs = (Date.now() - this.started) / 1000;
    const { files, bytes } = this.counters;
    const rate = secs > 0 ? bytes / secs : 0;
    const t = this.totals?.done ? this.totals : null;
    const eta = t && rate > 0 ? Math.max(0, (t.bytes - bytes) / rate) : null;
    if (this.json) {
      process.stderr.write(JSON.stringify({ progress: this.label, files, bytes, totalFiles: t?.files ?? null, totalBytes: t?.bytes ?? null,
        bytesPerSecond: Math.round(rate), etaSeconds: eta === null ? null : Math.round(eta) }) + '\n');
      return;
    }
    const pct = t && t.bytes > 0 ? ` ${Math.min(100, (100 * bytes) / t.bytes).toFixed(1)}%` : '';
    const width = 24;
    const filled = t && t.bytes > 0 ? Math.min(width, Math.round((width * bytes) / t.bytes)) : 0;
    const bar = t ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]` : '';
    const line = `${this.label} ${bar}${pct} ${formatBytes(bytes)}${t ? ' / ' + formatBytes(t.bytes) : ''}, ${files}${t ? '/' + t.files : ''} files, ` +
      `${formatBytes(rate)}/s${eta !== null ? `, ETA ${formatDuration(eta)}` : ''}`;
    if (this.tty) process.stderr.write(`\r\x1b[K${line}`);
    else process.stderr.write(line + '\n');
  }

  /** Stops redrawing. Off a terminal the last state is printed once more, so a log always has it. */
  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    if (this.tty && !this.json) process.stderr.write('\r\x1b[K');
    else this.draw();
  }
}

export function formatDuration(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
