/**
 * Inspect: what an archive holds (snapshots, file counts, sizes, dedup ratio, codec mix), its
 * files (--list), and a full verification (--verify) that reports every damaged chunk and the
 * files it affects, so a user knows exactly what would not restore.
 */
import { ChunkCodec, codecName } from '../codec/codec.js';
import { throwIfAborted } from '../errors/index.js';
import { decodeVerified } from '../store/index.js';
import { walkTrees } from '../snapshot/tree-walk.js';
import type { TreeEntry } from '../snapshot/tree-entry.js';
import type { ArchiveReader, ArchiveSnapshot } from './archive-reader.js';
import { REC_TREE } from './fxar-layout.js';

export interface ArchiveSummary {
  path: string;
  bytes: number;
  chunks: number;
  dataChunks: number;
  treeChunks: number;
  /** Raw bytes of the archive's unique data chunks. */
  uniqueBytes: number;
  storedBytes: number;
  /** Sum of every snapshot's file sizes (what restoring them all would write). */
  logicalBytes: number;
  /** logicalBytes / bytes of the archive. */
  dedupRatio: number;
  codecs: Record<string, { chunks: number; storedBytes: number }>;
  snapshots: Array<{ id: string; time: string; source: string; host: string; tags: string[]; files: number; dirs: number; bytes: number }>;
}

export function summarizeArchive(ar: ArchiveReader, snaps: ArchiveSnapshot[]): ArchiveSummary {
  const s: ArchiveSummary = {
    path: ar.path, bytes: ar.reader.size, chunks: 0, dataChunks: 0, treeChunks: 0, uniqueBytes: 0, storedBytes: 0,
    logicalBytes: 0, dedupRatio: 0, codecs: {}, snapshots: [],
  };
  for (const e of ar.chunkEntries()) {
    s.chunks++;
    if (e.type === REC_TREE) s.treeChunks++;
    else { s.dataChunks++; s.uniqueBytes += e.rawLength; }
    s.storedBytes += e.storedLength;
    const c = (s.codecs[codecName(e.codec)] ??= { chunks: 0, storedBytes: 0 });
    c.chunks++;
    c.storedBytes += e.storedLength;
  }
  for (const { id, record: r } of snaps) {
    s.snapshots.push({ id, time: r.time, source: r.source, host: r.host, tags: r.tags, files: r.stats.files, dirs: r.stats.dirs, bytes: r.stats.bytes });
    s.logicalBytes += r.stats.bytes;
  }
  s.dedupRatio = s.bytes > 0 ? s.logicalBytes / s.bytes : 0;
  return s;
}

export type Visit = (path: string, e: TreeEntry) => void | Promise<void>;

/**
 * Walks a snapshot's tree depth first, in name order, calling `visit` for every entry with its
 * path relative to the snapshot's source (the paths `restore --file` matches; text, for
 * listings: bytes that are not UTF-8 show as U+FFFD). A tree that cannot be read is passed to
 * `onTreeError` (when given) and its subtree skipped.
 */
export async function walkSnapshot(ar: ArchiveReader, snap: ArchiveSnapshot, visit: Visit,
  onTreeError?: (path: string, err: unknown) => void, signal?: AbortSignal): Promise<void> {
  await walkTrees(ar, Buffer.from(snap.record.tree, 'hex'), {
    // The source directory itself (path empty) is not listed; its entries are.
    entry: (e, path) => path.length === 0 ? undefined : visit(path.toString('utf8'), e),
    treeError: onTreeError && ((err, _id, path) => onTreeError(path.length === 0 ? '.' : path.toString('utf8'), err)),
  }, { signal });
}

export interface VerifyReport {
  chunks: number;
  damaged: Array<{ chunk: string; offset: number; message: string }>;
  /** Problems with the index, snapshot records or trees (each a message naming what). */
  problems: string[];
  /** Files (per snapshot) that need a damaged chunk. */
  affected: Array<{ snapshot: string; path: string }>;
}

/** Reads and verifies every chunk, the index and every snapshot's trees. */
export async function verifyArchive(ar: ArchiveReader, signal?: AbortSignal): Promise<VerifyReport> {
  const codec = new ChunkCodec();
  const report: VerifyReport = { chunks: 0, damaged: [], problems: [], affected: [] };
  try {
    ar.verifyIndex();
  } catch (err) {
    report.problems.push((err as Error).message);
  }
  const bad = new Set<string>();
  for (const e of ar.chunkEntries()) {
    throwIfAborted(signal);
    report.chunks++;
    try {
      await decodeVerified(codec, ar.path, e.id, e, ar.readStored(e));
    } catch (err) {
      bad.add(e.id.toString('hex'));
      report.damaged.push({ chunk: e.id.toString('hex'), offset: e.offset, message: (err as Error).message });
    }
  }
  for (const entry of ar.snapshotEntries) {
    let snap: ArchiveSnapshot;
    try {
      snap = ar.readSnapshot(entry);
    } catch (err) {
      report.problems.push((err as Error).message);
      continue;
    }
    await walkSnapshot(ar, snap, (path, e) => {
      if (e.chunks?.some((c) => bad.has(c.id.toString('hex')))) report.affected.push({ snapshot: snap.id, path });
    }, (path, err) => {
      report.problems.push(`snapshot ${snap.id.slice(0, 12)}: directory ${path} cannot be read: ${(err as Error).message}`);
    }, signal);
  }
  return report;
}
