/**
 * Salvage reads damaged packs, so it gets a seeded fuzz test: whatever is flipped, cut or
 * inserted, it never throws, every record it returns hashes to its id, and every record whose
 * bytes were left intact is recovered.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkCodec } from '../../lib/codec/codec.js';
import { blake3 } from '../../lib/hash/blake3.js';
import { encodePackHeader, encodeRecordHeader, encodeTrailer, type PackEntry } from '../../lib/store/pack-codec.js';
import { salvageRecords } from '../../lib/store/pack-salvage.js';
import { RECORD_HEADER_BYTES } from '../../lib/store/store-layout.js';
import { mulberry32, seededBytes } from '../helpers/seeded.js';

const codec = new ChunkCodec();

async function makePack(seed: number): Promise<{ pack: Buffer; entries: PackEntry[] }> {
  const r = mulberry32(seed);
  const parts: Buffer[] = [encodePackHeader()];
  const entries: PackEntry[] = [];
  let offset = parts[0].length;
  for (let i = 0; i < 12; i++) {
    const raw = i % 3 === 0 ? Buffer.alloc(1000 + Math.floor(r() * 5000), i) : seededBytes(500 + Math.floor(r() * 4000), seed * 100 + i);
    const z = i % 2 === 0 ? await codec.compress({ name: 'zstd', level: 3 }, raw) : null;
    const stored = z ? Buffer.from(z) : raw;
    const e: PackEntry = { id: blake3().hash(raw), type: i % 4 === 0 ? 1 : 0, codec: z ? 1 : 0, rawLength: raw.length, storedLength: stored.length, offset };
    entries.push(e);
    parts.push(encodeRecordHeader(e), stored);
    offset += RECORD_HEADER_BYTES + stored.length;
  }
  parts.push(encodeTrailer(entries, offset).trailer);
  return { pack: Buffer.concat(parts), entries };
}

test('salvage of an intact pack returns every record', async () => {
  const { pack, entries } = await makePack(1);
  const got = await salvageRecords(codec, pack);
  assert.equal(got.map((g) => g.entry.offset), entries.map((e) => e.offset));
});

test('salvage fuzz: flips, cuts and insertions never yield a wrong chunk and never lose an intact one', async () => {
  for (let round = 0; round < 60; round++) {
    const r = mulberry32(1000 + round);
    const { pack, entries } = await makePack(round);
    let bad = Buffer.from(pack);
    const touched: Array<[number, number]> = [];
    const kind = round % 3;
    if (kind === 0) {
      for (let k = 0; k < 1 + Math.floor(r() * 5); k++) { const at = Math.floor(r() * bad.length); bad[at] ^= 1 + Math.floor(r() * 255); touched.push([at, at + 1]); }
    } else if (kind === 1) {
      const cut = Math.floor(r() * bad.length);
      bad = bad.subarray(0, cut);
      touched.push([cut, Infinity]);
    } else {
      const at = 8 + Math.floor(r() * (bad.length - 8));
      const junk = seededBytes(1 + Math.floor(r() * 300), round);
      bad = Buffer.concat([bad.subarray(0, at), junk, bad.subarray(at)]);
      touched.push([at, at + 1]);
    }
    const got = await salvageRecords(codec, bad);
    for (const g of got) {
      const raw = await codec.decompress(g.entry.codec, g.stored, g.entry.rawLength);
      assert.ok(blake3().hash(Buffer.from(raw)).equals(g.entry.id), `round ${round}: salvaged a record that does not verify`);
    }
    const ids = new Set(got.map((g) => g.entry.id.toString('hex')));
    for (const e of entries) {
      const end = e.offset + RECORD_HEADER_BYTES + e.storedLength;
      const intact = touched.every(([a, b]) => (kind === 2 ? a >= end || a <= e.offset : b <= e.offset || a >= end));
      if (intact) assert.ok(ids.has(e.id.toString('hex')), `round ${round}: intact record at ${e.offset} lost`);
    }
  }
});

test.run();
