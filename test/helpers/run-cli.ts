/** Runs the real fxcp command (bin/fxcp, the launcher npm links) as a child process, as a user would. */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FXCP = join(ROOT, 'bin', 'fxcp');

/** `signal` names the signal that killed the process (then `code` is -1), else null. */
export interface CliResult { code: number; stdout: string; stderr: string; signal: NodeJS.Signals | null }

export function fxcp(args: string[], opts: SpawnOptions & { input?: string } = {}): CliResult {
  // `timeout`: a run that hangs is killed (SIGKILL: `signal` says so) rather than holding up the test file.
  const r = spawnSync(FXCP, args, { encoding: 'utf8', env: { ...process.env, ...opts.env }, cwd: opts.cwd, input: opts.input, timeout: opts.timeout, killSignal: 'SIGKILL' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

export function fxcpAsync(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawn(FXCP, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function fxcpJson<T = any>(args: string[]): T {
  const r = fxcp([...args, '--json']);
  if (r.code !== 0) throw new Error(`fxcp ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export function tempDir(prefix = 'fxtest-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export const isRoot = process.getuid?.() === 0;

export function haveCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
