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
import { abortPoint } from '../errors/index.js';
import type { Warn } from '../errors/index.js';
import { type PackDamage, type Store, storeMaintenance } from '../store/index.js';
import { rewriteDamagedRecords, type RewrittenRecord } from './record-rescue.js';
import { checkStore, type CheckResult } from './store-check.js';

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
  const { findDamagedPacks, quarantineBlob, salvagePack } = await storeMaintenance();
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
  const damaged = new Map<string, PackDamage>();
  for (const [pack, reason] of badTrailer) damaged.set(pack, { reason, entries: null });
  res.packsVerified = await findDamagedPacks(store, damaged, { signal: opts.signal });

  // Salvage, index, quarantine: one damaged pack at a time (its bytes are held while salvaged).
  for (const [packId, d] of damaged) {
    await abortPoint(opts.signal);
    const { quarantined, salvaged, found, packsWritten } = await salvagePack(store, packId, d, damaged);
    res.packsWritten += packsWritten;
    const lost = d.entries ? d.entries.length - found : null;
    res.damagedPacks.push({ pack: packId, quarantined, reason: d.reason, salvaged, lost });
    opts.onWarn?.('QUARANTINED', `${quarantined}: damaged pack moved to quarantine (${d.reason}); ${found} intact chunks salvaged${lost !== null ? `, ${lost} lost` : ''}`, { pack: packId });
  }

  if (damaged.size > 0) await store.rebuildIndex(opts.onWarn);
  res.check = await checkStore(store, { signal: opts.signal });
  return res;
}
