/**
 * Which paths a selective restore takes (`--file GLOB`, repeatable), pure. Paths are relative
 * to the snapshot's source, with '/' separators. A pattern matching a directory selects
 * everything beneath it. Patterns use the filter engine's wildmatch (lib/filter/wildmatch.ts):
 * '*' and '?' stay inside one component, '[...]' is a class; a whole '**' component matches any
 * number of components, none included ('a/STAR-STAR/z' selects 'a/z', as it always has here;
 * in an rsync filter '**' needs at least one character), and a '**' inside a component is a '*'.
 * Braces and extglobs are not special. Matching is on the JS strings the restorer gives, so '?'
 * is one character of a UTF-8 name, not one byte.
 */
import { UsageError } from '../errors/index.js';
import { hasWildcards, wildmatch } from '../filter/wildmatch.js';

type Matcher = (s: string) => boolean;

/** The most whole '**' components one pattern may hold (each doubles the forms tried). */
const MAX_STARSTAR = 8;
const STARSTAR = /^\*{2,}$/;

/** A pattern without wildcards is compared as a string: restoring one named file, the common case. */
function matcher(pattern: string): Matcher {
  if (!hasWildcards(pattern)) return (s) => s === pattern;
  const forms = starStarForms(pattern);
  return forms.length === 1 ? (s) => wildmatch(forms[0], s) : (s) => forms.some((f) => wildmatch(f, s));
}

/** The pattern with each whole '**' component kept or dropped; '**' inside a component made '*'. */
function starStarForms(pattern: string): string[] {
  const segs = pattern.split('/').map((seg) => (STARSTAR.test(seg) ? '**' : seg.replace(/\*{2,}/g, '*')));
  if (segs.filter((seg) => seg === '**').length > MAX_STARSTAR) {
    throw new UsageError(`--file pattern '${pattern}' has more than ${MAX_STARSTAR} '**' components`);
  }
  let forms: string[][] = [[]];
  for (const seg of segs) {
    forms = seg === '**' && segs.length > 1 ? forms.flatMap((f) => [[...f, seg], f]) : forms.map((f) => [...f, seg]);
  }
  return forms.map((f) => f.join('/'));
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

export function compileSelector(patterns: readonly string[]): PathSelector {
  if (patterns.length === 0) return SELECT_ALL;
  const cleaned = patterns.map((p) => p.replace(/^\.?\/+/, '').replace(/\/+$/, '')).filter((p) => p !== '');
  if (cleaned.length === 0) return SELECT_ALL;
  const whole = cleaned.map(matcher);
  const segments = cleaned.map((p) => p.split('/').map((s) => (STARSTAR.test(s) ? null : matcher(s.replace(/\*{2,}/g, '*')))));
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
    childNames: cleaned.some(hasWildcards) ? () => null : (dirRel) => {
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
