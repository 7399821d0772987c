/**
 * Pressure stall information (PSI, Linux 4.20+): the share of recent time in which some task
 * waited for I/O or memory, from /proc/pressure/io and /proc/pressure/memory. A copy that paces
 * itself on it (lib/copy/throttle.ts) leaves room to the machine's other work.
 *
 * The parser is pure; the reader takes the directory, so tests hand it files of their own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PsiLine { avg10: number; avg60: number; avg300: number; total: number }
export interface Psi { some: PsiLine; full: PsiLine | null }

/** The pressure that paces a copy: the larger "some avg10" of I/O and memory, in percent (0-100). */
export type PressureSource = () => number;

/** Parses one PSI file ("some avg10=0.70 avg60=0.60 avg300=2.49 total=1164018482", and a "full" line); null when it is not one. */
export function parsePsi(text: string): Psi | null {
  const line = (kind: string): PsiLine | null => {
    const m = new RegExp(`^${kind} avg10=([\\d.]+) avg60=([\\d.]+) avg300=([\\d.]+) total=(\\d+)$`, 'm').exec(text);
    return m ? { avg10: Number(m[1]), avg60: Number(m[2]), avg300: Number(m[3]), total: Number(m[4]) } : null;
  };
  const some = line('some');
  return some ? { some, full: line('full') } : null;
}

/**
 * The pressure of the machine from the PSI files in `dir` (/proc/pressure), or null when they
 * cannot be read (no PSI: an older kernel, or psi=0 on the command line).
 */
export function psiPressure(dir = '/proc/pressure'): PressureSource | null {
  const read = (name: string): number => {
    const p = parsePsi(readFileSync(join(dir, name), 'latin1'));
    if (!p) throw new Error(`${join(dir, name)}: not a PSI file`);
    return p.some.avg10;
  };
  try {
    read('io');
    read('memory');
  } catch {
    return null;
  }
  return () => {
    try {
      return Math.max(read('io'), read('memory'));
    } catch {
      return 0;
    }
  };
}
