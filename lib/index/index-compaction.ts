/**
 * A compact copy of the index's LMDB file (issue 25). LMDB copies every page a transaction
 * changes and keeps the file's high-water mark: a first snapshot that inserts tens of thousands
 * of random chunk ids, a pack's worth per transaction, leaves a file of which most pages are
 * free (the bench's real set: 2,058 pages, 780 of them in use), and the pages in use are about
 * 70 % full (random inserts split leaves in half). The copy written here holds every database
 * appended in key order (MDB_APPEND fills each page before it starts the next) and no free
 * page: 8.4 MB became 2.3 MB on that set.
 *
 * Pure of policy: the caller decides when a copy pays (slack), where it goes and how it
 * replaces the live file (chunk-store.ts compactIndex, under the store's exclusive lock).
 * Values and keys are copied as raw bytes, so encodings never change in the copy.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, DatabaseOptions, RootDatabase } from 'lmdb';
import { lmdb } from './load-lmdb.js';

/** Every database of the index, with the key encoding its flags come from (MDB_INTEGERKEY for uint32). */
export const INDEX_DATABASES: ReadonlyArray<{ name: string; keyEncoding: 'binary' | 'uint32' }> = [
  { name: 'chunks', keyEncoding: 'binary' },
  { name: 'packs', keyEncoding: 'uint32' },
  { name: 'pack-ids', keyEncoding: 'binary' },
  { name: 'snapshots', keyEncoding: 'binary' },
  { name: 'meta', keyEncoding: 'binary' },
  { name: 'listing-memos', keyEncoding: 'binary' },
];

/**
 * Entries per transaction of the copy: appends touch only the rightmost pages, so a commit
 * frees almost nothing, and the dirty pages a transaction holds in memory stay bounded
 * (about 4,096 chunk entries fill 60 pages).
 */
const COPY_BATCH = 4096;

interface PageStats { treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number }
interface EnvStats extends PageStats { lastPageNumber: number; free: PageStats }
const pagesOf = (s: PageStats): number => s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;

type RawDatabase = Database<Buffer, Buffer | number>;
/** A database of `env` by name with raw values, or undefined where it does not exist (lmdb-js's `create: false`, missing from its types). */
function existing(env: RootDatabase, name: string, keyEncoding: 'binary' | 'uint32'): RawDatabase | undefined {
  return env.openDB<Buffer, Buffer | number>({ name, keyEncoding, encoding: 'binary', create: false } as DatabaseOptions & { name: string });
}
/** put with MDB_APPEND (lmdb-js takes `{ append }` where its types say a version number). */
type AppendPut = (key: Buffer | number, value: Buffer, opts: { append: true }) => unknown;

/**
 * The data file's pages and how many of them no database uses (free, or kept by the
 * high-water mark). Counts the named databases, the main one and the free list's own pages,
 * and the two meta pages.
 */
export function indexSlack(env: RootDatabase): { pages: number; unused: number } {
  const root = env.getStats() as EnvStats;
  const pages = root.lastPageNumber + 1;
  let used = 2 + pagesOf(root) + pagesOf(root.free);
  for (const { name, keyEncoding } of INDEX_DATABASES) {
    const db = existing(env, name, keyEncoding);
    if (db) used += pagesOf(db.getStats() as PageStats);
  }
  return { pages, unused: Math.max(0, pages - used) };
}

/**
 * Writes every database of `env` into a new index file in `dir` (which must not hold one), in
 * key order, appended; closes the copy and fsyncs its data file. A database `env` lacks is
 * left out of the copy too.
 */
export async function writeCompactIndex(env: RootDatabase, dir: string): Promise<void> {
  // No sync per transaction: the copy is nobody's until it is renamed into place, so one fsync
  // of the whole file after the last commit makes it durable first (the copy of the bench's
  // real set took 0.8 s with a sync per transaction at load 12).
  const file = join(dir, 'index.mdb');
  const copy = lmdb().open({ path: file, maxDbs: 8, eventTurnBatching: false, noSync: true });
  try {
    for (const { name, keyEncoding } of INDEX_DATABASES) {
      const from = existing(env, name, keyEncoding);
      if (!from) continue;
      const to = copy.openDB<Buffer, Buffer | number>({ name, keyEncoding, encoding: 'binary' });
      const append = to.put.bind(to) as unknown as AppendPut;
      let batch: Array<{ key: Buffer | number; value: Buffer }> = [];
      const flush = (): void => {
        const entries = batch;
        batch = [];
        copy.transactionSync(() => { for (const e of entries) append(e.key, e.value, { append: true }); });
      };
      // Keys and values are copied out of the map before the read transaction moves on.
      for (const { key, value } of from.getRange({ snapshot: true })) {
        batch.push({ key: typeof key === 'number' ? key : Buffer.from(key), value: Buffer.from(value) });
        if (batch.length >= COPY_BATCH) flush();
      }
      flush();
    }
    await copy.flushed;
  } finally {
    await copy.close();
  }
  const fd = openSync(file, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}
