/**
 * What the index says of one pack, summed: `store check` compares it with the pack's trailer
 * instead of looking every record up. A lookup per record, in pack order, reads the index's
 * leaves at random: at 3,000,000 small files that was 3.2M random page reads through the map
 * (a check of 128-260 s, most of it page faults); the sums come from one pass over the index
 * in key order (`indexDigests`).
 *
 * A pack agrees with the index when the index locates exactly as many chunks in it as its
 * trailer lists, and three sums over those entries match: each entry's id words mixed with its
 * offset, stored length, raw length and codec. Any entry that differs (a wrong offset, length or
 * codec, another id, a record the index locates elsewhere) changes the count or a sum, except
 * by a coincidence of 96 bits of damage; a pack that does not agree is judged record by record.
 * Sums of 32-bit words stay exact in doubles: a pack holds under 2^21 records.
 */
import type { PackEntry } from './pack-codec.js';
import { CHUNK_BUNDLE } from './store-layout.js';

export interface PackDigest { count: number; a: number; b: number; c: number }

type DigestEntry = Pick<PackEntry, 'id' | 'offset' | 'storedLength' | 'rawLength' | 'codec'>;

/** Adds one entry to `d`. */
export function addToDigest(d: PackDigest, e: DigestEntry): void {
  d.count++;
  d.a += (e.id.readUInt32LE(0) ^ e.offset) >>> 0;
  d.b += (e.id.readUInt32LE(4) ^ e.storedLength) >>> 0;
  d.c += (e.id.readUInt32LE(8) ^ e.rawLength ^ Math.imul(e.codec + 1, 0x9e3779b1)) >>> 0;
}

export function emptyDigest(): PackDigest {
  return { count: 0, a: 0, b: 0, c: 0 };
}

/** Per pack number, the digest of the index's entries that point into it (one pass in key order). */
export function indexDigests(chunks: Iterable<DigestEntry & { packNo: number }>): Map<number, PackDigest> {
  const digests = new Map<number, PackDigest>();
  for (const c of chunks) {
    let d = digests.get(c.packNo);
    if (!d) digests.set(c.packNo, (d = emptyDigest()));
    addToDigest(d, c);
  }
  return digests;
}

/** True when `entries` (a pack's trailer) are exactly what the index's digest of that pack sums. */
export function trailerAgrees(d: PackDigest | undefined, entries: readonly (DigestEntry & Partial<Pick<PackEntry, 'type'>>)[]): boolean {
  if (!d) return false;
  const t = emptyDigest();
  // Bundles are not chunks: the index holds none (formats/store.md §7.6).
  for (const e of entries) if (e.type !== CHUNK_BUNDLE) addToDigest(t, e);
  return t.count === d.count && t.a === d.a && t.b === d.b && t.c === d.c;
}
