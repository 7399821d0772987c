// Processes for the benchmark harness: spawn with a time limit, run untimed bash snippets, read the
// one error line worth showing, measure sizes and trees. Shared by every suite (run-bench.ts,
// archive-bench.ts, lifecycle-bench.ts); nothing here times a step (see bench-measure.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const T0 = Date.now();
export function log(msg: string): void {
  process.stderr.write(`[bench ${((Date.now() - T0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
}

/** Quotes one word for bash (left bare when it is plainly safe). */
export const q = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

let WORK = '/tmp/fxbench';
/** The harness's scratch root (--work); set once by main. */
export function setWork(dir: string): void { WORK = dir; }
export function workDir(): string { return WORK; }
export function scratch(): string { const d = join(WORK, 'tmp'); mkdirSync(d, { recursive: true }); return d; }

// Children still running (untimed setup may run a few at once, one per tool).
const running = new Set<number>();
// Long-lived helpers a suite started (the ssh suite's sshd, the daemon suites' foxingd, the s3
// suite's Ceph): a suite stops its own in a `finally`, which a signal's process.exit skips.
// Killed with the harness alone (pkill, a CI job's timeout), they stayed: an sshd as root on
// 127.0.0.1, its work directory removed under it.
const stops = new Set<() => void>();

/** Runs `stop` if the harness is stopped by a signal (killCurrent); the returned function forgets it. */
export function stopOnSignal(stop: () => void): () => void {
  stops.add(stop);
  return () => { stops.delete(stop); };
}

/** A long-lived child, killed if the harness is stopped by a signal (forgotten once it exits). */
export function helperStarted(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.once('exit', stopOnSignal(() => child.kill('SIGKILL')));
}

/** Kills the running children's process groups and stops the helpers (on SIGINT/SIGTERM of the harness). */
export function killCurrent(): void {
  for (const pid of running) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }
  for (const stop of stops) { try { stop(); } catch { /* best effort */ } }
  stops.clear();
}

export interface Proc { code: number | null; signal: string | null; secs: number; timedOut: boolean }

export function runProc(cmd: string, args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv; stdout?: string; stderr?: string; timeoutSec?: number }): Promise<Proc> {
  return new Promise((resolvePromise, reject) => {
    const out = o.stdout ? openSync(o.stdout, 'w') : 'ignore';
    const err = o.stderr ? openSync(o.stderr, 'w') : 'ignore';
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', out, err], detached: true });
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    if (o.timeoutSec && o.timeoutSec > 0) {
      timer = setTimeout(() => {
        timedOut = true;
        try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
      }, o.timeoutSec * 1000);
    }
    const done = (): void => {
      if (timer) clearTimeout(timer);
      if (pid !== undefined) running.delete(pid);
      if (typeof out === 'number') closeSync(out);
      if (typeof err === 'number') closeSync(err);
    };
    child.on('error', (e) => { done(); reject(e); });
    child.on('exit', (code, signal) => {
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      done();
      resolvePromise({ code, signal, secs, timedOut });
    });
  });
}

/** A failed untimed snippet: the message names the script's first line; `detail` is just the error line (for tables). */
export class ShError extends Error {
  constructor(script: string, readonly detail: string) { super(`${script.split('\n')[0]}: ${detail}`); }
}
/** The part of a setup failure worth a table cell. */
export const shortError = (e: unknown): string => (e instanceof ShError ? e.detail : (e as Error).message);

let shSeq = 0;
/** Untimed helper: runs a bash snippet, throws with its stderr when it fails. Safe to run several at once. */
export async function sh(script: string, cwd?: string, env?: NodeJS.ProcessEnv): Promise<void> {
  const errFile = join(scratch(), `sh-${shSeq++}.err`);
  const r = await runProc('bash', ['-c', `set -euo pipefail\n${script}`], { cwd, env, stderr: errFile, timeoutSec: 3600 });
  const errText = readText(errFile);
  rmSync(errFile, { force: true });
  if (r.code !== 0) throw new ShError(script, errorLine(errText) || `exit ${r.code ?? r.signal}`);
}

/** Untimed helper: runs a bash snippet and returns its stdout; throws like sh() when it fails. */
export async function shOut(script: string, cwd?: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const n = shSeq++;
  const outFile = join(scratch(), `sh-${n}.out`);
  const errFile = join(scratch(), `sh-${n}.err`);
  const r = await runProc('bash', ['-c', `set -euo pipefail\n${script}`], { cwd, env, stdout: outFile, stderr: errFile, timeoutSec: 3600 });
  const [out, errText] = [readText(outFile), readText(errFile)];
  rmSync(outFile, { force: true });
  rmSync(errFile, { force: true });
  if (r.code !== 0) throw new ShError(script, errorLine(errText) || `exit ${r.code ?? r.signal}`);
  return out;
}

export async function capture(cmd: string, args: string[]): Promise<string> {
  const f = join(scratch(), 'cap.out');
  const r = await runProc(cmd, args, { stdout: f, stderr: f, timeoutSec: 60 }).catch(() => null);
  return r && r.code === 0 ? readText(f) : '';
}

export function readText(p: string): string { try { return readFileSync(p, 'utf8'); } catch { return ''; } }

/** The line of a failing command's stderr worth showing: a JSON error's message, an Error line, or the first line. */
export function errorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  for (const l of lines) {
    if (l.startsWith('{')) {
      try {
        const j = JSON.parse(l) as { message?: string; error?: string | { message?: string }; code?: string };
        const m = j.message ?? (typeof j.error === 'object' ? j.error?.message : j.error);
        if (m) return `${j.code ? `${j.code}: ` : ''}${m}`;
      } catch { /* not JSON */ }
    }
  }
  const err = lines.find((l) => /^(\w*Error\b|error:|fatal:|fxcp:|Fatal)/i.test(l));
  return (err ?? lines[0] ?? '').slice(0, 200);
}

/** `du --block-size=1` of a path (what a store, repository or archive occupies), or undefined. */
export async function du(p: string): Promise<number | undefined> {
  if (!existsSync(p)) return undefined;
  const out = await capture('du', ['-s', '--block-size=1', p]);
  const n = Number(out.trim().split(/\s+/)[0]);
  return Number.isFinite(n) && out.trim() ? n : undefined;
}

export interface TreeInfo { files: number; bytes: number; median: { rel: string; size: number } | null }

/** Every regular file of a tree with its size, sorted by size then path. Holds the whole list: for the
 *  benchmark's generated trees (≤ 10,000 files), not for arbitrary trees. */
export function listFiles(root: string): { rel: string; size: number }[] {
  const files: { rel: string; size: number }[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), r);
      else if (e.isFile()) files.push({ rel: r, size: lstatSync(join(d, e.name)).size });
    }
  };
  walk(root, '');
  return files.sort((a, b) => a.size - b.size || (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** Counts a tree's regular files and bytes and picks its median-size non-empty file (the restore target). */
export function scanTree(root: string): TreeInfo {
  const files = listFiles(root);
  const nonEmpty = files.filter((f) => f.size > 0);
  return {
    files: files.length,
    bytes: files.reduce((a, f) => a + f.size, 0),
    median: nonEmpty.length ? nonEmpty[(nonEmpty.length - 1) >> 1]! : null,
  };
}
