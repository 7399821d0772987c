/**
 * `--delete`: removing destination entries the source does not have, in the directories the
 * copy walks (never above them, never outside the destination), before that directory's own
 * entries are copied (rsync's --delete-during). An extraneous directory goes with everything in
 * it, deepest first.
 *
 * Kept: an entry the filter rules protect (P, or excluded without --delete-excluded:
 * lib/filter decides), and whatever contains one. Never deleted at all once the source could
 * not be read somewhere (`stop`): an unreadable directory must not make its copy look
 * extraneous. `--max-delete N` stops after N removals (reported, and the run is partial).
 * Under -n everything is decided and reported, and nothing removed.
 */
import { rmdirSync, unlinkSync } from 'node:fs';
import { DirHandle, LONG_PATH } from '../fs/dir-handle.js';
import { joinPath, scanDir, type ScannedDir } from '../fs/index.js';
import type { CopyOptions, CopyResult } from './copy-types.js';
import type { DirFilter } from './dir-filter.js';
import { DELETING } from './itemize.js';

export class DestDeleter {
  private on: boolean;

  constructor(private readonly opts: CopyOptions, private readonly result: CopyResult,
    private readonly problem: (path: Buffer, rel: string, err: unknown) => void) {
    this.on = opts.delete;
  }

  /** No more deletions this run, and why (said once). */
  stop(why: string): void {
    if (!this.on) return;
    this.on = false;
    this.result.deleteStopped = why;
    this.opts.onWarn('DELETE_STOPPED', `--delete: ${why}; nothing more is deleted this run`, { reason: why });
  }

  /**
   * Removes the entries of destination directory `dir` (listed as `dest`) that are not among
   * the source's (`src`) entries the filter transfers, unless protected. Returns how many.
   * With `remove` false, nothing is removed: how many would be tried.
   */
  extraneous(dir: Buffer, rel: string, src: ScannedDir, dest: ScannedDir, filter: DirFilter, remove = true): number {
    if (!this.on) return 0;
    const taken = new Set<string>();
    for (let i = 0; i < src.count; i++) {
      // An entry that could not be stat'ed still names what it was: its copy stays.
      if (!src.ok(i) || filter.transfer(src.name(i), src.type(i) === 'dir')) taken.add(src.name(i).toString('latin1'));
    }
    let removed = 0;
    for (let j = 0; j < dest.count && this.on; j++) {
      const name = dest.name(j);
      if (taken.has(name.toString('latin1'))) continue;
      const isDir = dest.type(j) === 'dir';
      if (filter.protects(name, isDir)) continue;
      if (!remove) {
        removed++;
        continue;
      }
      const childRel = rel ? `${rel}/${name.toString('utf8')}` : name.toString('utf8');
      if (this.remove(joinPath(dir, name), childRel, isDir, isDir ? filter.enter(name, null) : filter)) removed++;
    }
    return removed;
  }

  /**
   * A directory standing where the source has a non-directory: removed when empty, or with what
   * it holds under --delete (protected entries stop it). Throws when it cannot go.
   */
  clearDir(path: Buffer, rel: string, filter: DirFilter): void {
    if (this.opts.delete && this.on) {
      if (!this.removeTree(path, rel, filter)) throw new Error('a directory is in the way and holds entries --delete keeps');
      return;
    }
    try {
      rmdirSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY') {
        throw new Error('a directory that is not empty is in the way (--delete removes it)');
      }
      throw err;
    }
  }

  /** Removes one entry (a directory with its contents); false when something was kept or failed. */
  private remove(path: Buffer, rel: string, isDir: boolean, inner: DirFilter): boolean {
    if (isDir) return this.removeTree(path, rel, inner);
    if (!this.count()) return false;
    try {
      if (!this.opts.dryRun) unlinkSync(path);
    } catch (err) {
      this.problem(path, rel, err);
      return false;
    }
    this.reported(rel, 'file');
    return true;
  }

  /** Everything in directory `path`, then the directory; false when anything stays. */
  private removeTree(path: Buffer, rel: string, filter: DirFilter): boolean {
    let scan: ScannedDir;
    // A long path: its entries are reached through a handle (lib/fs/dir-handle.ts).
    let handle: DirHandle | null = null;
    try {
      if (path.length > LONG_PATH) handle = DirHandle.open(path);
      scan = scanDir(handle?.path ?? path);
    } catch (err) {
      handle?.close();
      this.problem(path, rel, err);
      return false;
    }
    let all = true;
    try {
      for (let j = 0; j < scan.count; j++) {
        const name = scan.name(j), isDir = scan.type(j) === 'dir';
        if (filter.protects(name, isDir, { deleting: true })) { all = false; continue; }
        if (!this.remove(scan.entryPath(j), `${rel}/${name.toString('utf8')}`, isDir, isDir ? filter.enter(name, null) : filter)) all = false;
      }
    } finally {
      handle?.close();
    }
    if (!all || !this.count()) return false;
    try {
      if (!this.opts.dryRun) rmdirSync(path);
    } catch (err) {
      this.problem(path, rel, err);
      return false;
    }
    this.reported(rel, 'dir');
    return true;
  }

  /** Counts one removal against --max-delete; false (and deleting stops) when the limit is reached. */
  private count(): boolean {
    if (!this.on) return false;
    const max = this.opts.maxDelete;
    if (max !== null && this.result.deleted >= max) {
      this.stop(`the --max-delete limit of ${max} was reached`);
      return false;
    }
    return true;
  }

  private reported(rel: string, type: 'file' | 'dir'): void {
    this.result.deleted++;
    this.opts.onAction?.({ kind: 'delete', type, path: type === 'dir' ? `${rel}/` : rel, itemize: DELETING });
  }
}
