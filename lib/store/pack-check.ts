/**
 * `store check`'s part inside the store (the orchestration, which reads snapshot records and
 * walks trees, is lib/snapshot/store-check.ts): packs against the index, and with `readData`
 * every record of every pack (on worker threads where packs are local files: verify-worker.ts).
 *
 * - A pack the index lists that is gone: MISSING_PACK. A pack whose trailer does not verify:
 *   DAMAGED_PACK. A pack the index does not know: a note (gc frees it), not a problem.
 * - An index entry that disagrees with its pack's trailer: INDEX_MISMATCH.
 * - With readData, a record that does not decode to its id: DAMAGED_CHUNK.
 * - An index entry that points at no record: MISSING_CHUNK (looked for only when the entries
 *   matched to trailers fall short of the index's count: one pass over the index).
 * - A record of a chunk the index locates in another record: a duplicate (two writers stored
 *   the chunk at once; issue 25). Nothing is lost and no snapshot is at risk, so it is not a
 *   problem: the records and their bytes are counted (`duplicateRecords`, `duplicateBytes`),
 *   one DUPLICATE_RECORDS note sums them up, and gc drops them.
 * Problems that lose a chunk (the index's copy is bad) are also returned by chunk, so the caller
 * can name the snapshots and files that need it. Read-only.
 */
import { abortPoint } from '../errors/index.js';
import { startPhase, type Progress } from '../util/progress.js';
import { defaultPoolSize, WorkerPool } from '../util/worker-pool.js';
import type { Store } from './chunk-store.js';
import type { PackEntry } from './pack-codec.js';
import { indexDigests, trailerAgrees } from './pack-digest.js';
import { CHUNK_BUNDLE, RECORD_HEADER_BYTES } from './store-layout.js';
import { chunkCount } from '../index/store-index.js';
import { verifyPackBytes, type VerifyPackJob, type VerifyPackResult } from './verify-worker.js';

export interface PackProblem {
  code: 'DAMAGED_PACK' | 'MISSING_PACK' | 'INDEX_MISMATCH' | 'DAMAGED_CHUNK' | 'MISSING_CHUNK';
  message: string;
  pack?: string;
  chunk?: string;
}

export interface PackCheckOptions {
  readData?: boolean;
  /** Which packs readData reads (--read-data-subset); all when absent. */
  readPack?: (packId: string) => boolean;
  onNote?: (code: string, message: string, data?: Record<string, unknown>) => void;
  signal?: AbortSignal;
  /** Workers verifying packs for readData (default: one per core). */
  workers?: number;
  /** Live counters: packs checked; with readData, packs read and their bytes, against the packs to read. */
  progress?: Progress;
}

export interface PackCheckResult {
  packs: number;
  packsRead: number;
  chunksVerified: number;
  bytesRead: number;
  unindexedPacks: number;
  /** Records of chunks the index locates elsewhere, and their bytes in packs (header included). */
  duplicateRecords: number;
  duplicateBytes: number;
}

/**
 * Checks every pack; `problem` receives each problem as found, `bad` (chunk hex → problem) the
 * ones that lose the index's copy of a chunk (entries already in `bad` are not looked at again).
 */
export async function checkPacks(store: Store, opts: PackCheckOptions, problem: (p: PackProblem) => void, bad: Map<string, PackProblem>): Promise<PackCheckResult> {
  const res: PackCheckResult = { packs: 0, packsRead: 0, chunksVerified: 0, bytesRead: 0, unindexedPacks: 0, duplicateRecords: 0, duplicateBytes: 0 };
  const onDisk = new Set<string>();
  for await (const p of store.storage.list('pack')) onDisk.add(p);
  const missingPackNos = new Set<number>();
  for (const { packNo, info } of store.index.listPacks()) {
    if (!onDisk.has(info.id)) {
      missingPackNos.add(packNo);
      problem({ code: 'MISSING_PACK', message: `${store.storage.describe('pack', info.id)}: pack is missing (the index lists it)`, pack: info.id });
    }
  }
  const progress = opts.progress;
  // The bytes to read, known before any is read: the sizes the index gives (a pack it does not
  // know is looked up; there are few).
  const packSizes = new Map<string, number>();
  if (progress && opts.readData) {
    for (const { info } of store.index.listPacks()) if (onDisk.has(info.id)) packSizes.set(info.id, info.size);
    let total = 0, count = 0;
    for (const p of onDisk) {
      if (!(opts.readPack?.(p) ?? true)) continue;
      if (!packSizes.has(p)) packSizes.set(p, await store.storage.size('pack', p).catch(() => 0));
      total += packSizes.get(p)!;
      count++;
    }
    startPhase(progress, 'read-data', 'packs', count, total);
  } else {
    startPhase(progress, 'packs', 'packs', onDisk.size, null);
  }
  const packRead = (packId: string) => { if (progress) { progress.files++; progress.bytes += packSizes.get(packId) ?? 0; } };
  let matched = 0;
  // What the index says of each pack, from one pass in key order (pack-digest.ts): a pack that
  // agrees is not looked up record by record.
  const digests = indexDigests(store.index.listChunks());
  let pool: WorkerPool | null = null;
  let jobs: Array<Promise<void>> = [];
  try {
    for (const packId of onDisk) {
      await abortPoint(opts.signal);
      res.packs++;
      if (progress && !opts.readData) progress.files++;
      let entries: PackEntry[];
      try {
        entries = await store.packEntries(packId);
      } catch (err) {
        problem({ code: 'DAMAGED_PACK', message: (err as Error).message, pack: packId });
        if (opts.readData && (opts.readPack?.(packId) ?? true)) packRead(packId); // not read, but done with
        continue;
      }
      const packNo = store.index.packNo(packId);
      if (packNo === undefined) {
        res.unindexedPacks++;
        opts.onNote?.('UNINDEXED_PACK', `${store.storage.describe('pack', packId)}: not in the index (left by an interrupted writer or gc); 'fxcp store gc' frees it`, { pack: packId });
      }
      const where = store.storage.describe('pack', packId);
      const agrees = packNo !== undefined && trailerAgrees(digests.get(packNo), entries);
      if (agrees) matched += chunkCount(entries);
      else for (const e of entries) {
        if (e.type === CHUNK_BUNDLE) continue;
        const loc = store.index.getChunk(e.id);
        if (!loc) continue;
        if (loc.packNo !== packNo || (loc.offset !== e.offset && indexedCopyIn(entries, e, loc.offset))) {
          res.duplicateRecords++;
          res.duplicateBytes += RECORD_HEADER_BYTES + e.storedLength;
          continue;
        }
        matched++;
        if (loc.offset !== e.offset || loc.storedLength !== e.storedLength || loc.rawLength !== e.rawLength || loc.codec !== e.codec) {
          const chunk = e.id.toString('hex');
          const p: PackProblem = { code: 'INDEX_MISMATCH', message: `${where}: index entry of chunk ${chunk.slice(0, 16)} disagrees with the pack trailer (run 'fxcp store repair')`, pack: packId, chunk };
          problem(p);
          bad.set(chunk, p);
        }
      }
      if (opts.readData && (opts.readPack?.(packId) ?? true)) {
        res.packsRead++;
        const onResult = (r: VerifyPackResult) => {
          packRead(packId);
          res.bytesRead += r.bytesRead;
          res.chunksVerified += r.verified;
          for (const f of r.failures) {
            const e = entries[f.index];
            const chunk = e.id.toString('hex');
            const loc = store.index.getChunk(e.id);
            // A damaged second copy that no index entry uses loses nothing; it is still reported.
            const p: PackProblem = { code: 'DAMAGED_CHUNK', message: f.message, pack: packId, chunk };
            problem(p);
            if (loc && loc.packNo === packNo && loc.offset === e.offset) bad.set(chunk, p);
          }
        };
        const local = store.storage.localPath?.('pack', packId);
        if (local) {
          pool ??= new WorkerPool('store/verify-worker.js', {}, defaultPoolSize(opts.workers));
          const job: VerifyPackJob = { op: 'verify-pack', path: local, where, entries: entries.map(({ id, type, offset, storedLength, rawLength, codec }) => ({ id, type, offset, storedLength, rawLength, codec })) };
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
  if (res.duplicateRecords > 0) {
    opts.onNote?.('DUPLICATE_RECORDS', `${store.root}: ${res.duplicateRecords} records (${res.duplicateBytes} bytes) are second copies of chunks stored elsewhere in the store; 'fxcp store gc' drops them`,
      { records: res.duplicateRecords, bytes: res.duplicateBytes });
  }
  if (matched !== store.index.chunkCount()) {
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
        const p: PackProblem = { code: 'MISSING_CHUNK', message: `${store.root}: index entry of chunk ${chunk.slice(0, 16)} points at no such record (pack missing or damaged)`, chunk };
        problem(p);
        bad.set(chunk, p);
      }
    }
  }
  return res;
}

/** True when another record of `e`'s chunk in the same pack sits at `offset` (where the index points). */
function indexedCopyIn(entries: readonly PackEntry[], e: PackEntry, offset: number): boolean {
  return entries.some((o) => o !== e && o.offset === offset && o.id.equals(e.id));
}
