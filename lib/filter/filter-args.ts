/**
 * The filter options of the command line, in command-line order, to a rule set (rsync's
 * option parsing), pure but for the injected file reader. The entry point of lib/filter:
 *
 *   const rules = compileFilterArgs(args, { readFile, deleteExcluded });
 *   const root = FilterScope.root(rules, { readMerge, parentDirs, absRoot });   // filter-scope.ts
 *   root.transfer(name, isDir); const sub = root.enter(name, readMerge); sub.protects(name, isDir);
 *
 *   --exclude/-e PAT, --include PAT   one pattern; '- ' or '+ ' may prefix it, a lone '!' clears
 *   --exclude-from/--include-from F   one such pattern per line of F (';' and '#' start comments)
 *   --filter RULE                     the full rule grammar (filter-rule.ts)
 *   -F                                the first: ': /.rsync-filter'; the second: '- .rsync-filter'
 * Values are the strings the command line holds (UTF-8); they are matched as their bytes.
 */
import { UsageError } from '../errors/index.js';
import { addRules, display, type DirMergeSlot, type FilterRules, type ListEntry } from './filter-list.js';
import { fileTokens, parseRules, PLAIN, type ParseContext, type RuleTemplate } from './filter-rule.js';

export type FilterOption = 'exclude' | 'include' | 'filter' | 'exclude-from' | 'include-from' | 'F';

export interface FilterArg {
  option: FilterOption;
  value: string;
}

export interface FilterArgOptions {
  /** Reads an --exclude-from / --include-from / merge file; throws (an errno error) when it cannot. */
  readFile: (path: string) => Buffer;
  /** --delete-excluded: excluded destination files are no longer protected from --delete. */
  deleteExcluded?: boolean;
}

const INCLUDE: RuleTemplate = { ...PLAIN, include: true };

export function compileFilterArgs(args: readonly FilterArg[], opts: FilterArgOptions): FilterRules {
  const deleteExcluded = opts.deleteExcluded ?? false;
  const list: ListEntry[] = [];
  const slots: DirMergeSlot[] = [];
  const read = (what: string) => (latin1: string): Buffer => {
    const path = display(latin1);
    try {
      return opts.readFile(path);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new UsageError(`cannot read ${what} '${path}': ${why}`);
    }
  };
  const readMerge = read('merge file');
  let fCount = 0;
  for (const { option, value } of args) {
    const text = Buffer.from(value, 'utf8').toString('latin1');
    const ctx: ParseContext = { oldPrefixes: true, deleteExcluded, origin: `--${option}` };
    switch (option) {
      case 'exclude':
      case 'include':
        addRules(list, parseRules(text, option === 'include' ? INCLUDE : PLAIN, ctx), ctx, readMerge, slots);
        break;
      case 'exclude-from':
      case 'include-from': {
        const content = read(`--${option} file`)(text);
        const fileCtx = { ...ctx, origin: `--${option} ${value}` };
        for (const line of fileTokens(content, false)) {
          addRules(list, parseRules(line, option === 'include-from' ? INCLUDE : PLAIN, fileCtx), fileCtx, readMerge, slots);
        }
        break;
      }
      case 'filter': {
        const filterCtx = { ...ctx, oldPrefixes: false };
        addRules(list, parseRules(text, PLAIN, filterCtx), filterCtx, readMerge, slots);
        break;
      }
      case 'F': {
        fCount++;
        const rule = fCount === 1 ? ': /.rsync-filter' : fCount === 2 ? '- .rsync-filter' : '';
        const fCtx = { ...ctx, oldPrefixes: false, origin: '-F' };
        addRules(list, parseRules(rule, PLAIN, fCtx), fCtx, readMerge, slots);
        break;
      }
      default:
        throw new UsageError(`unknown filter option '${String(option)}'`);
    }
  }
  return { list, slots, deleteExcluded };
}
