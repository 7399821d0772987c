/**
 * The copy engine's options, its report of each action, and its result (the CLI prints them,
 * as lines, itemized changes or JSON records).
 */
import type { Warn } from '../errors/index.js';
import type { CopyStrategy } from '../fs/copy-data.js';
import type { EntryType } from '../fs/file-meta.js';
import type { Progress } from '../util/progress.js';
import type { Transfer } from './copy-paths.js';
import type { DirFilter } from './dir-filter.js';
import type { Throttle } from './throttle.js';

export interface CopyOptions {
  /** -a: directories, symlinks, specials and devices, hard links, mode, times, xattrs and ACLs, owner and group as root. */
  archive: boolean;
  /** -r: directories too (implied by -a); without it a directory source is skipped. */
  recursive: boolean;
  /** -H: hard links within the copy are kept (implied by -a). */
  hardLinks: boolean;
  /** -c: compare contents by BLAKE3 instead of size and modification time. */
  checksum: boolean;
  /** --inplace: write into existing files instead of a temporary renamed into place. */
  inplace: boolean;
  /** --delete: remove destination entries the source does not have, in the directories copied. */
  delete: boolean;
  /** --delete-excluded: excluded entries are removed too, not protected. */
  deleteExcluded: boolean;
  /** --max-delete N: delete at most N entries (null: no limit). */
  maxDelete: number | null;
  /** -n: decide everything, change nothing. */
  dryRun: boolean;
  /** --generate-sigs: a signature of each regular file of DEST in DEST/.foxing/ (lib/signature). */
  generateSigs?: boolean;
  /**
   * --delta: a changed file of DELTA_MIN_BYTES or more rebuilt from its old chunks (delta-write.ts):
   * 'auto' when the old file has a valid signature, 'always' signing it first otherwise, 'never'.
   */
  delta?: 'auto' | 'always' | 'never';
  /** --throttle: paces the walk on the machine's pressure (throttle.ts). */
  throttle?: Throttle;
  /** --verify: every file written read back and compared by BLAKE3 with its source (VERIFY problem when not the same). */
  verify?: boolean;
  /** The filter scope at the top of a transfer (NO_FILTER when none). */
  filter?: (t: Transfer) => DirFilter;
  onWarn: Warn;
  signal?: AbortSignal;
  /** Each action as it is decided (dry run) or done. */
  onAction?: (a: CopyAction) => void;
  progress?: Progress;
  /** Batches of files copied at once (FOXING_WORKERS; default: one per core). */
  workers?: number;
  /**
   * Called once, before the copy first changes anything in DEST (a file written, linked or made,
   * a directory made or removed, an entry deleted, attributes set), and awaited: a rejection
   * ends the copy with that error, DEST as it was. A run that finds nothing to change never
   * calls it. The CLI's space pre-flight (commands/copy.ts) rides on it, so an unchanged re-run
   * does not size its sources. Not called for DEST's own state (.foxing: signatures) nor for
   * the temporaries of a killed run, which are removed first.
   */
  beforeChange?: () => Promise<void>;
}

/** How a file's data was written: a data copier's route, or a delta from the old file. */
export type WriteStrategy = CopyStrategy | 'delta';

export type ActionKind = 'write' | 'hardlink' | 'create' | 'attrs' | 'unchanged' | 'delete';

export interface CopyAction {
  kind: ActionKind;
  type: EntryType;
  /** The path as rsync shows it: relative to the transfer, a directory copied by name included. */
  path: string;
  /** rsync's `YXcstpoguax` string. */
  itemize: string;
  /** For a regular file written: how its data was copied, and how many data bytes (holes not counted). */
  strategy?: WriteStrategy;
  bytes?: number;
  /** For a file rebuilt by delta: the bytes taken from the old file. */
  reused?: number;
  /** For a regular file written: its size (what the pre-flight counts). */
  size?: number;
  /** For a hard link: the path it links to. */
  linkTo?: string;
  /** For a symlink made: its target (shown as rsync's `-> TARGET`). */
  target?: string;
}

export interface CopyProblem { path: string; message: string; code: string }

export interface CopyResult {
  /** Source entries taken (not excluded), by type. */
  files: number;
  dirs: number;
  symlinks: number;
  specials: number;
  /** Regular files whose data was written, hard links made, other entries created, entries whose attributes alone changed. */
  written: number;
  linked: number;
  created: number;
  attrsOnly: number;
  unchanged: number;
  deleted: number;
  /** Sizes of the regular files taken, and the data bytes written for them. */
  bytes: number;
  bytesWritten: number;
  strategies: Partial<Record<WriteStrategy, number>>;
  /** Bytes of changed files taken from their old versions (delta updates) instead of written. */
  bytesReused: number;
  problems: CopyProblem[];
  /** --snapshot: the id of the snapshot of DEST taken after the copy. */
  snapshot?: string | null;
  /** Time paused by --throttle. */
  throttledSeconds: number;
  /** Why --delete stopped deleting, if it did (a source read error, --max-delete). */
  deleteStopped: string | null;
}

export function emptyResult(): CopyResult {
  return {
    files: 0, dirs: 0, symlinks: 0, specials: 0, written: 0, linked: 0, created: 0, attrsOnly: 0, unchanged: 0, deleted: 0,
    bytes: 0, bytesWritten: 0, bytesReused: 0, throttledSeconds: 0, strategies: {}, problems: [], deleteStopped: null,
  };
}
