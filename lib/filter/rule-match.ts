/**
 * Whether one include/exclude rule matches a path, as rsync decides it (its add_rule and
 * rule_matches), pure.
 *   - a pattern without '/' (a trailing one aside) and without '**' matches the last component;
 *   - a leading '/' anchors it at the transfer root (in a dir-merge file: at that file's dir);
 *   - otherwise an inner '/' makes it match the last N+1 components for N slashes, and a '**'
 *     that does not start the pattern lets it match after any '/';
 *   - a trailing '/' matches directories only; a trailing '/***' matches the directory too;
 *   - '!' (negate) inverts the match, a non-directory included for a directory-only rule.
 * Paths are latin1 strings relative to the transfer root, without a leading '/'.
 */
import type { ParsedRule } from './filter-rule.js';
import { hasWildcards, trailingElements, wildmatchAt } from './wildmatch.js';

export interface MatchRule {
  include: boolean;
  sender: boolean;
  receiver: boolean;
  perishable: boolean;
  negate: boolean;
  dirOnly: boolean;
  absPath: boolean;
  anchored: boolean;
  /** The pattern without its anchoring '/' and its directory '/'. */
  body: string;
  slashCount: number;
  wild: boolean;
  wild2: boolean;
  wild2Prefix: boolean;
  wild3Suffix: boolean;
  /** A last-component pattern '*LITERAL' ('*.o'): the literal, matched with endsWith (the common case, kept fast). */
  suffix: string | null;
  /**
   * An anchored rule from a dir-merge file: the path is matched relative to that file's
   * directory: `strip` leading chars removed (a directory below the transfer root) or
   * `prepend` put before it (a directory above, from -F's scan of the parents).
   */
  base: { strip: number; prepend: string } | null;
}

export function compileRule(r: ParsedRule, base: MatchRule['base'] = null): MatchRule {
  let pat = r.pattern;
  const dirOnly = pat.length > 1 && pat.endsWith('/');
  if (dirOnly) pat = pat.slice(0, -1);
  let slashCount = 0;
  for (let i = 0; i < pat.length; i++) if (pat.charCodeAt(i) === 0x2f) slashCount++;
  const wild = hasWildcards(pat);
  const star2 = wild ? pat.indexOf('**') : -1;
  const anchored = pat.startsWith('/');
  return {
    include: r.type === 'include',
    sender: r.sender || !r.receiver,
    receiver: r.receiver || !r.sender,
    perishable: r.perishable,
    negate: r.negate,
    dirOnly,
    absPath: r.absPath,
    anchored,
    body: anchored ? pat.slice(1) : pat,
    slashCount,
    wild,
    wild2: star2 >= 0,
    wild2Prefix: star2 === 0,
    wild3Suffix: star2 >= 0 && pat.endsWith('***'),
    suffix: slashCount === 0 && /^\*[^*?[\\]*$/.test(pat) ? pat.slice(1) : null,
    base: anchored && !r.absPath ? base : null,
  };
}

/**
 * The rule matches entry `name` of directory `dir` (latin1; `dir` relative to the transfer root,
 * '' for the root itself). `absRoot` is the transfer root's absolute path (latin1, leading '/'),
 * used only by rules with the '/' modifier. The whole path is built only for rules that need it.
 */
export function ruleMatches(r: MatchRule, dir: string, name: string, isDir: boolean, absRoot: string): boolean {
  if (name === '') return false;
  const hit = !r.negate;
  if (!isDir && r.dirOnly) return !hit;
  if (r.suffix !== null) return name.endsWith(r.suffix) === hit;
  let prefix = '';
  if (r.slashCount > 0 || r.wild2) {
    // Not just the last component: the path from the transfer root (or the merge file's dir).
    const path = dir === '' ? name : `${dir}/${name}`;
    if (r.base) {
      name = r.base.prepend + path.slice(r.base.strip);
    } else {
      name = path;
      if (r.absPath && absRoot.length > 1) prefix = absRoot.slice(1) + '/';
      else if (r.wild2Prefix) prefix = '/';
    }
  }
  const suffix = isDir && r.wild3Suffix ? '/' : '';
  const where = !r.anchored && r.slashCount > 0 && !r.wild2 ? r.slashCount + 1
    : !r.anchored && !r.wild2Prefix && r.wild2 ? -1
      : 0;
  const text = prefix + name + suffix;
  let matched: boolean;
  if (r.wild) {
    matched = wildmatchAt(r.body, text, where);
  } else if (prefix || suffix || r.base) {
    const start = where > 0 ? trailingElements(text, where) : 0;
    matched = start >= 0 && text.slice(start) === r.body;
  } else if (r.anchored) {
    matched = name === r.body;
  } else {
    matched = name.endsWith(r.body) && (name.length === r.body.length || name.charCodeAt(name.length - r.body.length - 1) === 0x2f);
  }
  return matched ? hit : !hit;
}
