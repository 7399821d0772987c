/**
 * rsync's wildmatch (pure): shell-style matching with rsync's rules for '/'.
 *   '?'        one character, never '/'
 *   '*'        any run of characters without '/'
 *   '**'       any run of characters, '/' included ('***' is the same as '**' here; the
 *              "dir and everything in it" meaning of a trailing '/***' is the rule engine's)
 *   '[...]'    a class: ranges 'a-z', '[!...]' or '[^...]' negates, '[:alpha:]' and the other
 *              POSIX classes (ASCII only, as rsync in the C locale); never matches '/'
 *   '\x'       the character x itself
 * Texts and patterns are JS strings compared code unit by code unit. The filter engine passes
 * latin1 strings (one char per byte), so matching is on raw bytes exactly as in rsync; the
 * restore selector passes ordinary strings.
 *
 * The algorithm is rsync's own: a '*' that fails across a '/' aborts back to the
 * nearest '**' instead of backtracking through every earlier '*', which keeps the worst case
 * polynomial.
 */

const TRUE = 1;
const FALSE = 0;
const ABORT_ALL = -1;
const ABORT_TO_STARSTAR = -2;

const SLASH = 0x2f;
const STAR = 0x2a;
const QUESTION = 0x3f;
const BACKSLASH = 0x5c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const DASH = 0x2d;
const COLON = 0x3a;
const BANG = 0x21;
const CARET = 0x5e;

const CLASSES: Record<string, (c: number) => boolean> = {
  alnum: (c) => isDigit(c) || isAlpha(c),
  alpha: (c) => isAlpha(c),
  blank: (c) => c === 0x20 || c === 0x09,
  cntrl: (c) => c < 0x20 || c === 0x7f,
  digit: (c) => isDigit(c),
  graph: (c) => c > 0x20 && c < 0x7f,
  lower: (c) => c >= 0x61 && c <= 0x7a,
  print: (c) => c >= 0x20 && c < 0x7f,
  punct: (c) => c > 0x20 && c < 0x7f && !isDigit(c) && !isAlpha(c),
  space: (c) => c === 0x20 || (c >= 0x09 && c <= 0x0d),
  upper: (c) => c >= 0x41 && c <= 0x5a,
  xdigit: (c) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66),
};

function isDigit(c: number): boolean { return c >= 0x30 && c <= 0x39; }
function isAlpha(c: number): boolean { return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a); }

/** NaN past the end: compares unequal to every character, like C's terminating NUL here. */
function at(s: string, i: number): number { return i < s.length ? s.charCodeAt(i) : NaN; }

function domatch(p: string, pi: number, t: string, ti: number): number {
  for (; pi < p.length; pi++, ti++) {
    let ch = p.charCodeAt(pi);
    if (ti >= t.length && ch !== STAR) return ABORT_ALL;
    const tc = at(t, ti);
    switch (ch) {
      case BACKSLASH:
        ch = at(p, ++pi);
        if (tc !== ch) return FALSE;
        continue;
      default:
        if (tc !== ch) return FALSE;
        continue;
      case QUESTION:
        if (tc === SLASH) return FALSE;
        continue;
      case STAR: {
        let special = false;
        if (at(p, ++pi) === STAR) {
          while (at(p, ++pi) === STAR) { /* '**', '***', ... */ }
          special = true;
        }
        if (pi >= p.length) return special || t.indexOf('/', ti) < 0 ? TRUE : FALSE;
        for (; ti < t.length; ti++) {
          const m = domatch(p, pi, t, ti);
          if (m !== FALSE) {
            if (!special || m !== ABORT_TO_STARSTAR) return m;
          } else if (!special && t.charCodeAt(ti) === SLASH) {
            return ABORT_TO_STARSTAR;
          }
        }
        return ABORT_ALL;
      }
      case OPEN: {
        const r = matchClass(p, pi, tc);
        if (r.end < 0) return ABORT_ALL;
        if (!r.matched || tc === SLASH) return FALSE;
        pi = r.end;
        continue;
      }
    }
  }
  return ti >= t.length ? TRUE : FALSE;
}

/** Matches one character against the class opening at p[pi]; end is the index of its ']', -1 if malformed. */
function matchClass(p: string, pi: number, tc: number): { matched: boolean; end: number } {
  let ch = at(p, ++pi);
  const negated = ch === BANG || ch === CARET;
  if (negated) ch = at(p, ++pi);
  let prev = NaN;
  let matched = false;
  do {
    if (Number.isNaN(ch)) return { matched: false, end: -1 };
    if (ch === BACKSLASH) {
      ch = at(p, ++pi);
      if (Number.isNaN(ch)) return { matched: false, end: -1 };
      if (tc === ch) matched = true;
    } else if (ch === DASH && !Number.isNaN(prev) && pi + 1 < p.length && p.charCodeAt(pi + 1) !== CLOSE) {
      ch = at(p, ++pi);
      if (ch === BACKSLASH) {
        ch = at(p, ++pi);
        if (Number.isNaN(ch)) return { matched: false, end: -1 };
      }
      if (tc <= ch && tc >= prev) matched = true;
      ch = NaN; // a range's end does not start another range
    } else if (ch === OPEN && at(p, pi + 1) === COLON) {
      const start = pi + 2;
      let q = start;
      while (q < p.length && p.charCodeAt(q) !== CLOSE) q++;
      if (q >= p.length) return { matched: false, end: -1 };
      if (q - start - 1 < 0 || p.charCodeAt(q - 1) !== COLON) {
        // No ":]": the '[' is an ordinary member.
        if (tc === OPEN) matched = true;
      } else {
        const name = p.slice(start, q - 1);
        if (!Object.hasOwn(CLASSES, name)) return { matched: false, end: -1 };
        const test = CLASSES[name];
        if (!Number.isNaN(tc) && test(tc)) matched = true;
        pi = q;
        ch = NaN;
      }
    } else if (tc === ch) {
      matched = true;
    }
    prev = ch;
    ch = at(p, ++pi);
  } while (ch !== CLOSE);
  return { matched: matched !== negated, end: pi };
}

/** The whole of `text` matches `pattern`. */
export function wildmatch(pattern: string, text: string): boolean {
  return domatch(pattern, 0, text, 0) === TRUE;
}

/**
 * rsync's wildmatch_array on one text: `where` 0 matches the whole text; N > 0 matches the
 * last N '/'-separated elements (false when there are fewer); -1 tries the whole text, then
 * the text after every '/'.
 */
export function wildmatchAt(pattern: string, text: string, where: number): boolean {
  if (where > 0) {
    const start = trailingElements(text, where);
    if (start < 0) return false;
    return domatch(pattern, 0, text, start) === TRUE;
  }
  let m = domatch(pattern, 0, text, 0);
  if (m !== TRUE && where < 0 && m !== ABORT_ALL) {
    for (let i = text.indexOf('/'); i >= 0; i = text.indexOf('/', i + 1)) {
      m = domatch(pattern, 0, text, i + 1);
      if (m !== FALSE && m !== ABORT_TO_STARSTAR) break;
    }
  }
  return m === TRUE;
}

/** Index where the last `count` elements start, -1 when the text has fewer. */
export function trailingElements(text: string, count: number): number {
  for (let i = text.length - 1; i >= 0; i--) {
    if (text.charCodeAt(i) === SLASH && --count === 0) return i + 1;
  }
  return count === 1 ? 0 : -1;
}

/** The pattern has wildcards (rsync: any of '*', '?', '['); without them it is compared literally. */
export function hasWildcards(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}
