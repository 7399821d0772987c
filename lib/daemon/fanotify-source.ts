/**
 * The daemon's event source as root: one fanotify group with a filesystem mark on the source's
 * file system, reporting each change as the directory's file handle and the entry's name
 * (FAN_REPORT_DFID_NAME), and a rename as one event with both sides (FAN_RENAME). One mark
 * instead of a watch per directory: no watch limit, nothing to add when a directory is made,
 * and no window between a directory's creation and its watch.
 *
 * A handle is turned into the directory's path now (open_by_handle_at relative to the source
 * root, then /proc/self/fd), cached by the handle's bytes. Now, not when the change was made:
 * a directory renamed in between gives the change its new path. Each change only names a path
 * for the mirror to look at again (fs-change.ts), and a rename's own event follows, so the
 * mirror still converges. A directory renamed or removed
 * anywhere clears the cache (its entries' paths changed). Changes outside the source are
 * dropped: the mark sees the whole file system, the target and the store (when they share it)
 * included, so the daemon never acts on its own writes.
 *
 * A lost event (FAN_Q_OVERFLOW), or a directory in the source whose path cannot be told (longer
 * than a page), becomes a `rescan`; one outside is told by walking up from it (handleUnder).
 *
 * A directory outside the source that changes is told to the kernel as an ignore mark (its own
 * and its entries' events, renames excepted), so that the rest of a busy file system (builds,
 * logs, other users) stops waking an idle daemon after one event per directory: without it,
 * every write anywhere on the disk was read, looked up and dropped here (30 % of a core while
 * others built on the same disk). The marks are evictable: the kernel forgets one with its
 * inode, so they pin no memory and need no bound here. A directory renamed into the source
 * flushes them all, before its entries are looked at (the mirror and the cut take a directory
 * moved in as new and list it whole): an ignore mark must never outlive its directory's being
 * outside. Never marked: the root's parent, whose ignore mask would apply to the root's own
 * events (chmod, touch) too; the ancestors above it are marked like any other directory.
 *
 * Limits: the first event of each outside directory still costs a lookup, and a busy file
 * system can fill the queue (16,384 events) and force rescans: inotify may suit a small source
 * on a busy disk better (`--events inotify`). Mounts below the source are other file systems
 * and are not seen.
 */
import { closeSync, openSync, constants as fsc } from 'node:fs';
import { dirname } from 'node:path';
import { errnoOf } from '../fs/fs-error.js';
import { joinPath, relPath } from '../fs/fs-path.js';
import { native } from '../native/load.js';
import { decodeFanotify, type DirRecord, FAN, FANOTIFY_MASK, type FanotifyEvent, INFO } from './fanotify-events.js';
import type { ChangeSource, SourceHooks } from './fs-change.js';

const READ_BYTES = 256 * 1024;
const CACHE_MAX = 65_536;
/** What an outside directory's ignore mark drops: everything the filesystem mark asks for but renames (which may bring something in). */
const IGNORE_MASK = FANOTIFY_MASK & ~FAN.RENAME | FAN.EVENT_ON_CHILD;

export class FanotifySource implements ChangeSource {
  private readonly fd: number;
  private readonly mountFd: number;
  private readonly poll: { stop(): void };
  private readonly buf = Buffer.alloc(READ_BYTES);
  private readonly paths = new Map<string, Buffer | null>();
  private closed = false;
  private readonly rootParent: Buffer;
  /** False once the kernel refused an ignore mark (before 6.0: no FAN_MARK_IGNORE): every event is then read. */
  private ignoring = true;
  /** Events read, and outside directories marked ignored since the last flush. */
  readonly stats = { events: 0, ignored: 0 };

  /**
   * Marks the source's file system at once. Throws where fanotify cannot be used (EPERM: not
   * CAP_SYS_ADMIN, which a filesystem mark needs even where fanotify_init is allowed; EINVAL: a
   * kernel without FAN_RENAME; EXDEV, ENODEV, EOPNOTSUPP: a file system that cannot be marked
   * so), having closed what it opened: change-source.ts then falls back to inotify.
   */
  constructor(private readonly root: Buffer, private readonly hooks: SourceHooks) {
    if (!native) throw new Error('fanotify needs the native addon');
    this.rootParent = Buffer.from(dirname(root.toString('latin1')), 'latin1');
    this.fd = native.fanotifyInit(FAN.REPORT_DFID_NAME);
    try {
      this.mountFd = openSync(root, fsc.O_RDONLY | fsc.O_DIRECTORY);
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
    try {
      native.fanotifyMark(this.fd, FAN.MARK_ADD | FAN.MARK_FILESYSTEM, FANOTIFY_MASK, root);
    } catch (err) {
      closeSync(this.fd);
      closeSync(this.mountFd);
      throw err;
    }
    this.poll = new native.FdPoll(this.fd, () => this.drain());
  }

  get watches(): number { return 1; }

  /** Nothing to add: the filesystem mark sees every directory, made now or later. */
  watchTree(): boolean {
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poll.stop();
    closeSync(this.fd);
    closeSync(this.mountFd);
  }

  private drain(): void {
    try {
      for (;;) {
        if (this.closed) return;
        const n = native!.readAvailable(this.fd, this.buf);
        if (n === 0) return;
        for (const e of decodeFanotify(this.buf.subarray(0, n))) { this.stats.events++; this.event(e); }
      }
    } catch (err) {
      // Bytes this reader refuses, or a lookup that failed (EMFILE): what they said is lost.
      this.hooks.onChange({ kind: 'rescan', path: null, why: `fanotify: ${(err as Error).message}` });
    }
  }

  private event(e: FanotifyEvent): void {
    if (e.mask & FAN.Q_OVERFLOW) {
      this.hooks.onChange({ kind: 'rescan', path: null, why: 'the kernel\'s fanotify queue overflowed (events were dropped)' });
      return;
    }
    const isDir = (e.mask & FAN.ONDIR) !== 0;
    if (isDir && e.mask & (FAN.RENAME | FAN.DELETE)) this.paths.clear();
    if (e.mask & FAN.RENAME) {
      const from = this.entryPath(e.records.find((r) => r.type === INFO.OLD_DFID_NAME));
      const to = this.entryPath(e.records.find((r) => r.type === INFO.NEW_DFID_NAME));
      if (from === undefined || to === undefined) return;
      if (isDir && to && this.stats.ignored > 0) this.flushIgnored();
      if (from && to) this.hooks.onChange({ kind: 'moved', from, path: to, dir: isDir });
      else if (from) this.hooks.onChange({ kind: 'removed', path: from, dir: isDir });
      else if (to) this.hooks.onChange({ kind: 'changed', path: to, dir: isDir, closed: true });
      return;
    }
    const rec = e.records.find((r) => r.type === INFO.DFID_NAME);
    // An event on a directory itself (chmod, touch, an xattr) names the directory's own handle
    // and no entry: it is a change of that directory.
    const path = rec && rec.name === null ? this.ownPath(rec) : this.entryPath(rec);
    if (!path) return;
    if (e.mask & FAN.DELETE) this.hooks.onChange({ kind: 'removed', path, dir: isDir });
    else this.hooks.onChange({ kind: 'changed', path, dir: isDir, closed: (e.mask & FAN.CLOSE_WRITE) !== 0 || (isDir && (e.mask & FAN.CREATE) !== 0) });
  }

  /**
   * The path a record names, when it lies in the source (null: outside it, or its directory is
   * gone; undefined: it could not be told, and a rescan was asked for).
   */
  private entryPath(rec: DirRecord | undefined): Buffer | null | undefined {
    if (!rec || rec.name === null) return null;
    const dir = this.dirPath(rec.handle);
    if (dir === undefined) return this.unnamed(rec.handle);
    if (dir === null) return null;
    if (relPath(this.root, dir) === null) { this.ignore(dir, rec.handle); return null; }
    const path = joinPath(dir, rec.name);
    return this.hooks.skip(path) ? null : path;
  }

  /** The directory a record's handle names, when it lies in the source (a change of itself). */
  private ownPath(rec: DirRecord): Buffer | null | undefined {
    const dir = this.dirPath(rec.handle);
    if (dir === undefined) return this.unnamed(rec.handle);
    if (dir === null) return null;
    if (relPath(this.root, dir) === null) { this.ignore(dir, rec.handle); return null; }
    return this.hooks.skip(dir) ? null : dir;
  }

  /**
   * A directory whose path is too long to be told (over a page): dropped, and ignored, when a
   * walk up from it by ".." does not meet the root (another user's deep tree: it made every cut
   * list the whole source); a rescan when it is in the source (or gone: null, dropped).
   */
  private unnamed(handle: Buffer): null | undefined {
    const under = native!.handleUnder(this.mountFd, handle);
    if (under === null) return null;
    // Not the root's parent: that one's path is shorter than the root's, which was told.
    if (!under) { this.markIgnored(handle); return null; }
    this.hooks.onChange({ kind: 'rescan', path: null, why: 'a changed directory\'s path is too long to be told from its handle' });
    return undefined;
  }

  /** Asks the kernel to drop the events of `dir`, outside the source, and of its entries. */
  private ignore(dir: Buffer, handle: Buffer): void {
    if (!dir.equals(this.rootParent)) this.markIgnored(handle);
  }

  private markIgnored(handle: Buffer): void {
    if (!this.ignoring) return;
    try {
      if (native!.fanotifyMarkHandle(this.fd, FAN.MARK_ADD | FAN.MARK_IGNORE_SURV | FAN.MARK_EVICTABLE, IGNORE_MASK, this.mountFd, handle)) this.stats.ignored++;
    } catch (err) {
      // EINVAL: a kernel without ignore or evictable marks. Anything else (EMFILE) costs this
      // directory its mark only.
      if (errnoOf(err) === 'EINVAL') this.ignoring = false;
    }
  }

  /** Removes every ignore mark (the filesystem mark stays): a directory may have come in from outside. */
  private flushIgnored(): void {
    native!.fanotifyMark(this.fd, FAN.MARK_FLUSH, 0, this.root);
    this.stats.ignored = 0;
  }

  private dirPath(handle: Buffer): Buffer | null | undefined {
    const key = handle.toString('latin1');
    const known = this.paths.get(key);
    if (known !== undefined) return known;
    const path = native!.pathOfHandle(this.mountFd, handle);
    if (path === undefined) return undefined;
    if (this.paths.size >= CACHE_MAX) this.paths.clear();
    this.paths.set(key, path);
    return path;
  }
}
