/**
 * What the copy engine asks of the filter rules, one directory at a time (lib/filter's
 * FilterScope, built from the command line's --exclude, --include, --filter and -F): whether
 * an entry is transferred, whether an extraneous destination entry is protected from --delete,
 * and the scope of a subdirectory (where a dir-merge file such as .rsync-filter is read from
 * the source directory).
 */

/** Reads a per-directory rules file in one directory; null when it has none. */
export type MergeReader = (name: Buffer) => Buffer | null;

export interface DirFilter {
  /** The scope inside subdirectory `name`, its merge files read through `readMerge` (null: none). */
  enter(name: Buffer, readMerge: MergeReader | null): DirFilter;
  /** The sender's side: is entry `name` copied (and, for a directory, descended)? */
  transfer(name: Buffer, isDir: boolean): boolean;
  /**
   * The receiver's side: is the extraneous entry `name` kept by --delete (excluded, unless
   * --delete-excluded, or protected by P/R rules)? `deleting`: it lies inside a directory that
   * is itself being deleted, where perishable rules do not protect.
   */
  protects(name: Buffer, isDir: boolean, opts?: { deleting?: boolean }): boolean;
}

/** No rules: everything is copied, nothing is protected. */
export const NO_FILTER: DirFilter = {
  enter: () => NO_FILTER,
  transfer: () => true,
  protects: () => false,
};
