/**
 * Repair's part inside the store (the orchestration, which reads snapshot records and trees, is
 * lib/snapshot/store-repair.ts): find the packs that are damaged, and salvage each one.
 *
 * Damaged: a trailer that does not verify (found by the index rebuild, or here), or any record
 * that does not decode to its id. Salvage, one pack at a time (its bytes are held meanwhile):
 * the pack is first copied (durably) into quarantine/, every intact record found by scanning it
 * (pack-salvage.ts) that is not intact elsewhere is copied into new packs (RepackRecords), the
 * new packs replace the damaged one in the index, and only then does the damaged pack leave
 * packs/. A crash midway loses nothing: the original is still in packs/ or in quarantine/.
 */
import { abortPoint } from '../errors/index.js';
import { ChunkCodec } from '../codec/codec.js';
import type { Store } from './chunk-store.js';
import type { PackEntry } from './pack-codec.js';
import { salvageRecords } from './pack-salvage.js';
import { quarantineCopy } from './quarantine.js';
import { RepackRecords } from './repack-records.js';

export interface PackDamage { reason: string; entries: PackEntry[] | null }

export interface SalvagedPack { quarantined: string; salvaged: number; found: number; packsWritten: number }

/**
 * Reads every pack not already known damaged (`damaged`: pack id → damage, filled in here) and
 * verifies each record; returns how many packs were read whole.
 */
export async function findDamagedPacks(store: Store, damaged: Map<string, PackDamage>, opts: { signal?: AbortSignal } = {}): Promise<number> {
  let verified = 0;
  for await (const packId of store.storage.list('pack')) {
    await abortPoint(opts.signal);
    if (damaged.has(packId)) continue;
    let entries: PackEntry[];
    try {
      entries = await store.packEntries(packId);
    } catch (err) {
      damaged.set(packId, { reason: (err as Error).message, entries: null });
      continue;
    }
    verified++;
    for (const e of entries) {
      try {
        await store.verifyRecord(packId, e);
      } catch (err) {
        damaged.set(packId, { reason: (err as Error).message, entries });
        break;
      }
    }
  }
  return verified;
}

/**
 * Salvages the damaged pack `packId` (see the header). A record whose chunk the index finds in
 * another pack that is not damaged is left to that copy.
 */
export async function salvagePack(store: Store, packId: string, d: PackDamage, damaged: ReadonlyMap<string, PackDamage>): Promise<SalvagedPack> {
  const bytes = await store.storage.get('pack', packId);
  const quarantined = await quarantineCopy(store, 'pack', packId, bytes);
  const records = await salvageRecords(new ChunkCodec(), bytes);
  let sealedIds = new Set<string>();
  const repack = new RepackRecords(store);
  let salvaged = 0;
  let packsWritten = 0;
  try {
    for (const { entry, stored, member } of records) {
      const loc = store.index.getChunk(entry.id);
      if (loc && loc.packId !== packId && !damaged.has(loc.packId)) continue; // intact elsewhere
      if (member) await repack.addMember(entry.id, stored);
      else await repack.add(entry, stored);
      salvaged++;
    }
    const sealed = await repack.seal();
    const packNo = store.index.packNo(packId);
    await repack.swap(sealed, packNo === undefined ? [] : [{ packNo, entries: d.entries ?? [] }]);
    packsWritten = sealed.length;
    sealedIds = new Set(sealed.map((p) => p.packId));
  } finally {
    await repack.abort();
  }
  // A salvage that rebuilt the pack byte for byte (only its trailer checksum was hit) has
  // already replaced it under the same name; otherwise the damaged original goes.
  if (!sealedIds.has(packId)) await store.storage.remove('pack', packId);
  return { quarantined, salvaged, found: records.length, packsWritten };
}
