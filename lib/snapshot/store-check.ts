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
 * killed writer) are not problems: they are reported as notes and gc frees them.
 */
import type { Store } from '../store/chunk-store.js';
import { ChunkTable } from '../store/chunk-table.js';
import type { PackEntry } from '../store/pack-codec.js';
import { readPackEntries } from '../store/pack-reader.js';
import { RECORD_HEADER_BYTES } from '../store/store-layout.js';
import { verifyPackBytes, type VerifyPackJob, type VerifyPackResult } from '../store/verify-worker.js';
import { WorkerPool } from '../util/worker-pool.js';
import { indexCopyOf } from './snapshot-catalogue.js';
import { checkSnapshot, type SnapshotRecord } from './snapshot-record.js';
import { walkTree } from './tree-walk.js';
import { abortPoint } from '../errors/index.js';

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
  const res: CheckResult = { snapshots: 0, packs: 0, packsRead: 0, chunks: store.index.chunkCount(), chunksVerified: 0, bytesRead: 0, trees: 0, unindexedPacks: 0, problems: [] };
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
  const onDisk = new Set<string>();
  for await (const p of store.storage.list('pack')) onDisk.add(p);
  const missingPackNos = new Set<number>();
  for (const { packNo, info } of store.index.listPacks()) {
    if (!onDisk.has(info.id)) {
      missingPackNos.add(packNo);
      problem({ code: 'MISSING_PACK', message: `${store.storage.describe('pack', info.id)}: pack is missing (the index lists it)`, pack: info.id });
    }
  }
  let matched = 0;
  let pool: WorkerPool | null = null;
  let jobs: Array<Promise<void>> = [];
  try {
    for (const packId of onDisk) {
      await abortPoint(opts.signal);
      res.packs++;
      let entries: PackEntry[];
      try {
        entries = await readPackEntries(store.storage, packId);
      } catch (err) {
        problem({ code: 'DAMAGED_PACK', message: (err as Error).message, pack: packId });
        continue;
      }
      const packNo = store.index.packNo(packId);
      if (packNo === undefined) {
        res.unindexedPacks++;
        opts.onNote?.('UNINDEXED_PACK', `${store.storage.describe('pack', packId)}: not in the index (left by an interrupted writer or gc); 'fxcp store gc' frees it`, { pack: packId });
      }
      const where = store.storage.describe('pack', packId);
      for (const e of entries) {
        const loc = store.index.getChunk(e.id);
        if (!loc || loc.packNo !== packNo) continue;
        matched++;
        if (loc.offset !== e.offset || loc.storedLength !== e.storedLength || loc.rawLength !== e.rawLength || loc.codec !== e.codec) {
          const chunk = e.id.toString('hex');
          const p: CheckProblem = { code: 'INDEX_MISMATCH', message: `${where}: index entry of chunk ${chunk.slice(0, 16)} disagrees with the pack trailer (run 'fxcp store repair')`, pack: packId, chunk };
          problem(p);
          bad.set(chunk, p);
        }
      }
      if (opts.readData && inSubset(packId, opts.subset)) {
        res.packsRead++;
        const onResult = (r: VerifyPackResult) => {
          res.bytesRead += r.bytesRead;
          res.chunksVerified += r.verified;
          for (const f of r.failures) {
            const e = entries[f.index];
            const chunk = e.id.toString('hex');
            const loc = store.index.getChunk(e.id);
            // A damaged second copy that no index entry uses loses nothing; it is still reported.
            const p: CheckProblem = { code: 'DAMAGED_CHUNK', message: f.message, pack: packId, chunk };
            problem(p);
            if (loc && loc.packNo === packNo && loc.offset === e.offset) bad.set(chunk, p);
          }
        };
        const local = store.storage.localPath?.('pack', packId);
        if (local) {
          pool ??= new WorkerPool('store/verify-worker.js', {});
          const job: VerifyPackJob = { op: 'verify-pack', path: local, where, entries: entries.map(({ id, offset, storedLength, rawLength, codec }) => ({ id, offset, storedLength, rawLength, codec })) };
          jobs.push(pool.run<VerifyPackResult>(job).then(onResult));
          // Bounded: two packs per worker queued; a worker holds one 8 MiB window of a pack at a time.
          if (jobs.length >= 2 * pool.size) { await Promise.all(jobs); jobs = []; }
        } else {
          onResult(await verifyPackBytes(await store.storage.get('pack', packId), where, entries));
        }
      }
    }
    await Promise.all(jobs);
  } finally {
    await pool?.close();
  }
  if (matched !== res.chunks) {
    // Some index entries point at no record: find them (one pass over the index).
    for (const c of store.index.listChunks()) {
      const chunk = c.id.toString('hex');
      if (bad.has(chunk)) continue;
      let ok = false;
      if (!missingPackNos.has(c.packNo)) {
        try {
          const packId = store.index.packId(c.packNo);
          const hdr = await store.storage.readRange('pack', packId, c.offset, RECORD_HEADER_BYTES);
          ok = hdr.subarray(0, 32).equals(c.id) && hdr.readUInt32LE(40) === c.storedLength;
        } catch { ok = false; }
      }
      if (!ok) {
        const p: CheckProblem = { code: 'MISSING_CHUNK', message: `${store.root}: index entry of chunk ${chunk.slice(0, 16)} points at no such record (pack missing or damaged)`, chunk };
        problem(p);
        bad.set(chunk, p);
      }
    }
  }

  // Reachability: every referenced chunk is indexed; every tree decodes.
  const seen = new ChunkTable(res.chunks);
  const walked = new ChunkTable();
  for (const s of snaps) {
    await walkTree(store, Buffer.from(s.record.tree, 'hex'), {
      enterTree(id) {
        if (!walked.add(id)) return false;
        seen.add(id);
        res.trees++;
        return true;
      },
      chunk(id) {
        if (seen.add(id) && !store.index.hasChunk(id)) {
          const chunk = id.toString('hex');
          if (bad.has(chunk)) return;
          const p: CheckProblem = { code: 'MISSING_CHUNK', message: `${store.root}: chunk ${chunk.slice(0, 16)} is referenced but not in the store`, chunk };
          problem(p);
          bad.set(chunk, p);
        }
      },
      treeError(id, path, err) {
        problem({ code: 'DAMAGED_TREE', message: `snapshot ${s.id.slice(0, 12)}: directory '${path || '.'}' cannot be read: ${(err as Error).message}`, snapshot: s.id, chunk: id.toString('hex') });
      },
    }, opts.signal);
  }

  if (bad.size > 0) await nameAffected(store, snaps, bad, opts.signal);
  return res;
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
