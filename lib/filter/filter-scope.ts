/**
 * The filter rules in force in one directory of a walk (rsync's push_local_filters), pure but
 * for the injected merge-file readers. A walk starts with FilterScope.root at the transfer root
 * and calls enter() for each directory it descends; each scope answers for the entries of its
 * directory:
 *   transfer(name, isDir)   the sender side: is the entry copied (+ - H S)? An excluded
 *                           directory is neither copied nor descended.
 *   protects(name, isDir)   the receiver side, for --delete: is this extraneous destination
 *                           entry kept (P, and - unless --delete-excluded; R and + put it at risk)?
 * The transfer root is where anchored ('/'-led) rules anchor: for `SRC/` it is SRC and the root
 * scope's entries are SRC's entries; for `SRC` it is SRC's parent, the walker asks
 * root.transfer(Buffer.from('SRC'), true) and then root.enter('SRC', ...), as rsync does.
 *
 * Dir-merge files (': .rsync-filter', -F) are read through `readMerge(name)` in each directory
 * entered (null when the file is absent): the rules of a directory's file come first, then those
 * inherited from its parents (unless the rule has 'n'); anchored rules in it anchor at its
 * directory. rsync reads receiver-side merge files in the DESTINATION directory: for an exact
 * --delete, keep a second chain of scopes entered with readers on the destination and ask it
 * protects(); asking the source chain gives the same answer whenever the merge files were
 * copied and have not changed since.
 *
 * isDir means the entry itself is a directory (a symlink to one is not).
 */
import { UsageError } from '../errors/index.js';
import { addRules, checkList, display, type DirMergeSlot, type FilterRules, type ListEntry, type Side } from './filter-list.js';
import { fileTokens, parseRules, type ParseContext } from './filter-rule.js';
import type { MatchRule } from './rule-match.js';

/** Reads the merge file `name` in one directory; null when it does not exist. */
export type MergeReader = (name: Buffer) => Buffer | null;

/** A directory above the first one walked, for ': /NAME' rules (-F): rsync reads NAME there too. */
export interface ParentDir {
  /** The path from that directory down to the transfer root ('' for the root itself). */
  pathToRoot: Buffer;
  readMerge: MergeReader;
}

export interface RootOptions {
  /** Reads the transfer root's own merge files: give it for `SRC/`, leave it out for `SRC`. */
  readMerge?: MergeReader | null;
  /** The directories from '/' down to the parent of the first directory walked, outermost first. */
  parentDirs?: readonly ParentDir[];
  /** The transfer root's absolute path, for rules with the '/' modifier. */
  absRoot?: Buffer;
}

export class FilterScope {
  private constructor(
    private readonly rules: FilterRules,
    /** This directory's path from the transfer root, latin1, '' at the root. */
    private readonly dir: string,
    private readonly perDir: readonly (readonly MatchRule[])[],
    private readonly absRoot: string,
    /** Parent directories still to scan: at the first directory whose merge files are read. */
    private readonly pendingParents: readonly ParentDir[] | null,
  ) {}

  static root(rules: FilterRules, opts: RootOptions = {}): FilterScope {
    const scope = new FilterScope(rules, '', rules.slots.map(() => []), opts.absRoot?.toString('latin1') ?? '', opts.parentDirs ?? null);
    if (!opts.readMerge) return scope;
    return new FilterScope(rules, '', scope.readDir('', opts.readMerge), scope.absRoot, null);
  }

  /** The scope of subdirectory `name`, its merge files read through `readMerge`. */
  enter(name: Buffer, readMerge: MergeReader | null): FilterScope {
    const dir = this.path(name);
    if (this.rules.slots.length === 0) return new FilterScope(this.rules, dir, this.perDir, this.absRoot, null);
    return new FilterScope(this.rules, dir, this.readDir(dir, readMerge ?? (() => null)), this.absRoot, null);
  }

  /** The sender side: the entry is transferred (and, for a directory, descended). */
  transfer(name: Buffer, isDir: boolean): boolean {
    return this.check('sender', name.toString('latin1'), isDir, false) >= 0;
  }

  /**
   * The receiver side: --delete keeps this extraneous entry. `deleting`: the entry lies in a
   * directory that is itself being deleted, where perishable ('p') rules do not protect.
   */
  protects(name: Buffer, isDir: boolean, opts: { deleting?: boolean } = {}): boolean {
    return this.check('receiver', name.toString('latin1'), isDir, opts.deleting ?? false) < 0;
  }

  /** 1 included by a rule, -1 excluded by one, 0 no rule matched; for entry `name` (latin1) of this directory. */
  check(side: Side, name: string, isDir: boolean, ignorePerishable: boolean): number {
    return checkList(this.rules.list, this.perDir, side, this.dir, name, isDir, this.absRoot, ignorePerishable);
  }

  private path(name: Buffer): string {
    const n = name.toString('latin1');
    return this.dir === '' ? n : `${this.dir}/${n}`;
  }

  /** Each slot's rules in directory `dir`: those of its merge file there, then the inherited ones. */
  private readDir(dir: string, readMerge: MergeReader): MatchRule[][] {
    const perDir = this.perDir.map((rules) => [...rules]);
    for (const slot of this.rules.slots) {
      let rules: MatchRule[] = perDir[slot.slot];
      if (slot.scanParents && this.pendingParents) {
        for (const parent of this.pendingParents) {
          const prefix = parent.pathToRoot.toString('latin1');
          const up = this.readFile(slot, prefix || '.', parent.readMerge, { strip: 0, prepend: prefix ? `${prefix}/` : '' });
          rules = slot.noInherit || up.cleared ? up.rules : [...up.rules, ...rules];
        }
      }
      if (slot.noInherit) rules = [];
      const own = this.readFile(slot, dir || '.', readMerge, { strip: dir ? dir.length + 1 : 0, prepend: '' });
      perDir[slot.slot] = own.cleared ? own.rules : [...own.rules, ...rules];
    }
    return perDir;
  }

  private readFile(slot: DirMergeSlot, where: string, readMerge: MergeReader, base: MatchRule['base']): { rules: MatchRule[]; cleared: boolean } {
    const fileName = slot.fileName;
    const content = readMerge(Buffer.from(fileName, 'latin1'));
    if (!content) return { rules: [], cleared: false };
    const ctx: ParseContext = { oldPrefixes: false, deleteExcluded: this.rules.deleteExcluded, origin: `${display(where)}/${display(fileName)}` };
    const read = (name: string): Buffer => {
      const got = name.includes('/') ? null : readMerge(Buffer.from(name, 'latin1'));
      if (!got) throw new UsageError(`${ctx.origin}: cannot read merge file '${display(name)}' (only a name in the same directory can be merged)`);
      return got;
    };
    const list: ListEntry[] = [];
    let cleared = false;
    for (const token of fileTokens(content, slot.template.wordSplit)) {
      if (addRules(list, parseRules(token, slot.template, ctx), ctx, read, null, base)) cleared = true;
    }
    return { rules: list as MatchRule[], cleared };
  }
}

/**
 * The parent directories rsync scans for ': /NAME' rules: every directory from '/' down to the
 * parent of `firstDir` (the first directory walked: SRC in both `SRC` and `SRC/`), each with its
 * path down to `transferRoot`. Both are absolute, normalised paths. Pure.
 */
export function parentDirsOf(firstDir: string, transferRoot: string): Array<{ dir: string; pathToRoot: string }> {
  const parts = firstDir.split('/').filter((p) => p !== '');
  const rootParts = transferRoot.split('/').filter((p) => p !== '');
  const out: Array<{ dir: string; pathToRoot: string }> = [];
  for (let depth = 0; depth < parts.length; depth++) {
    out.push({ dir: '/' + parts.slice(0, depth).join('/'), pathToRoot: rootParts.slice(depth).join('/') });
  }
  return out;
}
