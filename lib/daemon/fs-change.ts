/**
 * A change of the watched tree as the daemon's pipeline takes it, whatever source saw it
 * (inotify-source.ts; fanotify later). Paths are absolute, as bytes.
 *
 * The pipeline never trusts a change to say what the entry now is: each one only names a path
 * to look at again (change-queue.ts), so a change seen late, twice, or out of its cause's order
 * still ends with the mirror equal to the source.
 */
export type FsChange =
  /** Content, metadata or existence of `path` changed; `closed`: its writer closed it (settled). */
  | { kind: 'changed'; path: Buffer; dir: boolean; closed: boolean }
  /** `path` was removed. */
  | { kind: 'removed'; path: Buffer; dir: boolean }
  /** `from` was renamed to `path`, both in the tree. */
  | { kind: 'moved'; from: Buffer; path: Buffer; dir: boolean }
  /**
   * Events may have been lost under `path` (null: anywhere): compare it all. `refused`: the
   * kernel refused `path` a watch for its limit, so its later changes go unseen (live-sync.ts
   * tries again, and compares again, every REWATCH_MS).
   */
  | { kind: 'rescan'; path: Buffer | null; why: string; refused?: boolean };

/** Where a change source sends what it sees. */
export interface SourceHooks {
  onChange(change: FsChange): void;
  /** A path under the tree whose changes are not wanted (and, for inotify, a directory never watched). */
  skip(path: Buffer): boolean;
}

/** An event source of a tree: inotify-source.ts, fanotify-source.ts (change-source.ts picks one). */
export interface ChangeSource {
  /** Starts watching `dir` and everything below it; false when a watch was refused for a limit (a rescan was asked for). */
  watchTree(dir: Buffer): boolean;
  /** Watches held (inotify: one per directory; fanotify: one mark). */
  readonly watches: number;
  close(): void;
}
