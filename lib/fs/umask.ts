/**
 * This process's umask, from /proc: process.umask() can only read it by setting it, which
 * another thread could see half-done. 022 where /proc says nothing (not Linux).
 */
import { readFileSync } from 'node:fs';

export function processUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'));
    if (m) return parseInt(m[1], 8);
  } catch { /* not Linux's /proc */ }
  return 0o022;
}
