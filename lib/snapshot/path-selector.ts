/**
 * Which paths a selective restore takes (`--file GLOB`, repeatable), pure. Paths are relative
 * to the snapshot's source, with '/' separators. A pattern matching a directory selects
 * everything beneath it. '*' and '?' stay inside one component; '**' crosses them.
 */
import picomatch from 'picomatch';

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
  const whole = cleaned.map((p) => picomatch(p, { dot: true }));
  const segments = cleaned.map((p) => p.split('/').map((s) => (s === '**' ? null : picomatch(s, { dot: true }))));
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
