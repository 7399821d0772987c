// Timing for the benchmark harness, shared by every suite: a step is a bash script ending in `sync`,
// run --runs times under GNU time (peak RSS = %M of the largest process) after an untimed prepare
// (and after --warmup untimed runs);
// the median wall time is reported with min–max. Plus the cell formatting all tables use.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorLine, log, q, readText, runProc, sh, shortError } from './bench-proc.js';

const MiB = 1024 * 1024;

export interface Measure {
  state: 'ok' | 'failed' | 'na';
  secs?: number; min?: number; max?: number;
  rssKiB?: number;
  note?: string;
}

export const NA = (note: string): Measure => ({ state: 'na', note });
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** What timing needs from the options; each suite's options add to it. */
/** `warmup`: untimed runs of each step before the timed ones (optional; 0 when absent). */
export interface TimingOptions { runs: number; timeoutSec: number; warmup?: number }

export interface Ctx<O extends TimingOptions = TimingOptions> {
  opts: O;
  env: NodeJS.ProcessEnv;
  /** GNU time, or null (no RSS figures). */
  timeBin: string | null;
  /** Where step scripts and their stderr are kept (for a failing step's post-mortem). */
  cmdDir: string;
}

export interface Step {
  name: string; // file-name friendly
  cwd: string;
  /** The timed bash body for run i (0-based); `sync` is appended. */
  body: (i: number) => string;
  /** Untimed, before each run. */
  prep?: (i: number) => Promise<void>;
  /** Keep stdout of the last run here (for fxcp --json). */
  stdoutFile?: string;
}

export async function timed(ctx: Ctx, step: Step): Promise<Measure> {
  const times: number[] = [];
  let rss = 0;
  // Warm-up runs (negative i) do everything a timed run does and are not recorded: the first run
  // of a tool after data generation or another tool's heavy writes also pays for the disk and
  // the VM settling, whichever tool happens to run first.
  for (let i = -(ctx.opts.warmup ?? 0); i < ctx.opts.runs; i++) {
    try {
      if (step.prep) await step.prep(i);
      await sh('sync');
    } catch (e) {
      return { state: 'failed', note: `prepare: ${shortError(e)}` };
    }
    const script = join(ctx.cmdDir, `${step.name}.sh`);
    writeFileSync(script, `set -euo pipefail\ncd ${q(step.cwd)}\n${step.body(i)}\nsync\n`);
    const errFile = join(ctx.cmdDir, `${step.name}.err`);
    const rssFile = join(ctx.cmdDir, `${step.name}.rss`);
    const outFile = step.stdoutFile ?? '/dev/null';
    rmSync(rssFile, { force: true });
    const [cmd, args] = ctx.timeBin ? [ctx.timeBin, ['-f', '%M', '-o', rssFile, 'bash', script]] : ['bash', [script]];
    const r = await runProc(cmd, args, { cwd: step.cwd, env: ctx.env, stdout: outFile, stderr: errFile, timeoutSec: ctx.opts.timeoutSec });
    if (r.timedOut) return { state: 'failed', note: `timed out after ${ctx.opts.timeoutSec} s` };
    if (r.code !== 0) {
      const errText = readText(errFile);
      log(`  ${step.name} run ${i + 1} FAILED (exit ${r.code ?? r.signal}); script ${script}; stderr:`);
      for (const l of errText.split('\n').filter(Boolean).slice(0, 15)) log(`    | ${l}`);
      return { state: 'failed', note: errorLine(errText) || `exit status ${r.code ?? r.signal}` };
    }
    if (i < 0) { log(`  ${step.name} warm-up: ${r.secs.toFixed(3)} s (not counted)`); continue; }
    times.push(r.secs);
    const m = readText(rssFile).trim().split('\n').pop()?.trim();
    if (m && /^\d+$/.test(m)) rss = Math.max(rss, Number(m));
    log(`  ${step.name} run ${i + 1}/${ctx.opts.runs}: ${r.secs.toFixed(3)} s${rss ? `, ${(rss / 1024).toFixed(0)} MiB peak` : ''}`);
  }
  return { state: 'ok', secs: median(times), min: Math.min(...times), max: Math.max(...times), rssKiB: rss || undefined };
}

/** Marks a restore step failed unless `got` has the same bytes as `want` (cmp). */
export async function verifyRestored(m: Measure, want: string, got: string, shown: string): Promise<Measure> {
  if (m.state !== 'ok') return m;
  const r = await runProc('cmp', ['-s', want, got], {});
  if (r.code === 0) return { ...m, note: 'verified' };
  return { ...m, state: 'failed', note: existsSync(got) ? 'restored file differs from the source' : `restored file missing (${shown})` };
}

// ---------- cells ----------
export function fmtBytes(n: number): string {
  if (Math.abs(n) >= 1024 * MiB) return `${(n / 1024 / MiB).toFixed(2)} GiB`;
  if (Math.abs(n) >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  if (Math.abs(n) >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
export const fmtSecs = (s: number): string => (s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s.toFixed(2));

export function cellTime(m: Measure | undefined): string {
  if (!m) return '';
  if (m.state === 'na') return m.note === '—' ? '—' : 'not available';
  if (m.state === 'failed') return `failed: ${(m.note ?? '').replace(/\|/g, '/')}`;
  return `${fmtSecs(m.secs!)} s${m.min !== m.max ? ` (${fmtSecs(m.min!)}–${fmtSecs(m.max!)})` : ''}`;
}

/** "peer ÷ ours" as "3.4x faster" / "1.2x slower" (or '' when either is missing). */
export function ratio(ours: number | undefined, peer: number | undefined, better: string, worse: string): string {
  if (ours === undefined || peer === undefined || !(ours > 0) || !(peer > 0)) return '';
  const r = peer / ours;
  return r >= 1 ? `${r.toFixed(r >= 10 ? 0 : 1)}x ${better}` : `${(1 / r).toFixed(1 / r >= 10 ? 0 : 1)}x ${worse}`;
}

/** MB/s (10^6 bytes per second) of `bytes` over a measured step, or '' when it did not succeed. */
export function mbps(bytes: number, m: Measure | undefined): string {
  if (m?.state !== 'ok' || !(m.secs! > 0)) return '';
  const v = bytes / m.secs! / 1e6;
  return v.toFixed(v < 10 ? 1 : 0);
}

export const rssCell = (m: Measure | undefined): string => (m?.state === 'ok' && m.rssKiB ? `${(m.rssKiB / 1024).toFixed(0)} MiB` : '');

export const isoNow = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
