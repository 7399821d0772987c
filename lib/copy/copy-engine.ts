/**
 * The copy engine: `fxcp SRC... DEST` after the paths are planned (copy-paths.ts). It walks
 * each source directory by directory, compares every entry with the destination's entry of
 * the same name, and writes what differs through lib/fs/materialize.ts (the restore's writing
 * half, with the same safety rules: a temporary renamed into place, never a path outside the
 * destination, a symlink in the way replaced and never followed).
 *
 * Per directory: the source is listed (scanDir: one native call), then the destination;
 * --delete removes the destination's extraneous entries first (dest-delete.ts), then each
 * source entry is handled. Files are copied side by side (at most `ENTRIES_AT_ONCE` at a
 * time, wherever they are in the tree); a directory's attributes (its mtime above all) are
 * set once everything inside it is done.
 * A directory this copy makes is written in groups instead (dir-group.ts): its files and its
 * subdirectories' mkdirs as rows of a batch, its own attributes last when nothing else goes in.
 *
 * Decisions (entry-compare.ts): a file whose size and modification time (ns) match is left
 * alone (-c: whose BLAKE3 matches); its attributes alone may still be updated. A hard-link
 * group (-a) is copied once and linked (copy-file.ts). Under -n nothing is changed and every
 * decision is still reported.
 *
 * Errors: what fails for one entry (unreadable, vanished, refused) is a problem, named and
 * counted, and the copy goes on; a destination that is out of space ends it. After a source
 * read error, --delete deletes nothing more (rsync's rule: an unread directory must not look
 * empty).
 *
 * Memory: the listings of the directories on the current path (source and destination), and
 * the hard-link groups seen (one entry per multiply-linked file).
 */
import { lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { abortPoint, isAbortError, ToolkitError } from '../errors/index.js';
import { isNoSpace } from '../fs/free-space.js';
import type { FileMeta } from '../fs/file-meta.js';
import { displayPath, errnoOf, fsError, joinPath, newScanWalk, runningAsRoot, scanDir, type ScannedDir, type ScanWalk, splitPath } from '../fs/index.js';
import { captureMetaSync } from '../fs/capture-meta.js';
import { dirCreateMode, Materializer } from '../fs/materialize.js';
import { removeStaleTemps, TEMP_PREFIX } from '../fs/temp-name.js';
import { DirHandle, LONG_PATH } from '../fs/dir-handle.js';
import { Semaphore } from '../util/semaphore.js';
import { type CopyPlan, shownPath, type Transfer } from './copy-paths.js';
import { type CopyOptions, type CopyResult, emptyResult, type WriteStrategy } from './copy-types.js';
import { FileCopier } from './copy-file.js';
import { DestDeleter } from './dest-delete.js';
import { type DirFilter, type MergeReader, NO_FILTER } from './dir-filter.js';
import { anyChange, attributeChanges, type KeepAttributes } from './entry-compare.js';
import { itemize } from './itemize.js';
import { BATCH_FILES, WriteBatcher } from './write-batcher.js';
import { DirGroup, type GroupSink, splitDir } from './dir-group.js';
import { available as batchesAvailable } from '../fs/copy-files-native.js';
import { CopySigner, keepState } from './copy-signer.js';
import { destOf, type PairRules, pairScans, type ScanPair } from '../fs/scan-pair.js';
import { native } from '../native/load.js';

/**
 * Entries in flight at once, wherever they are in the tree (the walk waits for a place before
 * it starts one, so memory stays bounded): enough for a batch per core being copied while the
 * next ones fill (write-batcher.ts).
 */
const ENTRIES_AT_ONCE = 4 * BATCH_FILES;

/** A directory of the walk: its listings, its place in the filters, and what runs inside it. */
interface Frame {
  /** Where its entries are read and written: its paths, or handle paths when those are long (dir-handle.ts). */
  src: Buffer;
  dst: Buffer;
  /** The destination directory's own path (through its parent's handle when long). */
  self: Buffer;
  srcHandle: DirHandle | null;
  dstHandle: DirHandle | null;
  /** Its path as rsync shows it ('' at the top of a contents copy). */
  rel: string;
  meta: FileMeta;
  /** The destination directory before the walk (null: made by it). */
  before: FileMeta | null;
  filter: DirFilter;
  scan: ScannedDir | null;
  i: number;
  /** The destination's listing (null: made by this copy), and the two listings paired (lib/fs/scan-pair.ts). */
  dest: ScannedDir | null;
  pair: ScanPair | null;
  dev: bigint;
  /** Entries started inside (subdirectories included) and not yet done; `done` is called when the last one is. */
  outstanding: number;
  done: (() => void) | null;
  /** Something inside was written, made or removed (its mtime moved: set it again). */
  touched: boolean;
  /** Its attributes differed before the walk. */
  changed: boolean;
  /** The frame of the directory holding it (null at the top of a transfer). */
  parent: Frame | null;
  /**
   * A new directory whose mkdir is in a batch (write-batcher.ts) and may not have run yet: the
   * mode it is made with. Whatever is written inside it from this thread makes it first
   * (`ready`); batched jobs inside it make it if they run first. Null once made here.
   */
  pending: number | null;
  /** It could not be made (reported): nothing inside it is reported again, its attributes are not set. */
  failed: boolean;
  /**
   * A new directory's groups (dir-group.ts), queued by the walk when it enters the directory;
   * `grouped`: the entries they write (files: the walk passes them over); `dirsMade`: settles
   * once the group making its subdirectories has run (`dirErrors`: those it could not make,
   * by entry); `metaInGroup`: its own attributes are set by its group.
   */
  groups: DirGroup[] | null;
  groupsQueued: number;
  /** By entry: 1, a file its groups write; 2, a subdirectory they make. */
  grouped: Uint8Array | null;
  dirsMade: Promise<void> | null;
  dirErrors: Map<number, unknown> | null;
  metaInGroup: boolean;
  /** What its groups could not write (entry, or -1 for its attributes), reported once `known`. */
  groupFailures: Array<[number, unknown]> | null;
  /**
   * Settles once it is known whether the directory (and every new one above it) could be made,
   * that failure handled (dirFailed): what failed inside it is reported after, and only if not.
   */
  known: Promise<unknown>;
  /** --delete has extraneous entries to look for here, left until the copy may change DEST (`changing`). */
  extra: boolean;
}

const KNOWN = Promise.resolve();

/** Reads a per-directory rules file (a dir-merge's .rsync-filter) in source directory `dir`; null when there is none. */
function readMergeFile(dir: Buffer): MergeReader {
  return (file) => {
    const path = joinPath(dir, file);
    try {
      return readFileSync(path);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return null;
      throw fsError(err, 'read filter rules file', path, 'open');
    }
  };
}

const TEMP = Buffer.from(TEMP_PREFIX);

export async function copyTree(plan: CopyPlan, opts: CopyOptions): Promise<CopyResult> {
  return new Copier(plan, opts).run();
}

class Copier implements GroupSink<Frame> {
  private readonly result = emptyResult();
  private readonly keep: KeepAttributes;
  private readonly out: Materializer;
  private readonly files: FileCopier;
  private readonly writer: WriteBatcher;
  private readonly signer: CopySigner | null;
  private readonly deleter: DestDeleter;
  private readonly slots = new Semaphore(ENTRIES_AT_ONCE);
  /**
   * The current transfer's two walks' scans (lib/fs/scan-dir.ts): each reuses its buffer, and
   * the addon lists the subdirectories ahead (from before this process was ready, when its
   * launcher guessed the walk: lib/cli/cli-loader.cts). A destination directory is listed ahead
   * only before this copy writes into it: its frame is opened (and listed) before anything
   * inside it is written.
   */
  private srcWalk: ScanWalk | undefined;
  private destWalk: ScanWalk | undefined;
  /** What ends the copy (no space, an interrupt), seen by the walk at its next step. */
  private fatal: unknown = null;
  /** DEST was made by this run: a contents copy into it reports it as new. */
  private madeRoot = false;
  /**
   * Source directories are listed without sizing each entry's xattrs (-a, --generate-sigs, a
   * re-run into an existing DEST, the addon): a directory whose signature record vouches for
   * its unchanged files (formats/signatures.md §6: their sources' ctimes are those seen without
   * xattrs) skips that system call per file; any other is sized after its listing.
   */
  private readonly xattrsLater: boolean;
  /** Source directories are listed with each entry's xattr list sized. */
  private readonly srcXattrSizes: boolean;
  /** New directories are written in groups (dir-group.ts): -a, the addon, and nothing asked per file that a group cannot do. */
  private readonly groupsOn: boolean;
  /**
   * opts.beforeChange, called (once) by `changing` before the first change to DEST; `gateOpen`
   * once it has resolved (or when there is none: a dry run changes nothing).
   */
  private gate: Promise<void> | null = null;
  private gateOpen: boolean;

  constructor(private readonly plan: CopyPlan, private readonly opts: CopyOptions) {
    const root = runningAsRoot();
    this.keep = { perms: opts.archive, times: opts.archive, owner: opts.archive && root, xattrs: opts.archive };
    this.out = new Materializer({ root: plan.root, owner: this.keep.owner, onWarn: opts.onWarn });
    this.writer = new WriteBatcher(this.out, this.keep.owner, opts.onWarn, opts.signal, opts.workers);
    this.signer = opts.generateSigs && !opts.dryRun ? CopySigner.open(plan.root, opts.onWarn) : null;
    this.xattrsLater = opts.archive && this.signer !== null && native !== null && !plan.makeRoot;
    this.srcXattrSizes = opts.archive && !this.xattrsLater;
    this.groupsOn = batchesAvailable && opts.archive && !opts.dryRun && !opts.checksum && this.signer === null && !opts.verify && !opts.throttle;
    this.gateOpen = !opts.beforeChange || opts.dryRun;
    this.files = new FileCopier(this.out, opts, this.keep, this.result, this.writer, this.signer, () => this.changing());
    this.deleter = new DestDeleter(opts, this.result, (_path, rel, err) => this.problem(rel, err, false));
  }

  async run(): Promise<CopyResult> {
    try {
      if (this.plan.makeRoot && !this.opts.dryRun) {
        await this.changing();
        mkdirSync(this.plan.root, { recursive: true });
      }
      this.madeRoot = this.plan.makeRoot;
      for (const t of this.plan.transfers) {
        await this.transfer(t);
        if (this.fatal) break;
      }
    } finally {
      await this.idle();
      await this.writer.close();
      await this.signer?.close();
    }
    if (this.fatal) throw this.fatal;
    if (this.opts.throttle) this.result.throttledSeconds = this.opts.throttle.paused / 1000;
    return this.result;
  }

  /** A problem with one entry: named, counted; `source`: reading the source failed (--delete stops). */
  private problem(rel: string, err: unknown, source = true): void {
    if (err === this.fatal) return;
    // Out of space (nothing later can be written either; the temporary is gone), or
    // interrupted: the walk ends the copy at its next step (entries never throw: their promises
    // wait in their directory's list, where a rejection would have no handler yet).
    if (isNoSpace(err) || isAbortError(err)) {
      this.fatal ??= err;
      return;
    }
    const code = errnoOf(err) === 'ENOENT' ? 'VANISHED' : err instanceof ToolkitError ? err.code : 'FS';
    const message = `${rel || '.'}: ${(err as Error).message}`;
    this.result.problems.push({ path: rel, message, code });
    this.opts.onWarn(code === 'VANISHED' ? 'VANISHED' : 'FILE_ERROR', message, { path: rel });
    // A source that could not be read may look emptier than it is: delete nothing more.
    if (source && code !== 'VANISHED') this.deleter.stop('a source entry could not be read');
  }

  private async transfer(t: Transfer): Promise<void> {
    const name = splitPath(t.source)[1];
    const rel = t.topName ? t.topName.toString('utf8') : t.isDir ? '' : name.toString('utf8');
    let meta: FileMeta;
    try {
      meta = captureMetaSync(t.source, name, { xattrs: this.opts.archive, onWarn: this.opts.onWarn });
    } catch (err) {
      this.problem(rel, err);
      return;
    }
    const top = this.opts.filter?.(t) ?? NO_FILTER;
    if (t.topName && !top.transfer(t.topName, true)) return;
    if (!t.isDir) {
      if (!top.transfer(name, false)) return;
      const before = this.lstatOrNull(t.target);
      const parentDev = this.lstatOrNull(splitPath(t.target)[0])?.dev ?? 0n;
      await this.entry(meta, t.source, t.target, rel, before, parentDev);
      return;
    }
    if (!this.opts.recursive) {
      this.problem(rel, new ToolkitError('SKIPPED_DIR', `skipping directory ${displayPath(t.source)} (copy directories with -r or -a)`));
      return;
    }
    const before = this.madeRoot && t.target.equals(this.plan.root) ? null : this.lstatOrNull(t.target);
    // A directory made, or something else replaced: a change.
    if (before?.type !== 'dir' && !(await this.passed())) return;
    const filter = t.topName ? top.enter(t.topName, readMergeFile(t.source)) : top;
    this.srcWalk = newScanWalk(t.source, this.srcXattrSizes);
    this.destWalk = newScanWalk(t.target);
    // DEST itself: its state directory (.foxing) is neither copied into nor deleted.
    const frame = this.openDir(meta, t.source, t.target, rel, before, t.target.equals(this.plan.root) ? keepState(filter) : filter);
    if (frame) await this.walk(frame);
  }

  private lstatOrNull(p: Buffer): FileMeta | null {
    try {
      return captureMetaSync(p, splitPath(p)[1], { xattrs: this.opts.archive });
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return null;
      throw err;
    }
  }

  /**
   * The destination directory for source directory `src` (made, or a non-directory in its
   * way replaced; reported), its listings, and --delete's pass over it. Null when it fails.
   */
  private openDir(meta: FileMeta, src: Buffer, dst: Buffer, rel: string, before: FileMeta | null, filter: DirFilter, parent: Frame | null = null,
    index = -1): Frame | null {
    const dir = before?.type === 'dir' ? before : null;
    let srcHandle: DirHandle | null = null, dstHandle: DirHandle | null = null;
    let pending: number | null = null, made: Promise<unknown> | false = false;
    try {
      // A non-directory in the way is replaced (makeDir never follows a symlink there). Below
      // the top, with -a, a new directory is made in a batch, off this thread (4,556 mkdirs on
      // the bench's mixed set); the top, and long paths (reached through handles), here.
      if (!dir && !this.opts.dryRun && !(this.madeRoot && dst === this.plan.root)) {
        const mode = this.opts.archive ? dirCreateMode(meta) : 0o700;
        if (parent?.grouped?.[index] === 2) made = this.madeInGroup(parent, index);
        else if (parent && this.opts.archive && dst.length <= LONG_PATH) made = this.writer.makeDir(dst, mode, this.newParent(parent));
        if (made) pending = mode;
        else {
          if (parent && !this.ready(parent)) return null;
          this.out.makeDir(dst, mode);
        }
      }
      this.result.dirs++;
      const changes = dir ? attributeChanges(meta, dir, this.keep) : {};
      if (!dir) this.report('create', 'dir', rel, () => itemize('create', 'dir', true));
      else if (anyChange(changes)) this.report('attrs', 'dir', rel, () => itemize('attrs', 'dir', false, changes));
      // Long paths: what lies inside is reached through handles, and listed without the
      // scan-ahead (whose listings are keyed by path: a handle's number is reused once closed).
      if (src.length > LONG_PATH) srcHandle = DirHandle.open(src);
      if (dst.length > LONG_PATH && (dir || !this.opts.dryRun)) dstHandle = this.out.enterHandle(dst);
      const inSrc = srcHandle?.path ?? src, inDst = dstHandle?.path ?? dst;
      const scan = scanDir(inSrc, this.srcXattrSizes, srcHandle ? undefined : this.srcWalk);
      let dest: ScannedDir | null = null, pair: ScanPair | null = null, vouched = false, record = this.opts.archive;
      if (dir) {
        // Without xattr sizes: a destination entry's xattrs are read only when its source has
        // some (a copy never removes xattrs, lib/fs/apply-meta.ts, so others do not matter).
        dest = scanDir(inDst, false, dstHandle ? undefined : this.destWalk);
        const rules = this.pairRules(filter);
        pair = pairScans(scan, dest, rules, TEMP);
        // Temporaries a killed run left (kill -9): removed, and the directory listed again without them.
        if (pair.temps > 0 && removeStaleTemps(inDst) > 0) {
          dest = scanDir(inDst, false);
          pair = pairScans(scan, dest, rules, TEMP);
        }
        vouched = pair.same > 0 && this.signer !== null && this.signer.dirVouches(dir.dev, dir.ino, pair.ids);
        if (this.xattrsLater && !vouched) {
          // Not shown to have none: the sources' xattrs sized after all, and paired again.
          scan.sizeXattrs();
          const strict = pairScans(scan, dest, { ...rules, xattrsUnknown: false }, TEMP);
          record = strict.same === pair.same;
          pair = strict;
        }
      } else if (this.xattrsLater) {
        scan.sizeXattrs();
      }
      const frame: Frame = { src: inSrc, dst: inDst, self: dst, srcHandle, dstHandle, rel, meta, before: dir, filter, scan, i: 0, dest, pair,
        outstanding: 0, done: null, changed: anyChange(changes), touched: false, parent, pending, failed: false, extra: false,
        groups: null, groupsQueued: 0, grouped: null, dirsMade: null, dirErrors: null, metaInGroup: false, groupFailures: null, known: KNOWN,
        // A directory this copy made is on its parent's file system (nothing is mounted on it yet).
        dev: dir?.dev ?? parent?.dev ?? (this.opts.dryRun ? 0n : lstatSync(dst, { bigint: true }).dev) };
      // Its mkdir counts as an entry inside it: its attributes wait for it.
      if (made) this.track(frame, frame.known = made.then(() => false, (err: unknown) => { this.dirFailed(frame, err); return false; }), false);
      // Without filter rules every source entry is kept, so only a name the source lacks can go.
      // (Removed by the walk before the first entry: it may have to wait for `changing`, which
      // a filtered directory, DEST's top among them, asks only when it has something to remove.)
      frame.extra = !!(this.opts.delete && dest && (filter !== NO_FILTER || pair!.unmatched > 0)) &&
        (this.gateOpen || filter === NO_FILTER || this.deleter.extraneous(inDst, rel, scan, dest!, filter, false) > 0);
      if (pair && pair.same > 0) this.unchangedFiles(frame, pair, vouched, record);
      if (!dir && this.groupsOn && filter === NO_FILTER && inSrc === src && inDst === dst) this.planGroups(frame);
      return frame;
    } catch (err) {
      this.problem(rel, err);
      this.closeHandles(srcHandle, dstHandle);
      return null;
    }
  }

  /** What a job inside `f` needs to make `f` when it runs first: its mode and how many new directories lie above (it included). */
  private newParent(f: Frame): { mode: number; levels: number } | undefined {
    let levels = 0;
    for (let p: Frame | null = f; p?.pending != null; p = p.parent) levels++;
    return levels > 0 ? { mode: f.pending!, levels } : undefined;
  }

  /**
   * Makes `f` (and the new directories above it) here, unless made already: this thread is
   * about to write inside it. False when it cannot be (the directory's problem, reported once).
   */
  private ready(f: Frame): boolean {
    if (f.failed) return false;
    if (f.pending === null) return true;
    if (f.parent && !this.ready(f.parent)) return false;
    try {
      mkdirSync(f.self, f.pending);
    } catch (err) {
      // (Made by a job that ran first: kept, as its own job will keep it.)
      if (errnoOf(err) !== 'EEXIST' || !lstatSync(f.self).isDirectory()) {
        this.dirFailed(f, fsError(err, 'create directory', f.self, 'mkdir'));
        return false;
      }
    }
    f.pending = null;
    return true;
  }

  /** New directory `f` could not be made: named once (unless a directory above it was), nothing inside it reported. */
  private dirFailed(f: Frame, err: unknown): void {
    if (!this.inFailed(f)) this.problem(f.rel, err, false);
    f.failed = true;
  }

  /** Whether `f` or a directory above it could not be made (reported there). */
  private inFailed(f: Frame | null): boolean {
    for (; f; f = f.parent) if (f.failed) return true;
    return false;
  }

  /**
   * What the two listings are paired under: unchanged files are flagged (and then skipped by
   * the walk) only where FileCopier.packed would leave them alone, and only without filter
   * rules (each entry must then be asked whether it is transferred).
   */
  private pairRules(filter: DirFilter): PairRules {
    const o = this.opts;
    return {
      same: !o.checksum && !o.dryRun && filter === NO_FILTER, perms: this.keep.perms, owner: this.keep.owner, noXattrs: o.archive,
      xattrsUnknown: this.xattrsLater, oneLink: o.hardLinks,
    };
  }

  /**
   * The files `pair` found unchanged in `f`, counted at once (reported as the walk passes
   * them), and signed (--generate-sigs) unless the directory's record vouches for them
   * (`vouched`); `record`: their sources are known to have no xattrs, so that record may be
   * written.
   */
  private unchangedFiles(f: Frame, pair: ScanPair, vouched: boolean, record: boolean): void {
    this.files.unchangedInBulk(pair.same, pair.sameBytes);
    if (!this.signer || vouched) return;
    const dest = f.dest!, match = pair.match;
    let i = -1, k = -1;
    // The k-th unchanged file's path (asked in order, for those signed anew).
    this.signer.signDir(f.before!.dev, f.before!.ino, pair.ids, (want) => {
      while (k < want) if (match[++i] <= -2) k++;
      return joinPath(f.dst, dest.name(destOf(match[i])));
    }, record);
  }

  /**
   * New directory `f`'s entries in groups (dir-group.ts): its subdirectories (made) and the
   * regular files a batch takes (no xattrs, not hard-linked, on the directory's device), cut
   * into groups of at most a batch each. Its own attributes go last in its group when that is
   * its only one and nothing is left for this thread to write in it (symlinks, specials, other
   * files), it is not the top of the copy, has no xattrs, and setting its mode first cannot
   * lock this process out of it (as root, or owner rwx).
   */
  private planGroups(f: Frame): void {
    const scan = f.scan!;
    const { dirs, groups, rest, grouped, files, bytes } = splitDir(scan, f.dst.length, f.meta.dev, this.opts.hardLinks);
    this.files.grouped(files, bytes);
    const m = f.meta;
    const meta = groups.length === 1 && rest === 0 && f.parent !== null && f.self !== this.plan.root && !(m.xattrs && m.xattrs.length > 0) &&
      (this.keep.owner || (m.mode & 0o700) === 0o700) ? m : null;
    if (dirs.length === 0 && groups[0].files.length === 0 && !meta) return;
    const ensure = this.newParent(f);
    f.groups = groups.map((g, k) => new DirGroup(this.writer, scan, f.dst, f.dev, m.dev, k === 0 ? dirs : [], g, meta, ensure, this, f));
    f.grouped = grouped;
    f.metaInGroup = meta !== null;
    if (dirs.length > 0) f.dirsMade = f.groups[0].done;
  }

  /** Whether each file a group writes is reported (dir-group.ts). */
  get each(): boolean { return this.opts.onAction !== undefined; }

  /** File i of `f`'s group written (dir-group.ts). */
  written(f: Frame, i: number, strategy: WriteStrategy, bytes: number): void {
    const scan = f.scan!;
    this.files.groupWritten(f.rel, () => scan.name(i), scan.rawSize(i), strategy, bytes);
  }

  /** Every file of a group of `f` written (dir-group.ts). */
  wroteAll(_f: Frame, files: number, sizes: number, bytes: number, reflinks: number, ranges: number, readWrites: number): void {
    this.files.groupWrittenAll(files, sizes, bytes, reflinks, ranges, readWrites);
  }

  /**
   * Entry i of `f`'s group (-1: `f`'s own attributes) failed: reported once `f` is known to be
   * made (groupReport); a subdirectory's problem is its own (madeInGroup).
   */
  failed(f: Frame, i: number, err: unknown): void {
    if (i >= 0 && f.grouped![i] === 2) (f.dirErrors ??= new Map()).set(i, err);
    else (f.groupFailures ??= []).push([i, err]);
  }

  /** What `f`'s groups could not write, named (unless `f` or a directory above it could not be made: named there). */
  private groupReport(f: Frame): void {
    const failures = f.groupFailures, scan = f.scan!;
    if (!failures) return;
    f.groupFailures = null;
    for (const [i, err] of failures) {
      if (i >= 0) this.files.groupFailed(scan.rawSize(i));
      if (!this.inFailed(f)) this.problem(i < 0 ? f.rel : shownPath(f.rel, scan.name(i)), err);
    }
  }

  /**
   * Queues `f`'s groups, a place each (as an entry: the walk runs ahead of the copies by at
   * most ENTRIES_AT_ONCE); a promise only when it has to wait for one.
   */
  private queueGroups(f: Frame): Promise<void> | void {
    const groups = f.groups!;
    this.out.assertInside(f.dst);
    while (f.groups) {
      if (!this.slots.tryAcquire()) return this.slots.acquire().then(() => this.queueGroup(f, groups));
      this.queueGroup(f, groups);
    }
  }

  /** Queues the next of `f`'s `groups` (a place taken for it). */
  private queueGroup(f: Frame, groups: DirGroup[]): void {
    const g = groups[f.groupsQueued++];
    if (f.groupsQueued === groups.length) f.groups = null;
    // (Its files count as changing the directory: they are new.)
    this.track(f, g.done.then(() => f.known).then(() => { this.groupReport(f); return true; }), true);
    this.writer.add(g);
  }

  /** Settles once subdirectory `index` of `parent` was made by its group; rejects with why it could not be. */
  private madeInGroup(parent: Frame, index: number): Promise<void> {
    // (After the parent's own fate: a parent that could not be made is the one problem named.)
    return parent.known.then(() => parent.dirsMade).then(() => {
      const err = parent.dirErrors?.get(index);
      if (err !== undefined) throw err;
    });
  }

  private closeHandles(src: DirHandle | null, dst: DirHandle | null): void {
    src?.close();
    if (dst) this.out.leaveHandle(dst);
  }

  /**
   * opts.beforeChange, run once before the first change to DEST: null when it has passed
   * already, else its promise (rejected: the copy ends with its error, `fatal`).
   */
  private changing(): Promise<void> | null {
    if (this.gateOpen) return null;
    return this.gate ??= this.opts.beforeChange!().then(() => { this.gateOpen = true; }, (err: unknown) => {
      this.fatal ??= err;
      throw err;
    });
  }

  /** Waits for `changing`; false when it failed (the copy ends). */
  private async passed(): Promise<boolean> {
    try {
      await this.changing();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Whether entry i of `f` changes DEST before its copy can wait for `changing` (directories
   * are made, and replaced, synchronously): a directory where DEST has none, or a
   * non-directory where DEST has a directory. Files, links and the rest wait themselves
   * (FileCopier), so an unchanged tree never calls it.
   */
  private changesAtOnce(f: Frame, i: number): boolean {
    const j = f.pair ? destOf(f.pair.match[i]) : -1;
    const destDir = j >= 0 && f.dest!.type(j) === 'dir';
    return f.scan!.type(i) === 'dir' ? !destDir : destDir;
  }

  /** Depth first through `root`'s tree, starting each entry's copy as it goes. */
  private async walk(root: Frame): Promise<void> {
    const stack: Frame[] = [root];
    while (stack.length > 0) {
      const f = stack[stack.length - 1];
      const pause = abortPoint(this.opts.signal);
      if (pause) await pause;
      if (this.fatal) return;
      if (f.extra) {
        // --delete's pass, before any entry of the directory is copied.
        f.extra = false;
        if (!(await this.passed())) return;
        try {
          if (this.deleter.extraneous(f.dst, f.rel, f.scan!, f.dest!, f.filter) > 0) f.touched = true;
        } catch (err) {
          this.problem(f.rel, err);
        }
      }
      if (f.groups) {
        const wait = this.queueGroups(f);
        if (wait) { await wait; continue; }
      }
      // Files written by its groups: passed over.
      const grouped = f.grouped;
      if (grouped) while (f.i < f.scan!.count && grouped[f.i] === 1) f.i++;
      // Files found unchanged (counted already): passed over, reported if asked.
      const match = f.pair?.match;
      if (match) for (; f.i < f.scan!.count && match[f.i] <= -2; f.i++) if (this.opts.onAction) this.files.reportUnchanged(f.rel, f.scan!.name(f.i));
      if (f.i === f.scan!.count) {
        stack.pop();
        const done = this.leaveDir(f);
        if (stack.length > 0) this.track(stack[stack.length - 1], done.then(() => false), false);
        else await done;
        continue;
      }
      if (!this.gateOpen && this.changesAtOnce(f, f.i) && !(await this.passed())) return;
      // A place for the entry first: the walk runs ahead of the copies by at most ENTRIES_AT_ONCE.
      if (!this.slots.tryAcquire()) await this.slots.acquire();
      const paced = this.opts.throttle?.pace();
      if (paced) await paced;
      const next = this.nextEntry(f, f.i++);
      if (next instanceof Promise) this.track(f, next, true);
      else {
        this.slots.release();
        if (next) stack.push(next);
      }
    }
  }

  /** Counts `entry` (true when it changed the directory) as outstanding in `f` until it settles; it never rejects. */
  private track(f: Frame, entry: Promise<boolean>, slot: boolean): void {
    f.outstanding++;
    void entry.then((touched) => {
      if (slot) this.slots.release();
      if (touched) f.touched = true;
      if (--f.outstanding === 0 && f.done) f.done();
    });
  }

  /**
   * Entry i of directory frame f: a subdirectory's frame to descend into, the copy started (a
   * promise, true when it changed the directory; it never rejects), or null (nothing to do).
   */
  private nextEntry(f: Frame, i: number): Frame | Promise<boolean> | null {
    const scan = f.scan!, type = scan.type(i);
    // (Most entries of an unchanged tree end in `packed` below: nothing is allocated for them.)
    if (f.filter !== NO_FILTER && !f.filter.transfer(scan.name(i), type === 'dir')) return null;
    const j = f.pair ? destOf(f.pair.match[i]) : -1;
    if (type === 'file') {
      const packed = this.files.packed(scan, i, f.dest, j, f.dst, f.rel, f.dev, this.newParent(f));
      if (packed === false) return null;
      if (packed) return packed.catch((err: unknown) => { if (!this.inFailed(f)) this.problem(shownPath(f.rel, scan.name(i)), err); return false; });
    }
    const got = scan.entry(i, { xattrs: this.opts.archive && scan.xattrBytes(i) !== 0, onWarn: this.opts.onWarn });
    // (The entry's name and path as it made them: a subarray and a join less per directory.)
    const name = got.name, path = got.path, dst = joinPath(f.dst, name), rel = shownPath(f.rel, name);
    if (got.error) {
      this.problem(rel, got.error);
      return null;
    }
    const meta = got.meta;
    let before: FileMeta | null = null;
    if (j >= 0) {
      const d = f.dest!.entry(j, { xattrs: this.opts.archive && meta.xattrs !== undefined && meta.xattrs.length > 0 });
      if (d.error) {
        this.problem(rel, d.error);
        return null;
      }
      before = d.meta;
    }
    if (before?.type === 'dir' && meta.type !== 'dir') {
      // A directory where the source has a non-directory: removed first (when empty, or under --delete).
      try {
        if (!this.opts.dryRun) this.deleter.clearDir(dst, rel, f.filter.enter(name, null));
      } catch (err) {
        this.problem(rel, fsError(err, 'replace the directory', dst), false);
        return null;
      }
      f.touched = true;
      before = null;
    }
    if (meta.type === 'dir') {
      if (before?.type !== 'dir') f.touched = true;
      return this.openDir(meta, path, dst, rel, before, f.filter.enter(name, readMergeFile(path)), f, i);
    }
    return this.entry(meta, path, dst, rel, before, f.dev, f);
  }

  /** Copies a non-directory entry; resolves when it is done, true when it changed its directory (an entry written, made or replaced). */
  private async entry(meta: FileMeta, src: Buffer, dst: Buffer, rel: string, before: FileMeta | null, dev: bigint, f?: Frame): Promise<boolean> {
    try {
      if (f && !this.opts.dryRun && !this.ready(f)) return false;
      return await this.files.entry(meta, src, dst, rel, before, dev);
    } catch (err) {
      if (!this.inFailed(f ?? null)) this.problem(rel, err);
      return false;
    }
  }

  /** A directory's walk is over: its attributes once everything inside it is done. */
  private async leaveDir(f: Frame): Promise<void> {
    if (f.outstanding > 0) await new Promise<void>((resolve) => { f.done = resolve; });
    try {
      if (this.opts.dryRun || f.failed || f.metaInGroup) return;
      if (this.opts.archive) {
        if (!f.before || f.changed || f.touched) {
          await this.changing();
          // In a batch, off this thread, unless it is DEST itself or has xattrs.
          const batched = f.self !== this.plan.root && this.writer.dirMeta(f.self, f.meta);
          await (batched || this.out.applyMeta(f.self, f.meta));
        }
      } else if (!f.before) {
        this.files.newEntryMode(f.self, f.meta);
      }
    } catch (err) {
      this.problem(f.rel, err);
    } finally {
      this.closeHandles(f.srcHandle, f.dstHandle);
    }
  }

  private report(kind: 'create' | 'attrs', type: FileMeta['type'], path: string, item: () => string): void {
    if (kind === 'create') this.result.created++;
    else this.result.attrsOnly++;
    this.opts.onAction?.({ kind, type, path, itemize: item() });
  }

  /** Waits until every slot is free (every copy started has ended). */
  private async idle(): Promise<void> {
    for (let i = 0; i < ENTRIES_AT_ONCE; i++) await this.slots.acquire();
    for (let i = 0; i < ENTRIES_AT_ONCE; i++) this.slots.release();
  }
}

