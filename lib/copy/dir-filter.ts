/**
 * What the copy engine asks of the filter rules, one directory at a time (lib/filter builds
 * them from the command line's --exclude, --include, --filter and -F): whether an entry is
 * transferred, whether an extraneous destination entry is protected from --delete, and the
 * scope of a subdirectory (where a dir-merge file such as .rsync-filter is read from the
 * source directory).
 */
export interface DirFilter {
  /** The scope inside subdirectory `name`; `readMerge(file)` reads a per-directory rules file there (null: none). */
  enter(name: Buffer, readMerge: (file: string) => Buffer | null): DirFilter;
  /** The sender's side: is entry `name` copied (and, for a directory, descended)? */
  transfer(name: Buffer, isDir: boolean): boolean;
  /** The receiver's side: is the extraneous entry `name` kept by --delete (excluded, or protected by P/R rules)? */
  protects(name: Buffer, isDir: boolean, deleteExcluded: boolean): boolean;
}

/** No rules: everything is copied, nothing is protected. */
export const NO_FILTER: DirFilter = {
  enter: () => NO_FILTER,
  transfer: () => true,
  protects: () => false,
};
