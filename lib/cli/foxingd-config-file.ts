/**
 * Reading and checking foxingd's configuration file for `daemon` and `check`: the text, then
 * lib/daemon/daemon-config.ts's problems, then those of its paths, each printed as
 * `FILE:LINE: problem (hint)`; any problem is a usage error (exit 2), after all were printed.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { UsageError } from '../errors/index.js';
import { checkPaths, type ConfigProblem, type DaemonConfig, parseDaemonConfig } from '../daemon/daemon-config.js';
import type { Output } from './output.js';

export function loadDaemonConfig(file: string, out: Output): DaemonConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${file}: cannot read the configuration: ${(err as Error).message}`, { path: file });
  }
  const { config, problems } = parseDaemonConfig(text);
  const all: ConfigProblem[] = [...problems, ...(config ? checkPaths(config, text, LOOKUPS) : [])];
  if (all.length === 0) return config!;
  all.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  for (const p of all) out.warn('CONFIG', `${file}:${p.line ?? '?'}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`, { path: file, line: p.line });
  throw new UsageError(`${file}: ${all.length} problem${all.length === 1 ? '' : 's'} (above); nothing was started`, { path: file });
}

const LOOKUPS = {
  kind(p: string): 'dir' | 'other' | null {
    const st = statSync(p, { throwIfNoEntry: false });
    return st === undefined ? null : st.isDirectory() ? 'dir' : 'other';
  },
  real(p: string): string {
    // The longest existing prefix resolved, the rest appended (a mirror may not exist yet).
    try {
      return realpathSync(p);
    } catch {
      const parent = dirname(p);
      return parent === p ? p : join(LOOKUPS.real(parent), basename(p));
    }
  },
};
