/**
 * Runs the real fxcp in a child process and measures its peak resident memory. The child
 * reports getrusage's ru_maxrss when it exits (a module preloaded with `node -r`): that counts
 * all it had resident, native buffers and worker threads included, which is what a
 * decompression bomb fills (`--max-old-space-size` bounds only V8's heap). Meanwhile a watchdog
 * reads /proc/PID/status and kills the child once it holds more than `killAbove`, so that a
 * regression fails the test without taking the shared machine's memory.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FXCP } from './run-cli.js';

export interface PeakResult { code: number; stdout: string; stderr: string; peakBytes: number; killed: boolean }

const PRELOAD = `const { isMainThread } = require('node:worker_threads');
if (isMainThread) process.on('exit', () => {
  require('node:fs').writeFileSync(process.env.FXCP_PEAK_RSS_FILE, String(process.resourceUsage().maxRSS * 1024));
});
`;

function rssOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** `input`, when given, is piped to the child's stdin (with backpressure). */
export async function fxcpPeakRss(args: string[], opts: { killAbove: number; input?: AsyncIterable<Uint8Array> }): Promise<PeakResult> {
  const dir = mkdtempSync(join(tmpdir(), 'fxpeak-'));
  try {
    const preload = join(dir, 'report-peak.cjs');
    const report = join(dir, 'peak');
    writeFileSync(preload, PRELOAD);
    const child = spawn(process.execPath, ['-r', preload, FXCP, ...args], {
      env: { ...process.env, FXCP_PEAK_RSS_FILE: report },
      stdio: [opts.input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => { stdout += d; });
    child.stderr!.on('data', (d) => { stderr += d; });
    let killed = false;
    let watched = 0;
    const watch = setInterval(() => {
      watched = Math.max(watched, rssOf(child.pid!));
      if (watched > opts.killAbove && !killed) { killed = true; child.kill('SIGKILL'); }
    }, 20);
    // A child that fails early closes its stdin: the writer's EPIPE is not the test's failure.
    const feeding = opts.input ? pipeline(Readable.from(opts.input), child.stdin!).catch(() => {}) : Promise.resolve();
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    clearInterval(watch);
    await feeding;
    let peakBytes = watched;
    try { peakBytes = Math.max(peakBytes, Number(readFileSync(report, 'latin1'))); } catch { /* killed: no report */ }
    return { code, stdout, stderr, peakBytes, killed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const MiB = 1 << 20;
