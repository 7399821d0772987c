// Timing for the benchmark harness, shared by every suite: a step is a bash script ending in `sync`,
// run --runs times under GNU time (peak RSS = %M of the largest process) after an untimed prepare
// (and after --warmup untimed runs), several tools' steps in rounds (timedRounds); the median
// wall time is reported with min–max. Small commands are also spawned directly, without the
// script (timedDirectRounds). Plus the cell formatting all tables use.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorLine, log, q, readText, runProc, sh, shortError } from './bench-proc.js';
import { median, roundOrder } from './paired-stats.js';

export { median };

const MiB = 1024 * 1024;

export interface Measure {
  state: 'ok' | 'failed' | 'na';
  secs?: number; min?: number; max?: number;
  rssKiB?: number;
  /** User + system CPU seconds of the step (GNU time %U + %S), median over the runs. */
  cpuSecs?: number;
  /** The system part of it (%S), median over the runs: the kernel's share (file system, page faults). */
  sysSecs?: number;
  note?: string;
  /** The timed runs in round order (spawned directly), for differences taken round by round. */
  samples?: number[];
}

export const NA = (note: string): Measure => ({ state: 'na', note });

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

/** One run of a step: its time and peak RSS, or the failure to report. */
type Run = { secs: number; rssKiB: number; cpuSecs?: number; sysSecs?: number } | { failed: Measure };

async function runStep(ctx: Ctx, step: Step, i: number): Promise<Run> {
  try {
    if (step.prep) await step.prep(i);
    await sh('sync');
  } catch (e) {
    return { failed: { state: 'failed', note: `prepare: ${shortError(e)}` } };
  }
  const script = join(ctx.cmdDir, `${step.name}.sh`);
  writeFileSync(script, `set -euo pipefail\ncd ${q(step.cwd)}\n${step.body(i)}\nsync\n`);
  const errFile = join(ctx.cmdDir, `${step.name}.err`);
  const rssFile = join(ctx.cmdDir, `${step.name}.rss`);
  const outFile = step.stdoutFile ?? '/dev/null';
  rmSync(rssFile, { force: true });
  const [cmd, args] = ctx.timeBin ? [ctx.timeBin, ['-f', '%M %U %S', '-o', rssFile, 'bash', script]] : ['bash', [script]];
  const r = await runProc(cmd, args, { cwd: step.cwd, env: ctx.env, stdout: outFile, stderr: errFile, timeoutSec: ctx.opts.timeoutSec });
  if (r.timedOut) return { failed: { state: 'failed', note: `timed out after ${ctx.opts.timeoutSec} s` } };
  if (r.code !== 0) {
    const errText = readText(errFile);
    log(`  ${step.name} run ${i + 1} FAILED (exit ${r.code ?? r.signal}); script ${script}; stderr:`);
    for (const l of errText.split('\n').filter(Boolean).slice(0, 15)) log(`    | ${l}`);
    return { failed: { state: 'failed', note: errorLine(errText) || `exit status ${r.code ?? r.signal}` } };
  }
  const m = /^(\d+) ([\d.]+) ([\d.]+)$/.exec(readText(rssFile).trim().split('\n').pop()?.trim() ?? '');
  return { secs: r.secs, rssKiB: m ? Number(m[1]) : 0, cpuSecs: m ? Number(m[2]) + Number(m[3]) : undefined, sysSecs: m ? Number(m[3]) : undefined };
}

/**
 * Times steps in rounds: run i of every step, then run i + 1 of every step. Each tool's runs
 * are then spread over the same minutes, so a drift of this VM's speed (a third within hours)
 * moves every tool alike and the ratios between them are those of one machine state; timing
 * one tool's runs after another's put the drift into the ratios. A step that fails drops out
 * of the later rounds.
 */
export async function timedRounds(ctx: Ctx, steps: Step[]): Promise<Measure[]> {
  const times = steps.map((): number[] => []);
  const cpu = steps.map((): number[] => []);
  const sys = steps.map((): number[] => []);
  const rss = steps.map(() => 0);
  const failed: Array<Measure | null> = steps.map(() => null);
  // Warm-up runs (negative i) do everything a timed run does and are not recorded: the first run
  // of a tool after data generation or another tool's heavy writes also pays for the disk and
  // the VM settling, whichever tool happens to run first.
  for (let i = -(ctx.opts.warmup ?? 0); i < ctx.opts.runs; i++) {
    for (const [k, step] of steps.entries()) {
      if (failed[k]) continue;
      const r = await runStep(ctx, step, i);
      if ('failed' in r) { failed[k] = r.failed; continue; }
      if (i < 0) { log(`  ${step.name} warm-up: ${r.secs.toFixed(3)} s (not counted)`); continue; }
      times[k]!.push(r.secs);
      if (r.cpuSecs !== undefined) cpu[k]!.push(r.cpuSecs);
      if (r.sysSecs !== undefined) sys[k]!.push(r.sysSecs);
      rss[k] = Math.max(rss[k]!, r.rssKiB);
      log(`  ${step.name} run ${i + 1}/${ctx.opts.runs}: ${r.secs.toFixed(3)} s${rss[k] ? `, ${(rss[k]! / 1024).toFixed(0)} MiB peak` : ''}`);
    }
  }
  return steps.map((_, k) => failed[k] ?? {
    ...measureOf(times[k]!, rss[k] || undefined), cpuSecs: cpu[k]!.length ? median(cpu[k]!) : undefined, sysSecs: sys[k]!.length ? median(sys[k]!) : undefined,
  });
}

export async function timed(ctx: Ctx, step: Step): Promise<Measure> {
  return (await timedRounds(ctx, [step]))[0]!;
}

function measureOf(xs: number[], rssKiB?: number): Measure {
  return { state: 'ok', secs: median(xs), min: Math.min(...xs), max: Math.max(...xs), rssKiB };
}

export interface DirectStep {
  name: string;
  cwd: string;
  /** The command and its arguments for run i (negative: warm-up), spawned without a shell. */
  cmd: string;
  args: string[] | ((i: number) => string[]);
  /** Untimed, before each run. */
  prep?: () => Promise<void>;
  env?: NodeJS.ProcessEnv;
}

/**
 * Whole-process times of commands spawned directly, as a user's shell or script runs them: no
 * bash, no `sync`, no GNU time (the harness's rows pay 20–40 ms of those here: right for
 * whole-tree jobs, too coarse for commands of a few hundred ms or a 100 ms target). In rounds as
 * timedRounds, medians of `runs` after 3 untimed rounds. As before every harness step, `sync`
 * runs (untimed) before each run, so writeback left by earlier steps (hundreds of MB after a
 * whole-tree restore) does not land in a timed run. With `alternate`, odd rounds run the steps
 * in reverse order (roundOrder).
 */
export async function timedDirectRounds(ctx: Ctx, steps: DirectStep[], runs: number, alternate = false): Promise<Measure[]> {
  const times = steps.map((): number[] => []);
  const failed: Array<Measure | null> = steps.map(() => null);
  for (let i = -3; i < runs; i++) {
    for (const k of roundOrder(steps.length, i, alternate)) {
      const step = steps[k]!;
      if (failed[k]) continue;
      await step.prep?.();
      await sh('sync');
      const errFile = join(ctx.cmdDir, `${step.name}.err`);
      const args = typeof step.args === 'function' ? step.args(i) : step.args;
      const r = await runProc(step.cmd, args, { cwd: step.cwd, env: step.env ?? ctx.env, stderr: errFile, timeoutSec: ctx.opts.timeoutSec });
      if (r.code !== 0) {
        failed[k] = { state: 'failed', note: errorLine(readText(errFile)) || `exit status ${r.code ?? r.signal}` };
        continue;
      }
      if (i >= 0) times[k]!.push(r.secs);
    }
  }
  const out = steps.map((_, k) => failed[k] ?? { ...measureOf(times[k]!), samples: times[k]! });
  log(`  spawned directly, median of ${runs}: ${steps.map((s, k) => `${s.name} ${out[k]!.state === 'ok' ? `${(out[k]!.secs! * 1000).toFixed(0)} ms` : 'failed'}`).join(', ')}`);
  return out;
}

/**
 * A small command's whole-process time beside Node starting alone, measured the same way; with
 * `base`, the same command of another build (--baseline-fxcp) in the same rounds.
 */
export interface DirectTimes { ours: Measure; node: Measure; runs: number; base?: Measure }

/**
 * A small command spawned directly (timedDirectRounds), each run followed by a run of
 * `env -u NODE_EXTRA_CA_CERTS node -e 0` (the fxcp launcher's own first line), so both see the
 * same machine state (this VM's start-up times drift by a third over minutes). With `baseline`
 * (the same command of another build), each round runs ours, the baseline and node, and odd
 * rounds run them backwards, so neither build always runs first.
 */
export async function timedDirect(ctx: Ctx, step: DirectStep, runs = 21, baseline?: DirectStep): Promise<DirectTimes> {
  const node: DirectStep = { name: 'node-e-0', cwd: step.cwd, cmd: 'env', args: ['-u', 'NODE_EXTRA_CA_CERTS', 'node', '-e', '0'] };
  if (!baseline) {
    const [ours, nodeTimes] = await timedDirectRounds(ctx, [step, node], runs);
    return { ours: ours!, node: nodeTimes!, runs };
  }
  const [ours, base, nodeTimes] = await timedDirectRounds(ctx, [step, baseline, node], runs, true);
  return { ours: ours!, node: nodeTimes!, runs, base: base! };
}

/**
 * `FXCP snap restore FROM -o OUT --latest --file REL` (FROM a store or an archive) spawned
 * directly, OUT emptied (untimed) before each run; check the last run with verifyRestored.
 */
export function restoreOneStep(name: string, fxcp: string, from: string, out: string, rel: string, cwd: string): DirectStep {
  return {
    name, cwd, cmd: fxcp, args: ['snap', 'restore', from, '-o', out, '--latest', '--file', rel],
    prep: async () => { rmSync(out, { recursive: true, force: true }); mkdirSync(out, { recursive: true }); },
  };
}

/** The direct figures and the verdict against `targetMs`, for a target line. */
export function directFigures(d: DirectTimes, targetMs: number): string {
  if (d.ours.state !== 'ok') return `spawned directly: ${d.ours.note ?? 'failed'}`;
  const ms = (m: Measure) => `${(m.secs! * 1000).toFixed(0)} ms (${(m.min! * 1000).toFixed(0)}–${(m.max! * 1000).toFixed(0)})`;
  const ok = d.ours.secs! * 1000 < targetMs;
  return `spawned directly (no shell, no sync; median of ${d.runs}, each run followed by \`node -e 0\`): ` +
    `fxcp ${ms(d.ours)}, \`node -e 0\` ${ms(d.node)}; target < ${targetMs} ms: ${ok ? 'met' : '**not met**'}`;
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
