/**
 * Gc's sweep: given the set of live chunk ids (marked from every kept snapshot's trees), frees
 * the space of everything else. Per pack, from its trailer:
 * - no live record: the pack is dropped from the index, then its file is deleted;
 * - garbage ≥ `repackThreshold` of the pack's bytes: its live records are copied, as stored
 *   (no recompression; bundle members are bundled anew) but verified against their ids, into
 *   new packs; the new packs are
 *   durable and indexed, in the same transaction that drops the old ones, before the old
 *   files are deleted;
 * - a duplicate record (a second copy of a chunk the index locates elsewhere: two writers
 *   stored it at once) makes its pack repacked whatever its garbage, unless the threshold is
 *   above 1 (`--repack-threshold 100%`: only delete): a store holds each chunk once after gc,
 *   which `store check` confirms (it counts duplicates; issue 25);
 * - otherwise it is left alone (its garbage is reported as `garbageKeptBytes`).
 * A record is live when its id is marked and the index points at this very record: a second
 * copy of a chunk (two writers stored it at once, or a pack a crash left unindexed) is garbage.
 *
 * Order and crash safety (formats/store.md §Garbage collection): new pack files → one index
 * transaction → delete old files. A kill at any point leaves every indexed chunk readable; what
 * it can leave is an unindexed pack, which the next gc indexes and finds to be all garbage.
 *
 * How packs are judged: one pass over the index in key order first counts, per pack, the
 * records it locates there and how many of them are live (`tallyPacks`). A pack whose every
 * record the index locates there (its trailer's count) is judged from those counts alone;
 * only a pack to delete or repack, or one holding records the index does not locate there
 * (duplicates, unindexed copies), has its trailer read and each record looked up. At 3,000,000
 * small files one lookup per record, in pack order, was ~3.2M random leaf reads through the
 * index's map (a prune took 98 s, 29 s of it system time in page faults); the pass reads each
 * page once. The index is written from the trailers, so "every record located there" means the
 * same records; an index that disagrees with a pack is damage, which `store check` reports.
 *
 * Memory: the tallies (a few numbers per pack), one pack's trailer at a time plus the batch of
 * packs waiting for one index commit (their trailers: 48 bytes a record), and the pack writers'
 * 1 MiB write buffers.
 */
import { forEachLimit } from '../util/for-each-limit.js';
import { killPoint } from '../util/kill-point.js';
import type { Store } from './chunk-store.js';
import type { PackEntry } from './pack-codec.js';
import { RepackRecords } from './repack-records.js';
import type { Warn } from '../errors/index.js';
import { CHUNK_BUNDLE, DEFAULT_REPACK_THRESHOLD, RECORD_HEADER_BYTES } from './store-layout.js';
import { CODEC_BUNDLED } from '../codec/codec-ids.js';
import { abortPoint } from '../errors/index.js';
import { startPhase, type Progress } from '../util/progress.js';

/** Dropped packs are committed to the index in batches of this many (each commit is an fsync of the index and of new packs; a batch holds only trailers, 48 bytes a record). */
const BATCH_PACKS = 4096;

export interface SweepOptions {
  dryRun?: boolean;
  /** Fraction of a pack's bytes that must be garbage before it is repacked (0..1; > 1 never). */
  repackThreshold?: number;
  onWarn?: Warn;
  signal?: AbortSignal;
  /** Live counters: packs judged and their bytes, against every indexed pack (a pack counts when its turn starts). */
  progress?: Progress;
}

export interface SweepResult {
  packs: number;
  packsDeleted: number;
  packsRepacked: number;
  packsWritten: number;
  /** Bytes of pack files deleted, minus the bytes of the packs written to replace them. */
  freedBytes: number;
  garbageChunks: number;
  /** Garbage left in packs under the repack threshold. */
  garbageKeptBytes: number;
  liveChunks: number;
  damagedPacks: string[];
}

interface OldPack { packNo: number; packId: string; size: number; entries: PackEntry[] }

/** Per pack: the records the index locates in it, how many of those are live, and their bytes (headers included). */
interface PackTally { here: number; live: number; hereBytes: number; liveBytes: number }

/** One pass over the index: each pack's tally (sweepPacks says why). */
export function tallyPacks(store: Store, live: { has(id: Uint8Array): boolean }): Map<number, PackTally> {
  const tallies = new Map<number, PackTally>();
  for (const c of store.index.listChunks()) {
    let t = tallies.get(c.packNo);
    if (!t) tallies.set(c.packNo, (t = { here: 0, live: 0, hereBytes: 0, liveBytes: 0 }));
    // A bundle member's payload only points into its bundle: its share of the bundle counts.
    const bytes = RECORD_HEADER_BYTES + c.storedBytes;
    t.here++;
    t.hereBytes += bytes;
    if (live.has(c.id)) { t.live++; t.liveBytes += bytes; }
  }
  return tallies;
}

export async function sweepPacks(store: Store, live: { has(id: Uint8Array): boolean }, opts: SweepOptions = {}): Promise<SweepResult> {
  const threshold = opts.repackThreshold ?? DEFAULT_REPACK_THRESHOLD;
  const res: SweepResult = {
    packs: 0, packsDeleted: 0, packsRepacked: 0, packsWritten: 0, freedBytes: 0, garbageChunks: 0, garbageKeptBytes: 0, liveChunks: 0, damagedPacks: [],
  };
  const packs = [...store.index.listPacks()].map(({ packNo, info }) => ({ packNo, packId: info.id, size: info.size, count: info.count }));
  const tallies = tallyPacks(store, live);
  const repack = new RepackRecords(store);
  let batch: OldPack[] = [];
  const progress = opts.progress;
  startPhase(progress, 'sweep', 'packs', packs.length, packs.reduce((s, p) => s + p.size, 0));

  const commit = async () => {
    if (batch.length === 0) return;
    const sealed = await repack.seal();
    killPoint('gc:after-repack-write');
    // A repack can rebuild a pack byte for byte (an unindexed copy a killed gc wrote, now
    // judged again): that pack is the new one, not one to delete.
    const fresh = new Set(sealed.map((s) => s.packId));
    batch = batch.filter((p) => !fresh.has(p.packId));
    await repack.swap(sealed, batch);
    killPoint('gc:after-index');
    await forEachLimit(batch, 32, async (p) => {
      await store.storage.remove('pack', p.packId);
      killPoint('gc:after-delete');
    });
    res.packsWritten += sealed.length;
    res.freedBytes += batch.reduce((s, p) => s + p.size, 0) - sealed.reduce((s, p) => s + p.size, 0);
    batch = [];
  };

  try {
    for (const p of packs) {
      await abortPoint(opts.signal);
      res.packs++;
      if (progress) { progress.files++; progress.bytes += p.size; }
      const t = tallies.get(p.packNo);
      if (t && p.count > 0 && t.here === p.count) {
        const garbageBytes = t.hereBytes - t.liveBytes;
        if (t.live === p.count || (t.live > 0 && garbageBytes < threshold * p.size)) {
          res.liveChunks += t.live;
          res.garbageChunks += p.count - t.live;
          res.garbageKeptBytes += garbageBytes;
          continue;
        }
      }
      let entries: PackEntry[];
      try {
        entries = await store.packEntries(p.packId);
      } catch (err) {
        // Never delete what cannot be read: check names it, repair salvages it.
        res.damagedPacks.push(p.packId);
        opts.onWarn?.('DAMAGED_PACK', `${(err as Error).message}; left alone (run 'fxcp store check')`, { pack: p.packId });
        continue;
      }
      const keep: PackEntry[] = [];
      let garbageBytes = 0;
      let duplicates = 0;
      let chunks = 0;
      for (const e of entries) {
        // A bundle is kept through its live members, which are bundled anew (repack-records.ts).
        if (e.type === CHUNK_BUNDLE) continue;
        chunks++;
        const loc = store.index.getChunk(e.id);
        // A marked chunk the index does not know is kept wherever it is found (it is copied
        // and indexed on repack): gc never loses a chunk a snapshot needs.
        const here = loc ? loc.packNo === p.packNo && loc.offset === e.offset : true;
        if (!here) duplicates++;
        if (live.has(e.id) && here) keep.push(e);
        else { garbageBytes += RECORD_HEADER_BYTES + (here && loc ? loc.storedBytes : e.storedLength); res.garbageChunks++; }
      }
      res.liveChunks += keep.length;
      if (keep.length === chunks && chunks > 0) continue;
      const dropDuplicates = duplicates > 0 && threshold <= 1;
      if (keep.length > 0 && garbageBytes < threshold * p.size && !dropDuplicates) { res.garbageKeptBytes += garbageBytes; continue; }
      if (keep.length === 0) res.packsDeleted++;
      else res.packsRepacked++;
      if (opts.dryRun) {
        res.freedBytes += keep.length === 0 ? p.size : garbageBytes;
        continue;
      }
      try {
        for (const e of keep) {
          if (e.codec === CODEC_BUNDLED) await repack.addMember(e.id, await store.readVerifiedMember(p.packId, e));
          else await repack.add(e, await store.readVerifiedRecord(p.packId, e));
        }
      } catch (err) {
        // A damaged live record: the pack stays as it is (what was copied so far is a second,
        // unindexed copy, garbage for the next gc); check and repair deal with the damage.
        if (keep.length === 0) res.packsDeleted--;
        else res.packsRepacked--;
        res.damagedPacks.push(p.packId);
        opts.onWarn?.('DAMAGED_PACK', `${(err as Error).message}; pack left alone (run 'fxcp store check')`, { pack: p.packId });
        continue;
      }
      batch.push({ ...p, entries });
      // Writers are sealed only between old packs, so every old pack in a batch is wholly
      // copied into packs that the batch's commit indexes.
      if (batch.length >= BATCH_PACKS || repack.full) await commit();
    }
    await commit();
  } finally {
    await repack.abort();
  }
  return res;
}
