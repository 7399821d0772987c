/**
 * The daemon's event source without privileges: one inotify instance, one watch per directory
 * of the source tree, its events turned into changes of paths (fs-change.ts).
 *
 * - A new directory is watched before it is listed, and each of its subdirectories likewise,
 *   so that nothing created in it meanwhile is missed: what was there before the watch is in
 *   the listing (and the change of the new directory makes the mirror copy all of it), what
 *   comes after is an event.
 * - A rename within the tree is one `moved` change: IN_MOVED_FROM and IN_MOVED_TO are paired by
 *   their cookie. The kernel queues the two together; when a read ends between them, the
 *   pairing waits for the next read, at most PAIR_WAIT_MS, before the half is taken for a move
 *   out of (removed) or into (changed) the tree. A moved directory's watches stay with it: the
 *   paths they stand for are renamed in the table.
 * - IN_Q_OVERFLOW (the kernel's queue was full: events were dropped) and a watch the kernel
 *   refuses (ENOSPC: fs.inotify.max_user_watches) become `rescan` changes: the pipeline makes
 *   the mirror exact by a full comparison, and logs it. Nothing is dropped silently.
 * - `skip(path)` names directories never watched (the target or the store when they lie under
 *   the source): the daemon must not see its own writes.
 *
 * Limits: inotify sees changes made through this kernel only (not by another NFS client), and
 * does not follow mounts below the tree (a watch is per directory, on whatever fs it is).
 */
import { closeSync, type Dirent, readdirSync } from 'node:fs';
import { fsError } from '../fs/fs-error.js';
import { joinPath } from '../fs/fs-path.js';
import { native } from '../native/load.js';
import type { ChangeSource, SourceHooks } from './fs-change.js';
import { decodeInotify, IN, type InotifyEvent, WATCH_MASK } from './inotify-events.js';

/** How long the first half of a split rename waits for its second half. */
export const PAIR_WAIT_MS = 20;
/** One read's buffer: the kernel hands out whole records up to this much at a time. */
const READ_BYTES = 256 * 1024;

export class InotifySource implements ChangeSource {
  private readonly fd: number;
  private readonly poll: { stop(): void };
  private readonly buf = Buffer.alloc(READ_BYTES);
  /** Watch descriptor -> the directory's path now. */
  private readonly paths = new Map<number, Buffer>();
  private pendingFrom: { event: InotifyEvent; path: Buffer; timer: NodeJS.Timeout } | null = null;
  private closed = false;

  constructor(private readonly hooks: SourceHooks) {
    if (!native) throw new Error('inotify needs the native addon (fxcp doctor says why it is not loaded)');
    this.fd = native.inotifyInit();
    this.poll = new native.FdPoll(this.fd, () => this.drain());
  }

  get watches(): number { return this.paths.size; }

  /**
   * Watches `dir` and every directory below it (watch first, then list). Returns false when
   * the kernel refused a watch for its limit (a `rescan` change says so too).
   */
  watchTree(dir: Buffer): boolean {
    if (this.hooks.skip(dir)) return true;
    let wd: number;
    try {
      wd = native!.inotifyAddWatch(this.fd, dir, WATCH_MASK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC') {
        this.hooks.onChange({ kind: 'rescan', path: dir, why: `${fsError(err, 'watch', dir, 'inotify_add_watch').message} (raise fs.inotify.max_user_watches)`, refused: true });
        return false;
      }
      return true;  // gone, not a directory, or unreadable: its parent's events cover it
    }
    this.paths.set(wd, dir);
    let names: Dirent<Buffer>[];
    try {
      names = readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
    } catch {
      return true;
    }
    let ok = true;
    for (const d of names) if (d.isDirectory()) ok = this.watchTree(joinPath(dir, d.name)) && ok;
    return ok;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pendingFrom) clearTimeout(this.pendingFrom.timer);
    this.poll.stop();
    closeSync(this.fd);
  }

  private drain(): void {
    try {
      for (;;) {
        if (this.closed) return;
        const n = native!.readAvailable(this.fd, this.buf);
        if (n === 0) return;
        for (const e of decodeInotify(this.buf.subarray(0, n))) this.event(e);
      }
    } catch (err) {
      this.hooks.onChange({ kind: 'rescan', path: null, why: `inotify: ${(err as Error).message}` });
    }
  }

  private event(e: InotifyEvent): void {
    if (e.mask & IN.Q_OVERFLOW) {
      this.flushFrom();
      this.hooks.onChange({ kind: 'rescan', path: null, why: 'the kernel\'s inotify queue overflowed (events were dropped)' });
      return;
    }
    const dir = this.paths.get(e.wd);
    if (dir === undefined) return;
    if (e.mask & IN.IGNORED) {
      this.paths.delete(e.wd);
      return;
    }
    if (e.name === null) return;  // DELETE_SELF, MOVE_SELF, ...: its parent reports the entry
    const path = joinPath(dir, e.name), isDir = (e.mask & IN.ISDIR) !== 0;
    if (this.pendingFrom && !(e.mask & IN.MOVED_TO && e.cookie === this.pendingFrom.event.cookie)) this.flushFrom();
    if (e.mask & IN.MOVED_FROM) {
      this.pendingFrom = { event: e, path, timer: setTimeout(() => this.flushFrom(), PAIR_WAIT_MS) };
      return;
    }
    if (e.mask & IN.MOVED_TO && this.pendingFrom) {
      const from = this.pendingFrom.path;
      clearTimeout(this.pendingFrom.timer);
      this.pendingFrom = null;
      if (isDir) this.renamed(from, path);
      this.hooks.onChange({ kind: 'moved', from, path, dir: isDir });
      return;
    }
    if (isDir && e.mask & (IN.CREATE | IN.MOVED_TO)) this.watchTree(path);
    if (e.mask & IN.DELETE) this.hooks.onChange({ kind: 'removed', path, dir: isDir });
    else this.hooks.onChange({ kind: 'changed', path, dir: isDir, closed: (e.mask & IN.CLOSE_WRITE) !== 0 });
  }

  /** The unpaired IN_MOVED_FROM: its entry left the tree. */
  private flushFrom(): void {
    const p = this.pendingFrom;
    if (!p) return;
    this.pendingFrom = null;
    clearTimeout(p.timer);
    const isDir = (p.event.mask & IN.ISDIR) !== 0;
    if (isDir) this.unwatch(p.path);
    this.hooks.onChange({ kind: 'removed', path: p.path, dir: isDir });
  }

  /**
   * A directory moved out of the tree (to the Trash, say) keeps its inodes and so its watches:
   * they are removed, at and below it, or they would use up the watch limit and report
   * changes under paths that are no longer in the tree.
   */
  private unwatch(dir: Buffer): void {
    const prefix = Buffer.concat([dir, Buffer.from('/')]);
    for (const [wd, p] of [...this.paths]) {
      if (!p.equals(dir) && !(p.length > prefix.length && p.subarray(0, prefix.length).equals(prefix))) continue;
      this.paths.delete(wd);
      try { native!.inotifyRmWatch(this.fd, wd); } catch { /* already gone */ }
    }
  }

  /** Directory `from` is now `to`: the watches at and below it stand for the new paths. */
  private renamed(from: Buffer, to: Buffer): void {
    const prefix = Buffer.concat([from, Buffer.from('/')]);
    for (const [wd, p] of [...this.paths]) {
      if (p.equals(from)) this.paths.set(wd, to);
      else if (p.length > prefix.length && p.subarray(0, prefix.length).equals(prefix)) this.paths.set(wd, Buffer.concat([to, p.subarray(from.length)]));
    }
  }
}
