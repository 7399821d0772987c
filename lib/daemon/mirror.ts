/**
 * A live mirror: runs the change queue's operations (change-queue.ts) on one target with the
 * copy engine, so every write is the engine's (temporary file and rename, reflink or
 * copy_file_range, metadata after data, the directory handles of long paths).
 *
 * - `sync P`: the target's P made what the source's P is now: a file copied (quick check
 *   first: an unchanged one costs an lstat), a directory copied with --delete (its whole
 *   subtree made exact), a path gone from the source deleted from the target. When the
 *   target lacks P's parent, the nearest parent it has is synced instead.
 * - `move`: a rename applied as a rename on the target when the target still has the old name
 *   and the source no longer does; then both names are synced (a no-op after a plain rename),
 *   so a move that raced with writes still converges.
 * - `rescan` and the first hydration: the whole tree compared and copied with --delete, with
 *   signatures (--generate-sigs) so that a later run, or `fxcp -a`, starts from them.
 *
 * The target's top-level `.foxing` (its signatures) is never touched as data, and a source's
 * own top-level `.foxing` is not mirrored (as in fxcp).
 *
 * Limits: a hard-linked file synced on its own is copied as a file of its own (the hydration
 * and rescans keep hard links); ownership needs root, as with fxcp -a. The roots are checked
 * before each operation and each deletion it makes itself; the copy engine's own --delete pass
 * walks by path, so a source root replaced in the middle of a directory's copy is caught only
 * at the next check (the window is that copy's length).
 */
import { lstatSync, renameSync, rmSync } from 'node:fs';
import { copyTree } from '../copy/copy-engine.js';
import { planCopy } from '../copy/copy-paths.js';
import type { CopyOptions, CopyProblem, CopyResult } from '../copy/copy-types.js';
import { PATH_FACTS } from '../copy/local-path-facts.js';
import type { Warn } from '../errors/index.js';
import { setTimesSync } from '../fs/apply-meta.js';
import { displayPath, joinPath, relPath, splitPath } from '../fs/fs-path.js';
import { STATE_DIR } from '../signature/signature-store.js';
import { type DirFilter, NO_FILTER } from '../copy/dir-filter.js';
import type { FilterRules } from '../filter/filter-list.js';
import { FilterScope } from '../filter/filter-scope.js';
import type { MirrorOp } from './change-queue.js';

const SLASH = Buffer.from('/');
const STATE = Buffer.from(STATE_DIR);

export interface MirrorOptions {
  onWarn: Warn;
  /**
   * Throws unless both roots are still the directories they were (live-sync.ts): asked right
   * before every deletion and every operation, so a source unmounted or replaced meanwhile
   * never turns into deletions at the target.
   */
  rootsOk?(): void;
  workers?: number;
  signal?: AbortSignal;
  /**
   * Exclude rules (rsync's, lib/filter), anchored at the source root: an excluded path is
   * neither copied nor, at the target, deleted (as `fxcp --exclude --delete`).
   */
  rules?: FilterRules | null;
  /**
   * Each regular file an operation wrote (its path on the target), for per-file versions
   * (file-versions.ts): `fresh` when no file stood under its name on the target before, `full`
   * when a full comparison (the hydration, a full rescan) wrote it.
   */
  onWritten?(path: Buffer, fresh: boolean, full: boolean): void;
}

/** What one operation did, for the log and the metrics. */
export interface MirrorOutcome {
  /**
   * The entries the copy engine could not copy (it carries on past them): the caller retries a
   * live operation that has any, then reports them (live-sync.ts). A full comparison's were
   * reported by the engine as it went.
   */
  problems: CopyProblem[];
  written: number;
  deleted: number;
  renamed: boolean;
  /** Data bytes written, and bytes taken from old files by delta updates instead. */
  bytes: number;
  reused: number;
}

export class Mirror {
  constructor(readonly source: Buffer, readonly target: Buffer, private readonly opts: MirrorOptions) {}

  /** The whole source copied over the target, with --delete and signatures. */
  hydrate(): Promise<CopyResult> {
    const opts = this.copyOptions(true, true, this.rootScope());
    this.reportWrites(opts, this.target, true, true);
    return copyTree(planCopy([Buffer.concat([this.source, SLASH])], this.target, PATH_FACTS), opts);
  }

  /**
   * Each regular file the copy into `to` writes, told to onWritten (a directory's actions name
   * paths inside it; a new file's itemized change is `>f+++++++++`). Limit: with a report asked
   * for, the copy engine also reports each unchanged file (a string each, dropped here).
   */
  private reportWrites(opts: CopyOptions, to: Buffer, isDir: boolean, full: boolean): void {
    const onWritten = this.opts.onWritten;
    if (onWritten) {
      opts.onAction = (a) => {
        if (a.kind === 'write' && a.type === 'file') onWritten(isDir ? joinPath(to, Buffer.from(a.path)) : to, a.itemize.charAt(2) === '+', full);
      };
    }
  }

  private rootsOk(): void {
    this.opts.rootsOk?.();
  }

  /** The filter scope at the source root; null without rules. */
  private rootScope(): DirFilter | null {
    return this.opts.rules ? FilterScope.root(this.opts.rules, { absRoot: this.source }) : null;
  }

  /**
   * The filter scope inside source path `p` (a directory), entered from the root; null when
   * `p` or a directory above it is excluded. NO_FILTER without rules.
   */
  private scopeOf(p: Buffer, isDir: boolean): DirFilter | null {
    let scope = this.rootScope();
    if (scope === null) return NO_FILTER;
    const rel = relPath(this.source, p);
    if (rel === null) return null;
    const names = rel.length === 0 ? [] : splitNames(rel);
    for (let k = 0; k < names.length; k++) {
      const last = k === names.length - 1;
      if (!scope.transfer(names[k], last ? isDir : true)) return null;
      scope = scope.enter(names[k], null);
    }
    return scope;
  }

  async run(op: MirrorOp): Promise<MirrorOutcome> {
    const out: MirrorOutcome = { problems: [], written: 0, deleted: 0, renamed: false, bytes: 0, reused: 0 };
    this.rootsOk();
    if (op.kind === 'rescan') {
      // A rescan of one directory (a watch refused there) compares that directory only.
      if (op.path === null) this.add(out, await this.hydrate());
      else await this.sync(op.path, out);
    } else if (op.kind === 'sync') {
      await this.sync(op.path, out);
    } else {
      const to = this.targetOf(op.path), from = this.targetOf(op.from);
      const plain = this.scopeOf(op.from, false) !== null && this.scopeOf(op.path, false) !== null;
      if (plain && from && to && !exists(op.from) && exists(from) && exists(splitPath(to)[0]) && relPath(op.from, op.path) === null) {
        try {
          renameSync(from, to);
          out.renamed = true;
        } catch { /* a type clash at the new name, say: the syncs below do it the long way */ }
      }
      await this.sync(op.path, out);
      if (!out.renamed || exists(op.from)) await this.sync(op.from, out);
      if (out.renamed) this.parentTimes(op.from);
    }
    if (op.kind !== 'rescan') this.parentTimes(op.path);
    return out;
  }

  /**
   * The target's directory of source path `p` given the source directory's times again: an
   * entry made, renamed or removed in it moved its mtime (a whole copy sets a directory's times
   * after its contents; a live one changes one entry at a time). After every operation, done
   * or not (a removal the hydration already made still left the source directory newer), and
   * synchronously, read and set in one turn of the event loop: two operations in one directory
   * cannot interleave, so the last one sets the newest time, and a change after it is an
   * event whose operation comes later still.
   */
  private parentTimes(p: Buffer): void {
    const dir = splitPath(p)[0], to = this.targetOf(dir);
    const st = lstatSync(dir, { bigint: true, throwIfNoEntry: false });
    const old = to === null ? undefined : lstatSync(to, { bigint: true, throwIfNoEntry: false });
    if (to === null || !st?.isDirectory() || !old?.isDirectory() || old.mtimeNs === st.mtimeNs) return;
    try {
      setTimesSync(to, st);
    } catch { /* gone meanwhile: the change that removed it syncs it */ }
  }

  /** The target path of source path `p`; null outside the source, or for its top-level state directory. */
  private targetOf(p: Buffer): Buffer | null {
    const rel = relPath(this.source, p);
    if (rel === null) return null;
    if (rel.length === 0) return this.target;
    const first = rel.indexOf(0x2f);
    if ((first < 0 ? rel : rel.subarray(0, first)).equals(STATE)) return null;
    return joinPath(this.target, rel);
  }

  private async sync(path: Buffer, out: MirrorOutcome): Promise<void> {
    const to = this.targetOf(path);
    if (to === null) return;
    const src = lstatSync(path, { throwIfNoEntry: false });
    const old = lstatSync(to, { throwIfNoEntry: false });
    // An excluded path is left alone on both sides (kept at the target, as --delete keeps it).
    const scope = this.scopeOf(path, (src ?? old)?.isDirectory() ?? false);
    if (scope === null) return;
    if (src === undefined) {
      if (old !== undefined) {
        this.rootsOk();  // gone because the source root went away is no reason to delete
        rmSync(to, { recursive: true, force: true });
        out.deleted++;
      }
      return;
    }
    if (!to.equals(this.target) && !exists(splitPath(to)[0])) {
      await this.sync(splitPath(path)[0], out);  // the target lacks the parent: make it, with all of it
      return;
    }
    if (old !== undefined && old.isDirectory() !== src.isDirectory()) {
      this.rootsOk();
      rmSync(to, { recursive: true, force: true });
    }
    const from = src.isDirectory() ? Buffer.concat([path, SLASH]) : path;
    const opts = this.copyOptions(src.isDirectory(), false, scope === NO_FILTER ? null : scope);
    // An entry that cannot be copied comes back in the result's problems, to be retried and
    // then reported once (live-sync.ts), not warned of at each try.
    const warn = this.opts.onWarn;
    opts.onWarn = (code, message, detail) => { if (code !== 'FILE_ERROR' && code !== 'VANISHED') warn(code, message, detail); };
    this.reportWrites(opts, to, src.isDirectory(), false);
    this.add(out, await copyTree(planCopy([from], to, PATH_FACTS), opts));
  }

  private add(out: MirrorOutcome, r: CopyResult): void {
    out.written += r.written;
    out.deleted += r.deleted;
    out.bytes += r.bytesWritten;
    out.reused += r.bytesReused;
    out.problems.push(...r.problems);
  }

  private copyOptions(dir: boolean, sigs: boolean, scope: DirFilter | null): CopyOptions {
    return {
      archive: true, recursive: true, hardLinks: true, checksum: false, inplace: false, delete: dir, deleteExcluded: false, maxDelete: null,
      dryRun: false, generateSigs: sigs, onWarn: this.opts.onWarn, signal: this.opts.signal, workers: this.opts.workers,
      ...(scope ? { filter: () => scope } : {}),
    };
  }

  toString(): string { return `${displayPath(this.source)} -> ${displayPath(this.target)}`; }
}

function splitNames(rel: Buffer): Buffer[] {
  const names: Buffer[] = [];
  for (let at = 0; at <= rel.length;) {
    const end = rel.indexOf(0x2f, at);
    names.push(rel.subarray(at, end < 0 ? rel.length : end));
    if (end < 0) break;
    at = end + 1;
  }
  return names;
}

function exists(p: Buffer): boolean {
  return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}
