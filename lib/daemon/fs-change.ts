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
  /** Events may have been lost under `path` (null: anywhere): compare it all. */
  | { kind: 'rescan'; path: Buffer | null; why: string };
