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
  if (!GLOB_CHARS.test(pattern)) return (s) => s === pattern;
  picomatch ??= createRequire(import.meta.url)('picomatch') as typeof import('picomatch');
  return picomatch(pattern, { dot: true });
}

export interface PathSelector {
  /** The path itself is selected (and, for a directory, everything beneath it). */
  selects(rel: string): boolean;
  /** Something beneath this directory could be selected: worth descending. */
  mayContain(dirRel: string): boolean;
  /**
   * The only names in directory `dirRel` that can be selected or lead to a selection, when every
   * pattern is literal; null when any name may (a glob, or a directory selected whole). A walk
   * then looks the named entries up instead of testing each entry of a large directory.
   */
  childNames(dirRel: string): string[] | null;
}

export const SELECT_ALL: PathSelector = { selects: () => true, mayContain: () => true, childNames: () => null };

const GLOB_CHARS = /[*?[\]{}()!+@\\]/;

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
    childNames: cleaned.some((p) => GLOB_CHARS.test(p)) ? () => null : (dirRel) => {
      const parts = dirRel === '' ? [] : dirRel.split('/');
      const names: string[] = [];
      for (const p of cleaned) {
        const segs = p.split('/');
        const common = Math.min(segs.length, parts.length);
        let i = 0;
        while (i < common && segs[i] === parts[i]) i++;
        if (i < common) continue;
        if (segs.length <= parts.length) return null; // dirRel itself (or an ancestor) is selected
        names.push(segs[parts.length]);
      }
      return names;
    },
  };
}
