/**
 * What keeps the index's writes honest (issue 18, D6 and the fault-injection suite): every
 * write of StoreIndex goes through one IndexWrites, which
 *  - refuses to start a transaction the file system has no room for (requireSpace): an LMDB page
 *    write that finds the disk full makes lmdb print to stderr itself (a "Write error" line from
 *    C, a stack trace from its JavaScript) before the commit fails;
 *  - turns a failed commit into NO_SPACE or IO naming the index, and handles the `commitError`
 *    promise lmdb-js attaches to it (left alone, it ended the process with a stack trace);
 *  - hears the failures lmdb-js's write thread reports only with console.error (a sync that
 *    failed after the write's promise resolved; the lmdb bundle routes that here through
 *    load-lmdb.ts lmdbReports) and fails every write awaited then, and `flushed`: after such a
 *    failure lmdb-js settles neither, and a process waiting on nothing else would end quietly
 *    with exit status 0;
 *  - keeps the event loop alive while a write is awaited (lmdb-js's write thread does not).
 * Limit: without the lmdb bundle (the package as installed), those reports are printed by
 * lmdb-js as before, and a failed sync is not seen.
 */
import { dirname } from 'node:path';
import { ToolkitError } from '../errors/index.js';
import { freeSpace, isNoSpace, noSpaceError } from '../fs/free-space.js';
import { lmdbReports } from './load-lmdb.js';

/** LMDB's page size: what the free-space estimate of a transaction counts in. */
const PAGE_BYTES = 4096;
/** Pages a transaction may add besides one per key: branch pages of each database, meta pages. */
const TXN_PAGES = 32;

export class IndexWrites {
  /** A write failed: close must not wait on lmdb-js, which may never settle what it waits for. */
  broken = false;
  private readonly failed = rejectable();

  /** `file` is the index's data file (STORE/index/index.mdb). */
  constructor(readonly file: string) {
    listen(this);
  }

  /**
   * The free space a write transaction adding `keys` keys may need: LMDB copies every page it
   * changes, and ids are random, so at worst one new leaf page per key, plus TXN_PAGES.
   */
  private static spaceFor(keys: number): number {
    return (keys + TXN_PAGES) * PAGE_BYTES;
  }

  /**
   * Throws NO_SPACE (naming the store) unless the file system has the room a transaction adding
   * `keys` keys may need; returns the free bytes. An estimate (f_bavail, and a writer elsewhere may take the space
   * first); a commit that still fails is converted by `committed`.
   */
  requireSpace(keys: number): number {
    const needed = IndexWrites.spaceFor(keys);
    const available = freeSpace(dirname(this.file)).available;
    if (available < needed) throw noSpaceError(dirname(dirname(this.file)), needed);
    return available;
  }

  /** The file system's free bytes for us (f_bavail); Infinity when statfs fails (nothing is judged from it then). */
  available(): number {
    try { return freeSpace(dirname(this.file)).available; } catch { return Infinity; }
  }

  /** A write's promise (a transaction's, `flushed`), failing as NO_SPACE or IO (see the header). */
  committed<T>(write: Promise<T>, keys: number): Promise<T> {
    write.catch((err: unknown) => { commitErrorOf(err)?.catch(() => {}); });
    const alive = setInterval(() => {}, 1 << 30);
    return Promise.race([write, this.failed.promise]).finally(() => clearInterval(alive)).catch(async (err: unknown) => {
      this.broken = true;
      if (err instanceof ToolkitError) throw err;
      const failedCommit = commitErrorOf(err) !== null;
      const cause = failedCommit ? await this.commitCause(err) : null;
      if (cause instanceof ToolkitError) throw cause;
      const real = cause ?? err;
      let full = isNoSpace(real);
      try { full ||= freeSpace(dirname(this.file)).available < IndexWrites.spaceFor(keys); } catch { /* as it was */ }
      if (full) throw noSpaceError(dirname(dirname(this.file)), IndexWrites.spaceFor(keys), real);
      // A commit that failed is the index's I/O failure, named as such whether or not its cause came.
      throw failedCommit ? this.ioError(real) : err;
    });
  }

  /**
   * What is behind lmdb-js's "Commit failed (see commitError for details)": it rejects the
   * transaction's writes with that, and only then, from its write thread's callback, rejects
   * `commitError` with the cause and reports it (writeFailed). Either may come first; the CI
   * once saw the bare message win (code INTERNAL instead of IO). Whichever comes, within
   * COMMIT_CAUSE_MS; null when neither does.
   */
  private async commitCause(err: unknown): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), COMMIT_CAUSE_MS); });
    try {
      return await Promise.race([
        commitErrorOf(err)!.then(() => null, (cause: unknown) => cause),
        this.failed.promise.catch((reported: unknown) => reported),
        late,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private ioError(err: unknown): ToolkitError {
    return new ToolkitError('IO', `${this.file}: the index could not be written: ${(err as Error).message ?? String(err)}`,
      { path: this.file, errno: (err as { code?: unknown }).code }, { cause: err });
  }

  /** A failure lmdb-js reported from its write thread: every write awaited from now on throws it. */
  private writeFailed(err: unknown): void {
    this.broken = true;
    this.failed.reject(isNoSpace(err) ? noSpaceError(dirname(dirname(this.file)), IndexWrites.spaceFor(0), err) : this.ioError(err));
  }

  /** The index is closed: it hears no more reports. */
  close(): void {
    open.delete(this);
  }

  /** Called by lmdbReports' listener (module-private in effect). */
  static report(err: unknown): void {
    for (const w of open) w.writeFailed(err);
  }
}

/** How long a failed commit's cause is waited for (IndexWrites.commitCause): it follows within milliseconds. */
const COMMIT_CAUSE_MS = 2000;

/** lmdb-js's `commitError` promise on a write's rejection, if it has one. */
function commitErrorOf(err: unknown): Promise<unknown> | null {
  const cause = (err as { commitError?: Promise<unknown> } | null)?.commitError;
  return cause && typeof cause.then === 'function' ? cause : null;
}

/** A promise rejected from outside (the first rejection counts); never left unhandled. */
function rejectable(): { promise: Promise<never>; reject: (err: unknown) => void } {
  let reject!: (err: unknown) => void;
  const promise = new Promise<never>((_, r) => { reject = r; });
  promise.catch(() => {});
  return { promise, reject };
}

/**
 * Indexes open in this process: lmdb-js's reports name no environment, so each hears them
 * (a process has one or two open at a time). Process-wide because lmdb-js's console is.
 */
const open = new Set<IndexWrites>();

function listen(w: IndexWrites): void {
  if (open.size === 0) {
    lmdbReports((args) => {
      const err = args.find((a) => a instanceof Error) ?? new Error(args.map(String).join(' '));
      if (open.size === 0) console.error(...args);
      IndexWrites.report(err);
    });
  }
  open.add(w);
}
