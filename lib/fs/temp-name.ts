/**
 * Temporary entries beside a user's files: where an entry is written before it is renamed to
 * its real name (restored files and hard links, exported archives and tars, the mkfifo
 * fallback's FIFO), so that no torn entry ever carries a real name. Every writer of such an
 * entry uses this module; so must the copy engine to come (never `NAME + suffix` of its own).
 *
 * The name: `.fxtmp-<pid>-<8 hex>` in the final name's directory, at most 23 bytes, ASCII.
 * It does not derive from the final name because a name may be up to NAME_MAX (255) bytes, and
 * `NAME.suffix` is then too long (ENAMETOOLONG): a snapshot holding a 250-byte name could not be
 * restored. Any snapshot's name is therefore writable. The same directory keeps the rename on
 * one file system, hence atomic. (The temporary's whole path is longer than the final one's for
 * a name under 23 bytes; paths near PATH_MAX are a limit of absolute paths in general.)
 *
 * Never colliding: the entry is made exclusively (open with O_EXCL, link, mknod: each fails with
 * EEXIST on a name that is taken) and a taken name is given up for a new one.
 *
 * Cleanup: a temporary is registered while it exists. `commit` renames it onto the final name
 * and removes it when the rename fails; `discard` removes it; an exit of the process (the
 * process.exit of a second Ctrl-C included) removes whatever is still registered. Only kill -9,
 * a crash or a power cut leave one behind; `removeStaleTemps` removes those of processes that
 * are gone when a later run finds them in a directory it enters again.
 *
 * Why not O_TMPFILE + linkat (an inode without a name, which not even kill -9 can leave behind):
 * linkat cannot replace an existing name (EEXIST), so replacing a file would still take a named
 * temporary and a rename; several file systems refuse O_TMPFILE (NFS, many FUSE ones), so the
 * named path would be needed as a fallback anyway; Node has neither O_TMPFILE nor linkat with
 * AT_EMPTY_PATH (it would need the native addon, which is optional); and the workers that write
 * the parts of a large file open it by path. One mechanism that works everywhere, with the
 * leftovers of a kill -9 removed by the next run, is simpler to get right.
 *
 * Memory: the registry holds the temporaries that exist at once (one per entry being written).
 */
import { chmodSync, lstatSync, mkdirSync, opendirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { randomTag } from '../util/random-tag.js';
import { errnoOf, fsError, FsError } from './fs-error.js';
import { displayPath, joinPath, toBuffer } from './fs-path.js';

/** How every temporary name starts (for tests and for people cleaning up by hand). */
export const TEMP_PREFIX = '.fxtmp-';
const TEMP_NAME = /^\.fxtmp-(\d+)-[0-9a-f]{8}$/;
/** The longest temporary name: 7 + a pid of up to 7 digits (pid_max is at most 2^22) + 1 + 8. */
const MAX_TEMP_NAME = 23;
/** Names tried before giving up: a collision needs the same pid and 32 random bits. */
const TRIES = 16;

const live = new Set<TempEntry>();
let exitHook = false;

/** A new temporary name in `dir` (not made: its maker must make it exclusively). */
export function tempName(dir: Buffer): Buffer {
  return joinPath(dir, Buffer.from(`${TEMP_PREFIX}${process.pid}-${randomTag(8)}`));
}

/** One temporary entry, made by `TempEntry.create`, gone after `commit` or `discard`. */
export class TempEntry {
  /** Renamed into place or removed: the name is no longer this one's to remove. */
  private gone = false;

  private constructor(readonly path: Buffer) {}

  /**
   * Makes a temporary entry in `dir` by calling `make(path)`, which must create the entry
   * exclusively (fail with EEXIST when the name is taken); a taken name is replaced by a new one.
   * Returns the entry and what `make` returned (an fd, say).
   */
  static async create<T>(dir: Buffer | string, make: (path: Buffer) => T | Promise<T>): Promise<{ temp: TempEntry; value: T }> {
    const d = toBuffer(dir);
    for (let i = 1; ; i++) {
      const temp = new TempEntry(tempName(d));
      try {
        const value = await make(temp.path);
        temp.register();
        return { temp, value };
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST' || i === TRIES) throw err;
      }
    }
  }

  private register(): void {
    live.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => { for (const t of live) t.discard(); });
    }
  }

  /**
   * Renames the temporary onto `final` (replacing a file there); when that fails, removes the
   * temporary and throws an error naming `final`.
   */
  commit(final: Buffer | string): void {
    try {
      renameSync(this.path, final);
      this.gone = true;
      live.delete(this);
    } catch (err) {
      this.discard();
      const errno = errnoOf(err);
      if (errno === 'EISDIR' || errno === 'ENOTEMPTY' || errno === 'EEXIST') {
        const shown = displayPath(final);
        throw new FsError(`cannot replace ${shown}: a directory is in the way (${errno})`, { path: shown, syscall: 'rename', errno }, { cause: err });
      }
      throw fsError(err, 'replace', final, 'rename');
    }
  }

  /**
   * Removes the temporary (after a failure); nothing after `commit` renamed it. Never throws:
   * the first error is the one to report.
   */
  discard(): void {
    if (this.gone) return;
    this.gone = true;
    live.delete(this);
    try { unlinkSync(this.path); } catch { /* already gone, or the directory is: nothing left to remove */ }
  }
}

/**
 * Removes the temporaries left in `dir` by processes that are gone (a kill -9 of an earlier
 * run), so a re-run into the same target leaves none behind. A temporary of a live process is
 * left alone (it may still be written); one that carries this process's pid but is not one of
 * its own was left by an earlier process with the same pid (pids are reused, and a container's
 * first process always has the same one). A temporary directory (a restore's new directory,
 * Materializer.makeTempDir, with what was written inside before the kill) is removed with its
 * contents, never following a symlink inside. Best effort: a directory that cannot be read is the caller's error to report, not this one's.
 * Memory: one directory entry at a time (a directory of millions is read as a stream).
 */
export function removeStaleTemps(dir: Buffer | string, onRemoved?: (path: Buffer) => void): number {
  const d = toBuffer(dir);
  let removed = 0;
  let handle;
  try {
    // Names as raw bytes (Node's typings omit 'buffer' here; the call accepts it).
    handle = opendirSync(d, { encoding: 'buffer' as BufferEncoding });
  } catch {
    return 0;
  }
  try {
    for (let e = handle.readSync(); e; e = handle.readSync()) {
      const name = e.name as unknown as Buffer;
      const m = name.length <= MAX_TEMP_NAME ? TEMP_NAME.exec(name.toString('latin1')) : null;
      if (!m) continue;
      const path = joinPath(d, name);
      if (isOurs(path) || (Number(m[1]) !== process.pid && alive(Number(m[1])))) continue;
      try {
        if (!lstatSync(path).isDirectory()) unlinkSync(path);
        else rmSync(path, { recursive: true });
        removed++;
        onRemoved?.(path);
      } catch { /* gone meanwhile, or not ours to remove: it stays ignored */ }
    }
  } catch {
    // An entry that cannot be read ends the sweep; the temporaries after it stay (ignored).
  } finally {
    handle.closeSync();
  }
  return removed;
}

function isOurs(path: Buffer): boolean {
  for (const t of live) if (t.path.equals(path)) return true;
  return liveDirs.has(path.toString('latin1'));
}

/** Temporary directories of this process not yet renamed into place (makeTempDir). */
const liveDirs = new Set<string>();

/**
 * Makes a temporary directory in `dir` (mode 0700, without the setgid a parent may pass on),
 * registered as this process's until `tempDirDone`; unlike a temporary file it is not removed
 * at exit (its maker publishes what an interrupted run finished; after a kill -9 the next
 * run's removeStaleTemps removes it).
 */
export function makeTempDir(dir: Buffer): Buffer {
  for (let i = 1; ; i++) {
    const temp = tempName(dir);
    try {
      mkdirSync(temp, 0o700);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST' || i === TRIES) throw err;
      continue;
    }
    liveDirs.add(temp.toString('latin1'));
    // A parent's setgid is passed on by mkdir: cleared, so that what is made inside gets this
    // process's group.
    chmodSync(temp, 0o700);
    return temp;
  }
}

/** `temp` (makeTempDir) was renamed into place or given up. */
export function tempDirDone(temp: Buffer): void {
  liveDirs.delete(temp.toString('latin1'));
}

/** Whether a process with this pid exists (on this host: a temporary made elsewhere looks dead or alive by chance). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoOf(err) === 'EPERM';
  }
}
