/**
 * Replacing a store's index by a compact copy of itself (issue 25: after the first snapshot of
 * 29,784 real files the index file was 8.4 MB, of which 5.3 MB were pages no database used;
 * the copy is 2.3 MB). The copy (lib/index/index-compaction.ts) is written beside the index,
 * then the two directories are swapped by two renames, so a process that still has the old
 * index open (`snap list` takes no lock) keeps reading a whole, consistent pair of data and lock
 * files, and every process that opens the store afterwards gets the copy.
 *
 * The caller must hold the store's exclusive lock: a writer with the old index open would go
 * on committing into the file thrown away. Between the two renames (microseconds) there is no
 * index directory; a command opening the store just then builds one from the packs, slowly but
 * correctly (the index is a cache). A copy cut short by a kill is named like a discarded index
 * of a dead process, so the next discard (index-discard.ts) removes it.
 */
import { promises as fsp, renameSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { StoreIndex } from '../index/store-index.js';
import { fsyncDir } from '../util/atomic-file.js';
import { randomTag } from '../util/random-tag.js';

/** Below this the file is left alone: a copy saves too little to pay for its fsyncs. */
export const COMPACT_MIN_BYTES = 1 << 20;
/** The share of the file's pages that must be unused before a copy pays. */
export const COMPACT_MIN_UNUSED = 0.25;

export interface IndexCompaction { before: number; after: number }

/**
 * Writes the compact copy and swaps it in when at least COMPACT_MIN_UNUSED of the file is
 * unused, calling `release` (which must close `index`) just before the swap, whether the swap
 * then succeeds or throws. Null (and `index` untouched) when the file is small or full enough.
 */
export async function compactIndexDir(index: StoreIndex, dir: string, release: () => Promise<void>, minBytes = COMPACT_MIN_BYTES): Promise<IndexCompaction | null> {
  const before = statSync(index.file).size;
  if (before < minBytes) return null;
  const { pages, unused } = index.slack();
  if (unused < pages * COMPACT_MIN_UNUSED) return null;
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.discarded-${process.pid}-`;
  const copy = join(parent, `${prefix}${randomTag()}`);
  const aside = join(parent, `${prefix}${randomTag()}`);
  try {
    await index.writeCompactCopy(copy);
  } catch (err) {
    await fsp.rm(copy, { recursive: true, force: true });
    throw err;
  }
  const after = statSync(join(copy, 'index.mdb')).size;
  await release();
  renameSync(dir, aside);
  try {
    renameSync(copy, dir);
  } catch (err) {
    renameSync(aside, dir);
    await fsp.rm(copy, { recursive: true, force: true });
    throw err;
  }
  await fsyncDir(parent);
  await fsp.rm(aside, { recursive: true, force: true });
  return { before, after };
}
