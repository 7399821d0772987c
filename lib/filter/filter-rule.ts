/**
 * The grammar of one filter rule, as rsync parses it (its parse_rule_tok), pure.
 *
 *   RULE      = NAME [ ',' ] MODIFIERS ( ' ' | '_' ) PATTERN  |  '!' | 'clear'
 *   NAME      = '-' exclude | '+' include | 'H' hide | 'S' show | 'P' protect | 'R' risk
 *             | '.' merge | ':' dir-merge          (or the long word: 'exclude', 'dir-merge', ...)
 *   MODIFIERS = '!' negate, '/' match the absolute path, 'p' perishable, 's' sender side only,
 *               'r' receiver side only; on merge rules also '-' / '+' (every line is an exclude /
 *               include pattern), 'e' exclude the merge file itself, 'n' do not inherit,
 *               'w' split words on whitespace.
 * `--exclude` / `--include` values and the lines of `--exclude-from` / `--include-from` files
 * use the old form instead: a pattern, optionally prefixed by '- ' or '+ ', or a lone '!'.
 *
 * Patterns are latin1 strings (one char per byte of the name) so that matching is on raw bytes;
 * see wildmatch.ts. Unsupported modifiers ('C' CVS rules, 'x' xattr names) are a UsageError.
 */
import { UsageError } from '../errors/index.js';

export type RuleType = 'exclude' | 'include' | 'merge' | 'dir-merge' | 'clear';

/** What one rule says, before it is placed in a list. */
export interface ParsedRule {
  type: RuleType;
  /** As written, in latin1, trailing '/' included. */
  pattern: string;
  /** Neither set: both sides. H/S and 's' set sender, P/R and 'r' set receiver. */
  sender: boolean;
  receiver: boolean;
  negate: boolean;
  absPath: boolean;
  perishable: boolean;
  /** Merge rules: '-' or '+' when every line of the file is a bare exclude / include pattern. */
  noPrefixes: '' | '-' | '+';
  wordSplit: boolean;
  noInherit: boolean;
  excludeSelf: boolean;
}

/** What rules read from a merge file inherit from the merge rule that names the file. */
export interface RuleTemplate {
  include: boolean;
  absPath: boolean;
  perishable: boolean;
  sender: boolean;
  receiver: boolean;
  noPrefixes: '' | '-' | '+';
  wordSplit: boolean;
}

export const PLAIN: RuleTemplate = {
  include: false, absPath: false, perishable: false, sender: false, receiver: false, noPrefixes: '', wordSplit: false,
};

export interface ParseContext {
  /** The old '- ' / '+ ' prefixes (--exclude, --include, --exclude-from, --include-from). */
  oldPrefixes: boolean;
  /** --delete-excluded: an include/exclude without a side becomes sender-side only. */
  deleteExcluded: boolean;
  /** Where the text came from, for messages: "--filter", "file .rsync-filter", ... */
  origin: string;
}

const LONG_NAMES: Record<string, string> = {
  clear: '!', 'dir-merge': ':', exclude: '-', hide: 'H', include: '+', merge: '.', protect: 'P', risk: 'R', show: 'S',
};

function isSpace(c: string): boolean { return c === ' ' || (c >= '\t' && c <= '\r'); }

function fail(ctx: ParseContext, text: string, problem: string): never {
  throw new UsageError(`${ctx.origin}: ${problem}: '${Buffer.from(text, 'latin1').toString('utf8')}'`);
}

/**
 * Parses the rules in `text` (one, unless the template splits words) and returns them in order.
 * Empty text gives none.
 */
export function parseRules(text: string, template: RuleTemplate, ctx: ParseContext): ParsedRule[] {
  const rules: ParsedRule[] = [];
  let s = 0;
  for (;;) {
    if (template.wordSplit) while (s < text.length && isSpace(text[s])) s++;
    if (s >= text.length) return rules;
    const start = s;
    const rule: ParsedRule = {
      type: template.include ? 'include' : 'exclude', pattern: '', sender: false, receiver: false, negate: false,
      absPath: template.absPath, perishable: template.perishable, noPrefixes: '', wordSplit: false, noInherit: false,
      excludeSelf: false,
    };
    let tentativeClear = false;
    if (template.noPrefixes) {
      // Every token is a pattern of the template's kind.
    } else if (ctx.oldPrefixes) {
      if ((text[s] === '-' || text[s] === '+') && text[s + 1] === ' ') {
        rule.type = text[s] === '+' ? 'include' : 'exclude';
        s += 2;
      } else if (text[s] === '!') {
        tentativeClear = true;
      }
    } else {
      s = parsePrefix(text, s, rule, ctx);
    }
    if (template.sender || template.receiver) {
      if (rule.sender || rule.receiver) fail(ctx, text.slice(start), 'a merge file with a side holds a rule with a side');
      rule.sender = template.sender;
      rule.receiver = template.receiver;
    }
    let end = text.length;
    if (template.wordSplit) {
      end = s;
      while (end < text.length && !isSpace(text[end])) end++;
    }
    rule.pattern = text.slice(s, end);
    s = end;
    if (rule.type === 'clear' || tentativeClear) {
      if (rule.type === 'clear' && rule.pattern.length > 0) fail(ctx, text.slice(start), "'!' rule has trailing characters");
      if (rule.pattern.length <= 1) rule.type = 'clear';
    } else if (rule.pattern === '') {
      fail(ctx, text.slice(start), 'unexpected end of filter rule');
    }
    if (ctx.deleteExcluded && !rule.sender && !rule.receiver && (rule.type === 'include' || rule.type === 'exclude')) {
      rule.sender = true;
    }
    rules.push(rule);
  }
}

/** Reads the rule's name and modifiers at text[s]; returns where its pattern starts. */
function parsePrefix(text: string, s: number, rule: ParsedRule, ctx: ParseContext): number {
  const start = s;
  let ch = '';
  const word = /^[a-z][a-z-]*/.exec(text.slice(s, s + 10));
  if (word && word[0].length > 1) {
    const after = text[s + word[0].length];
    ch = LONG_NAMES[word[0]] ?? '';
    if (!ch || !(after === undefined || after === ',' || after === '_' || isSpace(after))) {
      fail(ctx, text.slice(start), 'unknown filter rule');
    }
    s += word[0].length - (after === ',' ? 0 : 1);
  } else {
    ch = text[s];
    if (text[s + 1] === ',') s++;
  }
  let sided = false;
  switch (ch) {
    case ':': rule.type = 'dir-merge'; break;
    case '.': rule.type = 'merge'; break;
    case '+': rule.type = 'include'; break;
    case '-': rule.type = 'exclude'; break;
    case 'S': rule.type = 'include'; rule.sender = true; sided = true; break;
    case 'H': rule.type = 'exclude'; rule.sender = true; sided = true; break;
    case 'R': rule.type = 'include'; rule.receiver = true; sided = true; break;
    case 'P': rule.type = 'exclude'; rule.receiver = true; sided = true; break;
    case '!': rule.type = 'clear'; break;
    default: fail(ctx, text.slice(start), 'unknown filter rule');
  }
  const merge = rule.type === 'merge' || rule.type === 'dir-merge';
  if (ch !== '!') {
    while (++s < text.length && text[s] !== ' ' && text[s] !== '_') {
      const m = text[s];
      const invalid = (): never => fail(ctx, text.slice(start), `invalid modifier '${m}'`);
      switch (m) {
        case '-': case '+':
          if (!merge || rule.noPrefixes) invalid();
          rule.noPrefixes = m;
          break;
        case '/': rule.absPath = true; break;
        case '!': if (merge) invalid(); rule.negate = true; break;
        case 'e': if (!merge) invalid(); rule.excludeSelf = true; break;
        case 'n': if (!merge) invalid(); rule.noInherit = true; break;
        case 'w': if (!merge) invalid(); rule.wordSplit = true; break;
        case 'p': rule.perishable = true; break;
        case 'r': if (sided) invalid(); rule.receiver = true; break;
        case 's': if (sided) invalid(); rule.sender = true; break;
        case 'C': case 'x': fail(ctx, text.slice(start), `modifier '${m}' is not supported by fxcp`);
        // falls through (fail never returns)
        default: invalid();
      }
    }
  }
  if (s < text.length) s++; // the one separator after the modifiers
  return s;
}

/** The template that rules read from the file a merge rule names inherit. */
export function templateOf(merge: ParsedRule): RuleTemplate {
  return {
    include: merge.noPrefixes === '+', absPath: merge.absPath, perishable: merge.perishable,
    sender: merge.sender, receiver: merge.receiver, noPrefixes: merge.noPrefixes, wordSplit: merge.wordSplit,
  };
}

/**
 * Splits a filter file into the texts parse_filter_file hands on: lines end at '\n' or '\r';
 * in a word-split file every white-space-separated word is one; empty lines and (unless word
 * split) lines starting with ';' or '#' are skipped.
 */
export function fileTokens(content: Buffer, wordSplit: boolean): string[] {
  const text = content.toString('latin1');
  const parts = text.split(wordSplit ? /[\n\r\t\v\f ]/ : /[\n\r]/);
  return parts.filter((p) => p !== '' && (wordSplit || (p[0] !== ';' && p[0] !== '#')));
}
