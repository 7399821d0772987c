/**
 * Which paths a selective restore takes (`--file GLOB`, repeatable), pure. Paths are relative
 * to the snapshot's source, with '/' separators. A pattern matching a directory selects
 * everything beneath it. '*' and '?' stay inside one component; '**' crosses them.
 */
import { createRequire } from 'node:module';

type Matcher = (s: string) => boolean;
let picomatch: typeof import('picomatch') | undefined;

/**
 * A pattern without glob characters is compared as a string: restoring one named file, the
 * common case, then never loads picomatch (a few ms of start-up on a command meant to take
 * well under 100 ms).
 */
function matcher(pattern: string): Matcher {
  if (!/[*?[\]{}()!+@\\]/.test(pattern)) return (s) => s === pattern;
  picomatch ??= createRequire(import.meta.url)('picomatch') as typeof import('picomatch');
  return picomatch(pattern, { dot: true });
}

export interface PathSelector {
  /** The path itself is selected (and, for a directory, everything beneath it). */
  selects(rel: string): boolean;
  /** Something beneath this directory could be selected: worth descending. */
  mayContain(dirRel: string): boolean;
}

export const SELECT_ALL: PathSelector = { selects: () => true, mayContain: () => true };

export function compileSelector(patterns: readonly string[]): PathSelector {
  if (patterns.length === 0) return SELECT_ALL;
  const cleaned = patterns.map((p) => p.replace(/^\.?\/+/, '').replace(/\/+$/, '')).filter((p) => p !== '');
  if (cleaned.length === 0) return SELECT_ALL;
  const whole = cleaned.map(matcher);
  const segments = cleaned.map((p) => p.split('/').map((s) => (s === '**' ? null : matcher(s))));
  return {
    selects: (rel) => whole.some((m) => m(rel)),
    mayContain: (dirRel) => {
      const parts = dirRel.split('/');
      return segments.some((segs) => {
        for (let i = 0; i < parts.length; i++) {
          const s = segs[i];
          if (s === null) return true;
          if (s === undefined || !s(parts[i])) return false;
        }
        return segs.length > parts.length;
      });
    },
  };
}
