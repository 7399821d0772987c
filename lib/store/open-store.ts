/**
 * Opening a store for an operation: the lock it needs, then the store, with the lock released
 * when the operation ends however it ends. Writers (snapshot create, import, the daemon) and
 * readers that must not lose chunks mid-way (restore, export) take a shared lock; prune and gc
 * an exclusive one; listing takes none.
 *
 * A command that only reads (`access: 'read'`) also works on a store it cannot write (read-only
 * media): the store and its index are opened read-only (chunk-store.ts), and a shared lock
 * whose file cannot be written is skipped with one warning. Nobody can write that store
 * through this mount, so only a writer reaching it another way (another host, another mount)
 * could change it meanwhile.
 *
 * A store this call created is removed again when the operation fails before it stored
 * anything (a refused import, an interrupted first snapshot): a failed command leaves no empty
 * store behind, as a typo in the source never creates one (snap-create.ts).
 */
import { existsSync, readdirSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { makeDirsSync } from '../fs/make-dirs.js';
import { type IndexWalk, lmdbDamage } from '../index/store-index.js';
import { Store } from './chunk-store.js';
import { directoryLocation } from './store-location.js';
import { isSchemeStore, storeLocation } from './store-argument.js';
import { CONFIG_FILE, DIRS } from './store-layout.js';
import type { Warn } from '../errors/index.js';
import { StoreLock } from './store-lock.js';
import { inStoreTurn } from './store-turns.js';

export interface UseStoreOptions {
  create?: boolean;
  lock: 'none' | 'shared' | 'exclusive';
  command: string;
  waitMs?: number;
  /** Ends a wait for the lock (--lock-wait) with ABORTED: Ctrl-C or SIGTERM stops a queued cron job. */
  signal?: AbortSignal;
  onWarn?: Warn;
  /** 'read' for commands that never write to the store (see Store.open); default 'write'. */
  access?: 'read' | 'write';
  /** The command rebuilds the index under its lock: Store.open does not open the old one (rebuildIndex may, to rescue records). */
  rebuildIndex?: boolean;
  /** false: packs are written through the page cache (the CLI's FOXING_DIRECT_PACKS=0); default O_DIRECT where it works. */
  directPacks?: boolean;
  /** How much of the index to walk before use (Store.open's indexWalk). */
  indexWalk?: IndexWalk;
  /** `store check`: a damaged index is a finding, left as it is (Store.open's reportIndexDamage). */
  reportIndexDamage?: boolean;
  /**
   * After `fn` succeeded with a shared lock: trade it for the exclusive lock if that can be had
   * at once (no other writer or reader holds one) and replace the index by a compact copy when
   * most of its file is unused (Store.compactIndex). A directory store only; a failure is a
   * warning, as what `fn` did is already committed.
   */
  compactIndex?: boolean;
  /** `store init --create-bucket`: an s3:// store's bucket is created when missing. */
  createBucket?: boolean;
  /** --s3-endpoint, for an s3:// store (store-argument.ts). */
  s3Endpoint?: string;
  /** The environment an s3:// store's settings come from; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Errors of a lock file that cannot be written where the store is read-only to us. */
const UNWRITABLE = new Set(['EROFS', 'EACCES', 'EPERM']);

/** Runs `fn` on the store at `path`, opened and locked as `opts` say; in this process, one use of a store at a time (store-turns.ts). */
export async function withStore<T>(path: string, opts: UseStoreOptions, fn: (store: Store) => Promise<T>): Promise<T> {
  if (isSchemeStore(path)) return inStoreTurn(path, () => withRemoteStore(path, opts, fn));
  const root = resolve(path);
  return inStoreTurn(root, () => withLocalStore(root, opts, fn));
}

async function withLocalStore<T>(root: string, opts: UseStoreOptions, fn: (store: Store) => Promise<T>): Promise<T> {
  // What this call creates, if it creates the store: the layout in `root`, and `root` itself
  // with its missing parents up to `newTop`.
  const creating = opts.create === true && !existsSync(join(root, CONFIG_FILE));
  const newTop = creating ? topMissing(root) : null;
  // Validate before locking, so a wrong path is reported as such and gets no locks/ directory.
  const store = await Store.open(directoryLocation(root, { directPacks: opts.directPacks }), { create: opts.create, onWarn: opts.onWarn, access: opts.access, command: opts.command, rebuildIndex: opts.rebuildIndex, indexWalk: opts.indexWalk, reportIndexDamage: opts.reportIndexDamage });
  let lock: StoreLock | null = null;
  let failed = false;
  try {
    if (opts.lock !== 'none') {
      try {
        makeDirsSync(root);
        lock = await StoreLock.acquire(root, { exclusive: opts.lock === 'exclusive', command: opts.command, waitMs: opts.waitMs, signal: opts.signal, onWarn: opts.onWarn });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (opts.access !== 'read' || opts.lock !== 'shared' || !UNWRITABLE.has(code ?? '')) throw err;
        opts.onWarn?.('UNLOCKED', `${root}: cannot write a lock file (${code}): reading the store without a lock`, { path: root, errno: code });
      }
    }
    const result = await fn(store);
    if (opts.compactIndex && lock && opts.lock === 'shared') lock = await compactUnderExclusiveLock(root, store, lock, opts);
    return result;
  } catch (err) {
    failed = true;
    // Damage that opening did not check (IndexWalk) and LMDB itself reports.
    throw lmdbDamage(join(root, DIRS.index, 'index.mdb'), err, `; the index is a cache: run 'fxcp store rebuild-index ${root}'`) ?? err;
  } finally {
    await store.close();
    lock?.release();
    if (failed && creating) removeUnusedStore(root, newTop);
  }
}

/**
 * withStore for a store a scheme names (s3://): the same steps, with the lock an object of the
 * store's (s3-lock.ts) and a store this call created taken back (its config object) when the
 * operation fails before storing anything.
 */
async function withRemoteStore<T>(arg: string, opts: UseStoreOptions, fn: (store: Store) => Promise<T>): Promise<T> {
  const lockRequest = opts.lock === 'none' ? undefined : { exclusive: opts.lock === 'exclusive', command: opts.command, waitMs: opts.waitMs, signal: opts.signal, onWarn: opts.onWarn };
  const location = await storeLocation(arg, { env: opts.env, s3Endpoint: opts.s3Endpoint, createBucket: opts.createBucket, onWarn: opts.onWarn, lock: lockRequest });
  const remote = location.remote!;
  const creating = opts.create === true && remote.configText === null;
  // The lock is taken while the store opens (each costs round trips to the bucket; an s3://
  // store asked for it with its config), and given back if the opening fails; a store that does
  // not open still holds its connection (ssh://): closed here. Where there is no store and none
  // is to be made, Store.open says so, and a lock asked for already is given back.
  const locking = lockRequest ? remote.lock(lockRequest) : null;
  locking?.catch(() => {});
  let store: Store;
  try {
    store = await Store.open(location, { create: opts.create, onWarn: opts.onWarn, access: opts.access, command: opts.command, rebuildIndex: opts.rebuildIndex, indexWalk: opts.indexWalk, reportIndexDamage: opts.reportIndexDamage });
  } catch (err) {
    await (await locking?.catch(() => null))?.release();
    await location.storage.close().catch(() => {});
    throw err;
  }
  let lock: { release(): Promise<void> } | null = null;
  let failed = false;
  try {
    lock = await locking;
    return await fn(store);
  } catch (err) {
    failed = true;
    throw lmdbDamage(join(location.indexDir, 'index.mdb'), err, `; the index is a local cache: run 'fxcp store rebuild-index ${remote.name}'`) ?? err;
  } finally {
    // The lock first: the store's close only touches this host's cache of the index (and ends
    // an ssh:// store's session, which removeIfUnused still needs).
    await lock?.release();
    if (failed && creating) await remote.removeIfUnused().catch(() => {});
    await store.close();
  }
}

/**
 * withStore's compactIndex: the shared lock is released, the exclusive one tried without
 * waiting (someone else holding any lock means no compaction this time), the index compacted.
 * Returns the lock now held (released by withStore), or null.
 */
async function compactUnderExclusiveLock(root: string, store: Store, shared: StoreLock, opts: UseStoreOptions): Promise<StoreLock | null> {
  shared.release();
  let exclusive: StoreLock;
  try {
    exclusive = await StoreLock.acquire(root, { exclusive: true, command: `${opts.command} (index compaction)`, waitMs: 0 });
  } catch {
    return null;
  }
  try {
    await store.compactIndex();
  } catch (err) {
    opts.onWarn?.('INDEX_COMPACTION', `${root}: the index was not compacted: ${(err as Error).message}`, { path: root });
  }
  return exclusive;
}

/** The highest missing directory on the way to `path` (null when `path` exists). */
function topMissing(path: string): string | null {
  let top: string | null = null;
  for (let at = path; !existsSync(at) && dirname(at) !== at; at = dirname(at)) top = at;
  return top;
}

/**
 * Removes a store created by this process that holds nothing: no pack, no snapshot record,
 * nothing in tmp/, no other process's lock. Only the layout's own names are removed, and
 * directories only when empty (rmdir), up to `newTop`, the highest directory that did not exist
 * before; a store anything else was put into is left as it is. Best effort: the error that
 * failed the command is what gets reported.
 */
function removeUnusedStore(root: string, newTop: string | null): void {
  try {
    const layout = new Set<string>([...Object.values(DIRS), CONFIG_FILE]);
    const entries = readdirSync(root);
    if (!entries.every((e) => layout.has(e))) return;
    for (const d of [DIRS.packs, DIRS.snapshots, DIRS.tmp, DIRS.locks]) {
      if (existsSync(join(root, d)) && readdirSync(join(root, d)).length > 0) return;
    }
    unlinkSync(join(root, CONFIG_FILE));
    rmSync(join(root, DIRS.index), { recursive: true, force: true });
    for (const d of [DIRS.packs, DIRS.snapshots, DIRS.tmp, DIRS.locks]) if (existsSync(join(root, d))) rmdirSync(join(root, d));
    if (newTop === null) return;
    for (let at = root; ; at = dirname(at)) {
      rmdirSync(at);
      if (at === newTop) break;
    }
  } catch { /* left as it is */ }
}
