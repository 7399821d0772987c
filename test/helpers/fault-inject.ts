/**
 * Builds test/helpers/fault-inject.c (an LD_PRELOAD library; its header says what it does) once
 * per test process (in a temporary directory removed when the process exits), and makes the
 * environment that loads it into a real fxcp process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './run-cli.js';

export interface Fault {
  op: 'write' | 'read' | 'fsync' | 'rename' | 'open' | 'mkdir';
  /** A substring of the path the fault applies to (e.g. '/tmp/pack-', 'index.mdb', '/packs/'). */
  path: string;
  /** The first matching call that fails (1-based). */
  nth?: number;
  /** Every matching call from the nth on fails. */
  sticky?: boolean;
  errno?: number;
  /** Reads and writes transfer at most half of what was asked instead of failing. */
  short?: boolean;
}

let built: string | null | undefined;

/** The library's path, or null (with the reason) when no C compiler is there to build it. */
export function faultLibrary(): { path: string } | { skip: string } {
  if (built === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'fxfault-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'libfxfault.so');
    const cc = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', out, join(ROOT, 'test', 'helpers', 'fault-inject.c'), '-ldl'], { encoding: 'utf8' });
    built = cc.status === 0 ? out : null;
    if (built === null) console.log(`fault injection unavailable: cc failed (${cc.error?.message ?? cc.stderr.trim().split('\n')[0]})`);
  }
  return built ? { path: built } : { skip: 'no C compiler to build the fault-injection library' };
}

export function faultEnv(lib: string, f: Fault): NodeJS.ProcessEnv {
  return {
    LD_PRELOAD: lib,
    // Node's thread pool must go through the C library for the faults to be seen.
    UV_USE_IO_URING: '0',
    FXFAULT_OP: f.op,
    FXFAULT_PATH: f.path,
    FXFAULT_NTH: String(f.nth ?? 1),
    FXFAULT_STICKY: f.sticky ? '1' : '0',
    FXFAULT_SHORT: f.short ? '1' : '0',
    ...(f.errno !== undefined ? { FXFAULT_ERRNO: String(f.errno) } : {}),
  };
}
