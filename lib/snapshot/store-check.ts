/**
 * `store check`: is everything a snapshot needs there and intact?
 *
 * Structure (always):
 * - the index file: every page its trees reach (Store.open walks it: a damaged index is
 *   reported, and the rest is checked against a temporary index built from the packs);
 * - every snapshot record hashes to its id and parses;
 * - every pack's header and trailer parse and the trailer checksum matches;
 * - the index agrees with the packs: every pack it lists exists, every chunk entry names a
 *   record that the pack's trailer lists at that offset with those lengths;
 * - every chunk that a snapshot's trees reference (data chunks, tree chunks, parts of large
 *   trees) is in the index, and every tree decodes.
 * With `readData`, every record of the selected packs is read, its header compared with the
 * trailer, decompressed and re-hashed against its id, one whole pack per job on a pool of
 * worker threads (lib/store/verify-worker.ts).
 *
 * Each problem is reported once through `onProblem`. Problems about chunks then name the
 * snapshots and files they affect: a second walk, only when there are such problems, of every
 * snapshot's trees without skipping shared subtrees (files named: up to 10 per chunk).
 *
 * Lives in lib/snapshot, not lib/store, because it reads trees. Read-only: the caller holds a
 * shared lock so gc cannot delete packs under it. Packs the index does not know (left by a
 * killed writer) and duplicate records (second copies of chunks two writers stored at once)
 * are not problems: they are reported as notes and gc frees them.
 */
import { type PackProblem, type Store, storeMaintenance } from '../store/index.js';
import { indexCopyOf } from './snapshot-catalogue.js';
import { checkSnapshot, type SnapshotRecord } from './snapshot-record.js';
import { walkTree } from './tree-walk.js';
import { startPhase, type Progress } from '../util/progress.js';

export interface CheckProblem {
  code: 'INDEX_DAMAGED' | 'DAMAGED_SNAPSHOT' | 'DAMAGED_PACK' | 'MISSING_PACK' | 'INDEX_MISMATCH' | 'DAMAGED_CHUNK' | 'MISSING_CHUNK' | 'DAMAGED_TREE';
  message: string;
  pack?: string;
  chunk?: string;
  snapshot?: string;
  /** Snapshots and files that need the chunk (filled in after the walk). */
  affects?: Array<{ snapshot: string; path: string }>;
}

/** Which packs --read-data-subset reads: `n/m` (restic's: the n-th of m groups) or a fraction. */
export type DataSubset = { n: number; m: number } | { fraction: number };

export interface CheckOptions {
  readData?: boolean;
  subset?: DataSubset;
  onNote?: (code: string, message: string, data?: Record<string, unknown>) => void;
  signal?: AbortSignal;
  /** Workers verifying packs for readData (default: one per core). */
  workers?: number;
  /** Live counters, by phase: packs (with readData, their bytes), then trees walked. */
  progress?: Progress;
}

export interface CheckResult {
  snapshots: number;
  packs: number;
  packsRead: number;
  chunks: number;
  chunksVerified: number;
  bytesRead: number;
  trees: number;
  unindexedPacks: number;
  /** Second copies of chunks (not problems; gc drops them): lib/store/pack-check.ts. */
  duplicateRecords: number;
  duplicateBytes: number;
  problems: CheckProblem[];
}

const AFFECTS_PER_CHUNK = 10;

export function inSubset(packId: string, subset: DataSubset | undefined): boolean {
  if (!subset) return true;
  const v = parseInt(packId.slice(0, 8), 16);
  if ('fraction' in subset) return v / 2 ** 32 < subset.fraction;
  return v % subset.m === subset.n - 1;
}

export async function checkStore(store: Store, opts: CheckOptions = {}): Promise<CheckResult> {
  const res: CheckResult = { snapshots: 0, packs: 0, packsRead: 0, chunks: store.index.chunkCount(), chunksVerified: 0, bytesRead: 0, trees: 0, unindexedPacks: 0, duplicateRecords: 0, duplicateBytes: 0, problems: [] };
  const problem = (p: CheckProblem) => { res.problems.push(p); };
  const bad = new Map<string, CheckProblem>(); // chunk hex → its problem
  if (store.indexDamage !== null) {
    // Opening walked every page of the index (index-file-walk.ts) and left a damaged one as it
    // is; the rest of the check ran on a temporary index built from the packs.
    problem({ code: 'INDEX_DAMAGED', message: `${store.indexDamage}; the index is a cache: run 'fxcp store rebuild-index ${store.root}' (this check used a temporary index)` });
  }

  // Snapshot records.
  const snaps: Array<{ id: string; record: SnapshotRecord }> = [];
  for await (const id of store.storage.list('snapshot')) {
    try {
      snaps.push({ id, record: checkSnapshot(await store.readSnapshotFile(id), store.storage.describe('snapshot', id)) });
    } catch (err) {
      // A good copy in the index keeps the snapshot whole (repair rewrites the file from it):
      // its trees are still checked.
      const copy = indexCopyOf(store.index, id);
      problem({ code: 'DAMAGED_SNAPSHOT', message: `${(err as Error).message}${copy ? "; the index holds a good copy: 'fxcp store repair' rewrites the record from it" : ''}`, snapshot: id });
      if (copy) snaps.push({ id, record: copy });
    }
  }
  res.snapshots = snaps.length;

  // Packs against the index, and (with readData) every record.
  const { checkPacks, ChunkTable } = await storeMaintenance();
  const packs = await checkPacks(store, { readData: opts.readData, readPack: (packId) => inSubset(packId, opts.subset), onNote: opts.onNote, signal: opts.signal, workers: opts.workers, progress: opts.progress },
    problem, bad as Map<string, PackProblem>);
  Object.assign(res, packs);

  // Reachability: every referenced chunk is indexed; every tree decodes.
  startPhase(opts.progress, 'trees', 'trees', null, null);
  const seen = new ChunkTable(res.chunks);
  const walked = new ChunkTable();
  // By number in `seen`: 1 for a chunk first met as data (a tree's own reading reports a tree
  // that is missing), then 2 once the index pass below finds it.
  let data: Uint8Array = new Uint8Array(Math.max(res.chunks, 1024));
  for (const s of snaps) {
    await walkTree(store, Buffer.from(s.record.tree, 'hex'), {
      enterTree(id) {
        if (!walked.add(id)) return false;
        seen.add(id);
        res.trees++;
        if (opts.progress) opts.progress.files++;
        return true;
      },
      chunk(id) {
        const { n, added } = seen.insert(id);
        if (!added) return;
        if (n >= data.length) data = grown(data, n);
        data[n] = 1;
      },
      treeError(id, path, err) {
        problem({ code: 'DAMAGED_TREE', message: `snapshot ${s.id.slice(0, 12)}: directory '${path || '.'}' cannot be read: ${(err as Error).message}`, snapshot: s.id, chunk: id.toString('hex') });
      },
    }, opts.signal);
  }

  // Every referenced data chunk indexed: marked by one pass over the index in key order (a
  // lookup per chunk read the index's leaves at random: 3M random page reads at 3M files).
  for (const c of store.index.listChunks()) {
    const n = seen.lookup(c.id);
    if (n >= 0 && data[n] === 1) data[n] = 2;
  }
  for (let n = 0; n < seen.size; n++) {
    if (data[n] !== 1) continue;
    const chunk = seen.id(n).toString('hex');
    if (bad.has(chunk)) continue;
    const p: CheckProblem = { code: 'MISSING_CHUNK', message: `${store.root}: chunk ${chunk.slice(0, 16)} is referenced but not in the store`, chunk };
    problem(p);
    bad.set(chunk, p);
  }

  if (bad.size > 0) await nameAffected(store, snaps, bad, opts.signal);
  return res;
}

/** `a` copied into an array of at least n + 1 bytes (doubled). */
function grown(a: Uint8Array, n: number): Uint8Array {
  const b = new Uint8Array(Math.max(n + 1, a.length * 2));
  b.set(a);
  return b;
}

/** Fills `affects` of chunk problems by walking every snapshot's trees in full. */
async function nameAffected(store: Store, snaps: Array<{ id: string; record: SnapshotRecord }>, bad: Map<string, CheckProblem>, signal?: AbortSignal): Promise<void> {
  for (const s of snaps) {
    await walkTree(store, Buffer.from(s.record.tree, 'hex'), {
      enterTree(id, path) {
        const p = bad.get(id.toString('hex'));
        if (p) { note(p, s.id, path || '.'); return false; }
        return true;
      },
      chunk(id, path) {
        const p = bad.get(id.toString('hex'));
        if (p) note(p, s.id, path);
      },
      treeError() {},
    }, signal);
  }
  function note(p: CheckProblem, snapshot: string, path: string) {
    p.affects ??= [];
    if (p.affects.length < AFFECTS_PER_CHUNK && !p.affects.some((a) => a.snapshot === snapshot && a.path === path)) p.affects.push({ snapshot, path });
  }
}
