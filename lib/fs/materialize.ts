/**
 * Writing entries to disk under a destination directory, with the restore's safety rules; the
 * restorer (lib/snapshot/restorer.ts) uses it with chunks as content, the copy engine will with a
 * file range, a reflink or copy_file_range. It knows nothing of trees, chunks or stores: a file's
 * data comes from a `ContentSource`.
 *
 * Safety:
 * - Nothing outside the destination: every path must lie strictly inside it, with no empty, '.'
 *   or '..' component (a path that does not is refused with an FsError, code FS, before any system
 *   call). Directories are made with `makeDir`, which replaces an existing symlink by a real
 *   directory, never follows it; so a walk that makes each directory before its children never
 *   writes through a link. (Limit: a directory this process did not make, or one another process
 *   swaps for a symlink while the walk runs, is trusted.)
 * - No torn file under a real name: data goes into a temporary of its own in the same directory
 *   (lib/fs/temp-name.ts), which is truncated to size, closed and renamed onto the real name only
 *   when complete; on any failure it is removed and the real name is left as it was.
 *   A new directory may instead be made under a temporary name (`makeTempDir`), its whole
 *   subtree written at final names inside it (`fresh`: the file is made at its name, removed
 *   again on failure) and the directory renamed into place once complete (`publishDir`). A
 *   kill -9 then leaves only a temporary directory, which the next run's removeStaleTemps takes
 *   away. Per file that saves a rename (a directory change, as costly as the create on ext4),
 *   and the chown of a file that this user made for this user.
 * - Hard-link groups: the first member of a group (same dev:ino, nlink > 1) is written; the
 *   others wait for it and are linked to it (under a temporary, then renamed), or written
 *   themselves when it failed.
 * - Order: the caller applies metadata (`applyMeta`) after content, and a directory's after its
 *   children (its times would change again otherwise); this module does not hold metadata back.
 *
 * Holes: a source writes each extent at its offset and never writes the holes; the file is then
 * truncated to its size, so holes stay holes.
 */
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, promises as fsp, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { applyMeta, applyMetaFd, type ApplyOptions } from './apply-meta.js';
import { native } from '../native/load.js';
import type { FileMeta } from './file-meta.js';
import { errnoOf, FsError } from './fs-error.js';
import { displayPath, splitPath } from './fs-path.js';
import { makeSpecial } from './make-special.js';
import { makeTempDir, TempEntry, tempDirDone } from './temp-name.js';
import { DirHandle, handleFd } from './dir-handle.js';

/** The metadata of an entry to write (what a tree entry or a directory listing holds). */
export type EntryMeta = Omit<FileMeta, 'blocks'>;

/** Where a regular file's data comes from. */
export interface ContentSource<M extends EntryMeta = EntryMeta> {
  /**
   * Writes the data of `meta`'s file into its new, empty temporary file, open for writing as
   * `fd` (or opened again by `path`, as restore's workers do), each extent at its offset, holes
   * unwritten; resolves once every write is done, rejects once none is still running. It may
   * resolve with the file's length after its writes, when it knows it: the file is then not
   * stat'ed to decide whether it needs a truncate (one system call per file saved).
   */
  fill(fd: number, path: Buffer, meta: M): Promise<void | number>;
}

/** How `file` writes. */
export interface FileHow {
  /**
   * `path`'s directory is one the caller made under a temporary name (makeTempDir) or inside
   * one: nothing else can be at `path`, so the file is made there directly (and its chown is
   * skipped when meta names this user and group: see ownedHere).
   */
  fresh?: boolean;
  /** Apply meta on the open file before it is closed (applyMetaFd): the caller does not call applyMeta. */
  meta?: boolean;
}

export interface MaterializeOptions {
  /** The destination directory (absolute); every path written must lie inside it. */
  root: Buffer;
  /** Restore owners (uid, gid): only root can. */
  owner: boolean;
  onWarn: ApplyOptions['onWarn'];
}

const SLASH = 0x2f;
const DOT = 0x2e;

export class Materializer {
  /** Per hard-link group, the path its data was written to (null if that failed), once it is there. */
  private readonly hardlinks = new Map<string, Promise<Buffer | null>>();
  private readonly root: Buffer;
  /** Handles on directories inside the destination (dir-handle.ts), by descriptor: paths below them are inside too. */
  private readonly handles = new Map<number, DirHandle>();
  private readonly pinned = new Set<number>();
  /** Published temporary directories (publishDir), by their temporary path: where hard links to files in them now are. */
  private readonly moved = new Map<string, Buffer>();

  constructor(private readonly opts: MaterializeOptions) {
    // '/' as destination: paths inside it are '/name', without a second slash.
    this.root = opts.root.length > 1 && opts.root[opts.root.length - 1] === SLASH ? opts.root.subarray(0, -1) : opts.root;
  }

  /**
   * mkdir that never follows an existing symlink (it is replaced by a real directory). Returns
   * true when it created the directory: mode 0700 until its metadata is applied, or `mode`
   * (less the umask) when the caller knows those bits are no wider than the final ones for the
   * owner it gets (see dirCreateMode): its metadata then finds nothing to change.
   */
  makeDir(path: Buffer, mode = 0o700): boolean {
    this.assertInside(path);
    try {
      mkdirSync(path, mode);
      return true;
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
    if (lstatSync(path).isDirectory()) return false;
    unlinkSync(path);
    mkdirSync(path, mode);
    return true;
  }

  /**
   * Writes a regular file at `path` (replacing a file there) from `content`. Returns 'linked'
   * when it was made a hard link to an earlier member of its group, 'written' otherwise.
   */
  async file<M extends EntryMeta>(path: Buffer, meta: M, content: ContentSource<M>, beforeCommit?: (temp: Buffer) => Promise<void> | void,
    how: FileHow = {}): Promise<'linked' | 'written'> {
    this.assertInside(path);
    const [dir] = splitPath(path);
    const linkKey = meta.nlink > 1 ? `${meta.dev}:${meta.ino}` : null;
    // A later member of a hard-link group links to the first one's file once it is in place
    // (entries are written side by side); if that one failed, this one writes the data itself.
    // The first member registers before its first await, so members started together find it.
    const known = linkKey ? this.hardlinks.get(linkKey) : undefined;
    const first = known ? await known : null;
    if (first) {
      await this.hardlink(path, first, how.fresh);
      return 'linked';
    }
    let placed: (at: Buffer | null) => void = () => {};
    if (linkKey) this.hardlinks.set(linkKey, new Promise((resolve) => { placed = resolve; }));
    try {
      if (how.fresh) {
        const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
        try {
          await this.fill(fd, path, meta, content, how);
        } catch (err) {
          // At its real name inside the temporary directory, which becomes real: never torn there.
          try { unlinkSync(path); } catch { /* the first error is the one to report */ }
          throw err;
        }
      } else {
        const { temp, value: fd } = await TempEntry.create(dir, (tmp) => openSync(tmp, 'wx', 0o600));
        try {
          await this.fill(fd, temp.path, meta, content, how);
          // The copy engine's metadata: applied to the temporary, so the name appears with it.
          await beforeCommit?.(temp.path);
        } catch (err) {
          temp.discard();
          throw err;
        }
        // Removes the temporary when the rename fails (a directory in the way, say).
        temp.commit(path);
      }
    } catch (err) {
      placed(null);
      throw err;
    }
    placed(path);
    return 'written';
  }

  /** Fills new file `fd` (at `at`), sizes it, applies meta when asked, and closes it (also on failure). */
  private async fill<M extends EntryMeta>(fd: number, at: Buffer, meta: M, content: ContentSource<M>, how: FileHow): Promise<void> {
    let open = true;
    try {
      const length = await content.fill(fd, at, meta);
      // Only when the fill left it short (a hole at the end) or long: on XFS a truncate to the
      // size a file already has still costs ~1.4 ms (measured on a reflinked copy), an fstat µs.
      if ((typeof length === 'number' ? length : fstatSync(fd).size) !== meta.size) ftruncateSync(fd, meta.size);
      if (how.meta) applyMetaFd(fd, at, { ...meta, blocks: 0 }, this.applyOptions(how.fresh === true, meta));
      open = false;
      closeSync(fd);
    } finally {
      if (open) try { closeSync(fd); } catch { /* the first error is the one to report */ }
    }
  }

  /**
   * Writes a regular file's data straight into the file at `path` (`--inplace`): the same inode
   * (its other hard links see the new data), emptied first so that `content` writes into an
   * empty file as always, then truncated to size. A reader may see it half-written, and a kill
   * leaves it so: what --inplace means. A symlink at `path` is replaced, never written through.
   */
  async fileInPlace<M extends EntryMeta>(path: Buffer, meta: M, content: ContentSource<M>): Promise<void> {
    this.assertInside(path);
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    } catch (err) {
      if (errnoOf(err) !== 'ELOOP') throw err;
      unlinkSync(path);
      fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    }
    try {
      ftruncateSync(fd, 0);
      await content.fill(fd, path, meta);
      ftruncateSync(fd, meta.size);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * `path` made a hard link to the existing file `to` (replacing a non-directory at `path`):
   * linked under a temporary name and renamed, since link(2) cannot replace an existing name;
   * `fresh` (FileHow): linked at its name.
   */
  async hardlink(path: Buffer, to: Buffer, fresh = false): Promise<void> {
    this.assertInside(path);
    // `to` may lie in a directory published (publishDir) before, or while, the link is made
    // on the thread pool: linked again from where it is now.
    for (let from = this.movedPath(to); ; ) {
      try {
        if (fresh) return await fsp.link(from, path);
        return (await TempEntry.create(splitPath(path)[0], (tmp) => fsp.link(from, tmp))).temp.commit(path);
      } catch (err) {
        const now = this.movedPath(to);
        if (errnoOf(err) !== 'ENOENT' || now.equals(from)) throw err;
        from = now;
      }
    }
  }

  /**
   * A symlink at `path` pointing at `target` (replacing a non-directory, or an empty directory,
   * there). Made first and cleared only on EEXIST: in a restore into an empty target nothing is
   * in the way, and the lstat of `clear` was a system call per link for nothing. Synchronous,
   * as applyMeta's calls are (a thread-pool round trip costs more than the call).
   */
  async symlink(path: Buffer, target: Buffer): Promise<void> {
    this.assertInside(path);
    try {
      symlinkSync(target, path);
      return;
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
    await this.clear(path);
    symlinkSync(target, path);
  }

  /** A FIFO or device node at `path` (replacing what is there). */
  async special(path: Buffer, meta: Pick<FileMeta, 'type' | 'mode' | 'rdev'>): Promise<void> {
    this.assertInside(path);
    await this.clear(path);
    await makeSpecial(path, meta);
  }

  /**
   * Mode, owner, xattrs and times of the entry at `path` (the destination itself included);
   * `fresh`: it was made inside a directory made by makeTempDir (see FileHow.fresh).
   */
  applyMeta(path: Buffer, meta: EntryMeta, fresh = false): Promise<void> {
    if (path !== this.opts.root) this.assertInside(path);
    return applyMeta(path, { ...meta, blocks: 0 }, this.applyOptions(fresh, meta));
  }

  private applyOptions(fresh: boolean, meta: EntryMeta): ApplyOptions {
    return { owner: this.opts.owner, xattrs: true, onWarn: this.opts.onWarn, hasOwner: fresh && ownedHere(meta) };
  }

  /**
   * A new directory for `path` under a temporary name beside it (mode 0700), or null when
   * something is at `path` already (the caller then uses makeDir). What is written inside goes
   * at final names (FileHow.fresh) and `publishDir` renames it into place. A kill -9 leaves it
   * under its temporary name for the next run's removeStaleTemps; it is not removed at exit
   * (the caller publishes what an interrupted run finished).
   */
  makeTempDir(path: Buffer): Buffer | null {
    this.assertInside(path);
    try {
      lstatSync(path);
      return null;
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
    }
    return makeTempDir(splitPath(path)[0]);
  }

  /**
   * Renames temporary directory `temp` (makeTempDir) onto `path`, never replacing what
   * another process put there meanwhile (the directory then stays under its temporary name,
   * and the error names both). Later hard links to files written inside follow it.
   * Limit: without renameat2's RENAME_NOREPLACE (no addon, or a file system without it) a check
   * comes first, and an empty directory made at `path` between the two would be replaced.
   */
  publishDir(temp: Buffer, path: Buffer): void {
    try {
      let done = false;
      if (native) {
        try {
          native.renameNoReplace(temp, path);
          done = true;
        } catch (err) {
          if (errnoOf(err) !== 'EINVAL') throw err;
        }
      }
      if (!done) {
        if (lstatSync(path, { throwIfNoEntry: false }) !== undefined) throw Object.assign(new Error('something is in the way'), { code: 'EEXIST' });
        renameSync(temp, path);
      }
      tempDirDone(temp);
    } catch (err) {
      throw new FsError(`cannot move ${displayPath(temp)} into place as ${displayPath(path)}: ${(err as Error).message}`,
        { path: displayPath(path), errno: errnoOf(err) }, { cause: err });
    }
    if (this.hardlinks.size > 0) this.moved.set(temp.toString('latin1'), path);
  }

  /** `path` where it is now: under the final name of a directory published since it was written. */
  private movedPath(path: Buffer): Buffer {
    if (this.moved.size === 0) return path;
    for (let k = path.length - 1; k > 0; k--) {
      if (path[k] !== SLASH) continue;
      const to = this.moved.get(path.toString('latin1', 0, k));
      if (to) return Buffer.concat([to, path.subarray(k)]);
    }
    return path;
  }

  /**
   * A handle on directory `path` (inside the destination), for writing below it by short paths
   * (`handle.path` + '/' + names) when its own path is long; `leave` closes it.
   */
  enterHandle(path: Buffer): DirHandle {
    this.assertInside(path);
    const h = DirHandle.open(path);
    this.handles.set(h.fd, h);
    return h;
  }

  leaveHandle(h: DirHandle): void {
    if (this.pinned.has(h.fd)) return;
    this.handles.delete(h.fd);
    h.close();
  }

  /**
   * Keeps the handle `path` lies under (if any) open for this writer's life, so that `path`
   * stays valid after its directory is left (the first file of a hard-link group, linked to
   * later). Limit: one descriptor per such directory.
   */
  pin(path: Buffer): void {
    const fd = handleFd(path);
    if (this.handles.has(fd)) this.pinned.add(fd);
  }

  /** Removes a non-directory (or an empty directory) at path so a new entry can take its place. */
  private async clear(path: Buffer): Promise<void> {
    const st = await fsp.lstat(path).catch(() => null);
    if (!st) return;
    if (st.isDirectory()) await fsp.rmdir(path);
    else await fsp.unlink(path);
  }

  /**
   * Throws unless `path` is root + '/' + components that are neither empty, '.' nor '..' (or
   * the same below the path of a handle from enterHandle).
   */
  assertInside(path: Buffer): void {
    const handle = this.handles.size > 0 ? this.handles.get(handleFd(path)) : undefined;
    const root = handle?.path ?? this.root;
    let ok = path.length > root.length + 1 && path.compare(root, 0, root.length, 0, root.length) === 0 &&
      (root.length === 1 && root[0] === SLASH ? true : path[root.length] === SLASH);
    // Each component below the root: not empty, '.' or '..'. A loop over the bytes: Buffer's
    // indexOf is a call into C++ per component, ~1 us (28 ms of a cold copy of the bench's mixed
    // set, whose 4,556 new directories are each checked once).
    for (let s = root.length === 1 && root[0] === SLASH ? 1 : root.length + 1, k = s; ok && k <= path.length; k++) {
      if (k < path.length && path[k] !== SLASH) continue;
      const n = k - s;
      if (n === 0 || (n === 1 && path[s] === DOT) || (n === 2 && path[s] === DOT && path[s + 1] === DOT)) ok = false;
      s = k + 1;
    }
    if (!ok) throw new FsError(`${displayPath(path)}: refused: not inside the destination ${displayPath(this.opts.root)}`, { path: displayPath(path) });
  }
}

/**
 * The mode to make a copy of directory `meta` with: its own permission bits (and u+rwx, to fill
 * it) when it will belong to this process's user and group anyway, so that no one else ever
 * sees it under bits meant for another owner; 0700 otherwise (as cp -a). With its final bits
 * from the start, its attributes pass skips the chmod (a transaction each: 4,556 on the
 * benchmark's mixed set).
 */
export function dirCreateMode(meta: { uid: number; gid: number; mode: number }): number {
  return ownedHere(meta) ? (meta.mode & 0o777) | 0o700 : 0o700;
}

/**
 * Whether `meta` names this process's user and group: what a new entry gets, made in a
 * directory without setgid (as makeTempDir's and those made inside it are until their
 * metadata is applied, after their entries).
 */
export function ownedHere(meta: { uid: number; gid: number }): boolean {
  // (Asked once: each of process.geteuid and getegid is a system call.)
  euid ??= process.geteuid?.() ?? -1;
  egid ??= process.getegid?.() ?? -1;
  return meta.uid === euid && meta.gid === egid;
}

/** This process's effective ids (it never changes them). */
let euid: number | undefined;
let egid: number | undefined;
