/**
 * `store repair`: rebuild the index, salvage what is intact from damaged packs, quarantine
 * (never delete) what cannot be used, and say which snapshots and files lost what.
 *
 * 1. Rebuild the index from pack trailers and snapshot records (damaged ones are skipped);
 *    before the old index goes, damaged records it holds a good copy of are written again.
 * 2. Quarantine snapshot records that do not verify (they cannot be used at all).
 * 3. Verify every record of every pack. A pack with a damaged trailer or any damaged record is
 *    damaged: its records that still verify are copied into new packs (as stored), the new
 *    packs are made durable and indexed in the same transaction that drops the damaged pack,
 *    then the damaged pack leaves packs/ (a copy was written to quarantine/ first). Intact packs are not touched.
 * 4. Rebuild the index again (a chunk whose indexed copy was damaged may have an intact copy
 *    in another pack, which the rebuild now finds), then run the structure check: its
 *    problems name the snapshots and files that lost chunks.
 *
 * Snapshots that lost chunks are kept, not rewritten: a restore of one restores every intact
 * file and names each damaged one (RESTORE_ERROR, exit 1), and `store check` keeps reporting
 * them (docs/lifecycle.md §Repair). The caller holds the exclusive lock.
 */
import { ChunkCodec } from '../codec/codec.js';
import type { Store } from '../store/chunk-store.js';
import { checkRecord, decodeVerified } from '../store/chunk-verify.js';
import type { PackEntry } from '../store/pack-codec.js';
import { readPackEntries } from '../store/pack-reader.js';
import { salvageRecords } from '../store/pack-salvage.js';
import { PackWriter, type SealedPack } from '../store/pack-writer.js';
import { quarantineBlob, quarantineCopy } from '../store/quarantine.js';
import type { Warn } from '../errors/index.js';
import { RECORD_HEADER_BYTES } from '../store/store-layout.js';
import { rewriteDamagedRecords, type RewrittenRecord } from './record-rescue.js';
import { checkStore, type CheckResult } from './store-check.js';
import { abortPoint } from '../errors/index.js';

export interface RepairedPack { pack: string; quarantined: string; reason: string; salvaged: number; lost: number | null }

export interface RepairResult {
  packsVerified: number;
  damagedPacks: RepairedPack[];
  /** Damaged records written again from the old index's verified copy (record-rescue.ts). */
  rewrittenSnapshots: RewrittenRecord[];
  quarantinedSnapshots: Array<{ snapshot: string; quarantined: string; reason: string }>;
  packsWritten: number;
  check: CheckResult;
}

export async function repairStore(store: Store, opts: { onWarn?: Warn; signal?: AbortSignal } = {}): Promise<RepairResult> {
  const codec = new ChunkCodec();
  const badTrailer = new Map<string, string>();
  const badRecords = new Map<string, string>();
  let rewrittenSnapshots: RewrittenRecord[] = [];
  await store.rebuildIndex((code, message, data) => {
    if (code === 'DAMAGED_PACK' && typeof data?.pack === 'string') badTrailer.set(data.pack, message);
    else if (code === 'DAMAGED_SNAPSHOT' && typeof data?.snapshot === 'string') badRecords.set(data.snapshot, message);
    else opts.onWarn?.(code, message, data);
  }, { rescue: async (old) => { rewrittenSnapshots = await rewriteDamagedRecords(store, old, opts.onWarn); } });
  const res: RepairResult = { packsVerified: 0, damagedPacks: [], rewrittenSnapshots, quarantinedSnapshots: [], packsWritten: 0, check: undefined as unknown as CheckResult };

  for (const [snapshot, reason] of badRecords) {
    res.quarantinedSnapshots.push({ snapshot, reason, quarantined: await quarantineBlob(store, 'snapshot', snapshot) });
  }

  // Find damaged packs: a bad trailer, or any record that does not verify.
  const damaged = new Map<string, { reason: string; entries: PackEntry[] | null }>();
  for (const [pack, reason] of badTrailer) damaged.set(pack, { reason, entries: null });
  for await (const packId of store.storage.list('pack')) {
    await abortPoint(opts.signal);
    if (damaged.has(packId)) continue;
    const where = store.storage.describe('pack', packId);
    let entries: PackEntry[];
    try {
      entries = await readPackEntries(store.storage, packId);
    } catch (err) {
      damaged.set(packId, { reason: (err as Error).message, entries: null });
      continue;
    }
    res.packsVerified++;
    for (const e of entries) {
      try {
        const rec = await store.storage.readRange('pack', packId, e.offset, RECORD_HEADER_BYTES + e.storedLength);
        await decodeVerified(codec, where, e.id, e, checkRecord(where, e.id, e, rec));
      } catch (err) {
        damaged.set(packId, { reason: (err as Error).message, entries });
        break;
      }
    }
  }

  // Salvage, index, quarantine: one damaged pack at a time (its bytes are held while salvaged).
  for (const [packId, d] of damaged) {
    await abortPoint(opts.signal);
    const bytes = await store.storage.get('pack', packId);
    const quarantined = await quarantineCopy(store, 'pack', packId, bytes);
    const records = await salvageRecords(codec, bytes);
    let sealedIds = new Set<string>();
    const writers = new Map<number, PackWriter>();
    let salvaged = 0;
    try {
      for (const { entry, stored } of records) {
        const loc = store.index.getChunk(entry.id);
        if (loc && loc.packId !== packId && !damaged.has(loc.packId)) continue; // intact elsewhere
        let w = writers.get(entry.type);
        if (!w) writers.set(entry.type, (w = await PackWriter.open(store.storage)));
        w.add(entry.id, entry.type, entry.codec, entry.rawLength, stored);
        salvaged++;
      }
      const sealed: SealedPack[] = [];
      for (const w of writers.values()) sealed.push(await w.seal());
      writers.clear();
      const packNo = store.index.packNo(packId);
      await store.index.replacePacks(sealed, packNo === undefined ? [] : [{ packNo, entries: d.entries ?? [] }]);
      await store.index.flushed();
      res.packsWritten += sealed.length;
      sealedIds = new Set(sealed.map((p) => p.packId));
    } finally {
      for (const w of writers.values()) await w.abort();
    }
    // A salvage that rebuilt the pack byte for byte (only its trailer checksum was hit) has
    // already replaced it under the same name; otherwise the damaged original goes.
    if (!sealedIds.has(packId)) await store.storage.remove('pack', packId);
    const lost = d.entries ? d.entries.length - records.length : null;
    res.damagedPacks.push({ pack: packId, quarantined, reason: d.reason, salvaged, lost });
    opts.onWarn?.('QUARANTINED', `${quarantined}: damaged pack moved to quarantine (${d.reason}); ${records.length} intact chunks salvaged${lost !== null ? `, ${lost} lost` : ''}`, { pack: packId });
  }

  if (damaged.size > 0) await store.rebuildIndex(opts.onWarn);
  res.check = await checkStore(store, { signal: opts.signal });
  return res;
}
