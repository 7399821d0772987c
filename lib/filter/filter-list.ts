/**
 * A filter list: rules in order, first match wins (rsync's check_filter), pure but for the
 * injected file reader. Built from parsed rules: 'merge' files are read in place at once,
 * '!' clears what came before, 'dir-merge' rules stay in the list as slots that each directory
 * of a walk fills from its own merge file (filter-scope.ts).
 *
 * Each rule applies to the sender side (what is transferred: + - H S), the receiver side (what
 * --delete may remove: + - P R), or both. rsync decides sides when it parses: with
 * --delete-excluded a plain + or - is sender-side only, so excluded files are no longer
 * protected; that is why deleteExcluded is an option of the list, not of each question.
 */
import { UsageError } from '../errors/index.js';
import { compileRule, ruleMatches, type MatchRule } from './rule-match.js';
import { fileTokens, parseRules, templateOf, type ParseContext, type ParsedRule, type RuleTemplate } from './filter-rule.js';

/** A dir-merge rule's slot: the merge file's name and how its rules are read. */
export interface DirMergeSlot {
  slot: number;
  /** The merge file's base name, latin1. */
  fileName: string;
  /** ': /NAME' (as -F writes it): also read NAME in the directories above the transfer. */
  scanParents: boolean;
  template: RuleTemplate;
  noInherit: boolean;
  sender: boolean;
  receiver: boolean;
}

export type ListEntry = MatchRule | DirMergeSlot;

export type Side = 'sender' | 'receiver';

export interface ListOptions {
  /** Reads a merge file named on the command line or in a merge rule; a missing file throws. */
  readFile: (path: string) => Buffer;
  deleteExcluded?: boolean;
}

export function isSlot(e: ListEntry): e is DirMergeSlot {
  return (e as DirMergeSlot).slot !== undefined;
}

/**
 * Adds parsed rules to `list` as rsync's parse_filter_str does. `readMerge` reads the file a
 * 'merge' rule names (relative names: relative to where the rules came from).
 * `slots` numbers dir-merge rules; rules from a dir-merge file pass null (nested dir-merge
 * rules are not supported there). Returns whether a '!' cleared the list.
 */
export function addRules(
  list: ListEntry[],
  rules: ParsedRule[],
  ctx: ParseContext,
  readMerge: (name: string) => Buffer,
  slots: DirMergeSlot[] | null,
  base: MatchRule['base'] = null,
): boolean {
  let cleared = false;
  for (const r of rules) {
    if (r.type === 'clear') {
      list.length = 0;
      cleared = true;
      continue;
    }
    if (r.type === 'merge' || r.type === 'dir-merge') {
      if (r.excludeSelf) {
        // A plain exclude of the file's base name; --delete-excluded keeps it off the receiver.
        const self = compileRule({ ...r, type: 'exclude', pattern: r.pattern.slice(r.pattern.lastIndexOf('/') + 1), negate: false, absPath: false, perishable: false });
        self.sender = true;
        self.receiver = !ctx.deleteExcluded;
        list.push(self);
      }
      if (r.type === 'merge') {
        const content = readMerge(r.pattern);
        const inner: ParseContext = { ...ctx, oldPrefixes: false, origin: `merge file ${display(r.pattern)}` };
        const template = templateOf(r);
        for (const token of fileTokens(content, r.wordSplit)) {
          if (addRules(list, parseRules(token, template, inner), inner, readMerge, slots, base)) cleared = true;
        }
        continue;
      }
      if (!slots) throw new UsageError(`${ctx.origin}: a dir-merge rule inside a dir-merge file is not supported by fxcp: '${display(r.pattern)}'`);
      const slash = r.pattern.lastIndexOf('/');
      if (slash > 0) throw new UsageError(`${ctx.origin}: a dir-merge file name may only start with '/': '${display(r.pattern)}'`);
      const fileName = r.pattern.slice(slash + 1);
      if (fileName === '' || fileName === '.' || fileName === '..') throw new UsageError(`${ctx.origin}: bad dir-merge file name '${display(r.pattern)}'`);
      if (slots.some((s) => s.fileName === fileName)) continue; // rsync: a merge file mentioned again is ignored
      const slot: DirMergeSlot = {
        slot: slots.length, fileName, scanParents: slash === 0, template: templateOf(r), noInherit: r.noInherit,
        sender: r.sender || !r.receiver, receiver: (r.receiver || !r.sender) && !(ctx.deleteExcluded && r.noPrefixes !== ''),
      };
      slots.push(slot);
      list.push(slot);
      continue;
    }
    list.push(compileRule(r, base));
  }
  return cleared;
}

/** A compiled rule set: the command line's rules and its dir-merge slots. */
export interface FilterRules {
  list: ListEntry[];
  slots: DirMergeSlot[];
  deleteExcluded: boolean;
}

export function display(latin1: string): string {
  return Buffer.from(latin1, 'latin1').toString('utf8');
}

/**
 * First match wins: 1 included, -1 excluded, 0 no rule matched, for entry `name` of `dir`
 * (latin1, '' for the transfer root). `perDir` holds each dir-merge slot's rules for `dir`.
 */
export function checkList(
  list: readonly ListEntry[],
  perDir: readonly (readonly MatchRule[])[],
  side: Side,
  dir: string,
  name: string,
  isDir: boolean,
  absRoot: string,
  ignorePerishable: boolean,
): number {
  for (const e of list) {
    if (!e[side]) continue;
    if (isSlot(e)) {
      const rc = checkList(perDir[e.slot] ?? [], [], side, dir, name, isDir, absRoot, ignorePerishable);
      if (rc !== 0) return rc;
      continue;
    }
    if (ignorePerishable && e.perishable) continue;
    if (ruleMatches(e, dir, name, isDir, absRoot)) return e.include ? 1 : -1;
  }
  return 0;
}
