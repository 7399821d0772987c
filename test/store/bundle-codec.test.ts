/**
 * Bundles (formats/store.md §7.6), the pure parts and the readers of untrusted bytes: a member's
 * pointer and the bundle header checks refuse what the spec says to refuse; and a seeded fuzz of
 * a pack of bundles, flipped and cut, through the member reader (BundleCache) and salvage: never
 * an exception other than the damage it reports, never a byte that does not hash to its id.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkCodec } from '../../lib/codec/codec.js';
import { CODEC_BUNDLED, CODEC_IDS } from '../../lib/codec/codec-ids.js';
import { FormatError, IntegrityError } from '../../lib/errors/index.js';
import { blake3 } from '../../lib/hash/blake3.js';
import { bundleId, checkBundleHeader, decodeMemberPayload, encodeMemberPayload } from '../../lib/store/bundle-codec.js';
import { BundleCache } from '../../lib/store/bundle-cache.js';
import { ChunkBundler, writeBundle } from '../../lib/store/chunk-bundler.js';
import { decodeRecordHeader, type PackEntry } from '../../lib/store/pack-codec.js';
import { salvageRecords } from '../../lib/store/pack-salvage.js';
import { BUNDLE_MAX_RAW, CHUNK_BUNDLE, CHUNK_DATA, RECORD_HEADER_BYTES } from '../../lib/store/store-layout.js';
import { mulberry32 } from '../helpers/seeded.js';

const codec = new ChunkCodec();
const entry = (over: Partial<PackEntry>): PackEntry => ({ id: Buffer.alloc(32), type: CHUNK_BUNDLE, codec: CODEC_IDS.zstd, rawLength: 1000, storedLength: 400, offset: 8, ...over });

test('a member pointer round-trips, and one outside the records is refused', () => {
  const p = { back: 500, at: 123 };
  assert.equal(decodeMemberPayload(encodeMemberPayload(p), 600), p);
  assert.throws(() => decodeMemberPayload(Buffer.alloc(7), 600), /payload of 7 bytes/);
  assert.throws(() => decodeMemberPayload(encodeMemberPayload({ back: 43, at: 0 }), 600), /outside the records/);
  assert.throws(() => decodeMemberPayload(encodeMemberPayload({ back: 593, at: 0 }), 600), /outside the records/);
  assert.equal(decodeMemberPayload(encodeMemberPayload({ back: 592, at: 0 }), 600).back, 592);
});

test('a bundle header is refused unless it is a bundle that holds the member before it', () => {
  const p = { back: 500, at: 100 };
  checkBundleHeader(entry({}), 508, p, 900);
  assert.throws(() => checkBundleHeader(entry({ type: CHUNK_DATA }), 508, p, 900), /not a bundle/);
  assert.throws(() => checkBundleHeader(entry({ codec: CODEC_BUNDLED }), 508, p, 900), /codec/);
  assert.throws(() => checkBundleHeader(entry({ rawLength: BUNDLE_MAX_RAW + 1 }), 508, p, 900), /more than a bundle may/);
  assert.throws(() => checkBundleHeader(entry({ storedLength: 457 }), 508, p, 900), /overlaps/);
  assert.throws(() => checkBundleHeader(entry({}), 508, p, 901), /not the member/);
});

test('a bundle id names its members in order', () => {
  const a = blake3().hash(Buffer.from('a')), b = blake3().hash(Buffer.from('b'));
  assert.ok(bundleId([a, b]).equals(blake3().hash(Buffer.concat([a, b]))));
  assert.not.ok(bundleId([a, b]).equals(bundleId([b, a])));
});

/** A pack's records (no trailer) holding two bundles of text members and one ordinary record, as the writers make them. */
function makeRecords(seed: number): { bytes: Buffer; entries: PackEntry[]; raws: Map<string, Buffer> } {
  const r = mulberry32(seed);
  const records: Buffer[] = [Buffer.from('FXPK\x01\x00\x00\x00', 'latin1')];
  const entries: PackEntry[] = [];
  let size = 8;
  const pack = {
    get size() { return size; },
    add(id: Buffer, type: number, c: number, rawLength: number, stored: Uint8Array) {
      const e = { id, type, codec: c, rawLength, storedLength: stored.byteLength, offset: size };
      const header = Buffer.alloc(RECORD_HEADER_BYTES);
      id.copy(header, 0); header[32] = type; header[33] = c; header.writeUInt32LE(rawLength, 36); header.writeUInt32LE(stored.byteLength, 40);
      records.push(header, Buffer.from(stored));
      entries.push(e);
      size += RECORD_HEADER_BYTES + stored.byteLength;
    },
  };
  const raws = new Map<string, Buffer>();
  for (let b = 0; b < 2; b++) {
    const bundler = new ChunkBundler();
    for (let i = 0; i < 3 + Math.floor(r() * 4); i++) {
      const raw = Buffer.from(`member ${seed}.${b}.${i} `.repeat(20 + Math.floor(r() * 200)));
      const id = blake3().hash(raw);
      raws.set(id.toString('hex'), raw);
      bundler.add(id, raw);
    }
    const m = bundler.take();
    const stored = codec.compressTransientSync({ name: 'zstd', level: 3 }, m.raw);
    writeBundle(pack as never, m, stored && { codec: CODEC_IDS.zstd, stored: Buffer.from(stored) });
    const plain = Buffer.from(`an ordinary record ${seed}.${b}`);
    pack.add(blake3().hash(plain), CHUNK_DATA, CODEC_IDS.none, plain.length, plain);
  }
  return { bytes: Buffer.concat(records), entries, raws };
}

test('member reader fuzz: flips and cuts never yield a wrong byte, and fail only as damage', () => {
  for (let round = 0; round < 200; round++) {
    const r = mulberry32(5000 + round);
    const { bytes, entries, raws } = makeRecords(round);
    let bad = Buffer.from(bytes);
    if (round % 4 === 3) bad = bad.subarray(0, Math.floor(r() * bad.length));
    else for (let k = 0; k < 1 + Math.floor(r() * 4); k++) bad[Math.floor(r() * bad.length)] ^= 1 + Math.floor(r() * 255);
    const cache = new BundleCache(codec, round % 2 === 0);
    const read = (at: number, length: number): Buffer => {
      if (at < 0 || at + length > bad.length) throw new FormatError(`read past the end at ${at}`);
      return Buffer.from(bad.subarray(at, at + length));
    };
    for (const e of entries.filter((x) => x.codec === CODEC_BUNDLED)) {
      try {
        const rec = read(e.offset, RECORD_HEADER_BYTES + e.storedLength);
        const h = decodeRecordHeader(rec, e.offset);
        const got = cache.memberSync('fuzz', e.id, { ...e, codec: h.codec }, rec.subarray(RECORD_HEADER_BYTES), read);
        assert.ok(Buffer.from(got).equals(raws.get(e.id.toString('hex'))!), `round ${round}: a member read is its bytes`);
      } catch (err) {
        assert.ok(err instanceof IntegrityError || err instanceof FormatError, `round ${round}: ${(err as Error).stack}`);
      }
    }
  }
});

test('salvage fuzz with bundles: every member it yields hashes to its id; an intact pack yields every member', async () => {
  const intact = makeRecords(1);
  const all = await salvageRecords(codec, intact.bytes);
  assert.is(all.filter((s) => s.member).length, intact.entries.filter((e) => e.codec === CODEC_BUNDLED).length);
  assert.not.ok(all.some((s) => s.entry.type === CHUNK_BUNDLE), 'a bundle itself is never yielded');
  for (let round = 0; round < 60; round++) {
    const r = mulberry32(9000 + round);
    const { bytes } = makeRecords(round);
    const bad = Buffer.from(bytes);
    for (let k = 0; k < 1 + Math.floor(r() * 4); k++) bad[8 + Math.floor(r() * (bad.length - 8))] ^= 1 + Math.floor(r() * 255);
    for (const s of await salvageRecords(codec, bad)) {
      const raw = s.member ? s.stored : codec.decompressSync(s.entry.codec, s.stored, s.entry.rawLength);
      assert.ok(blake3().hash(raw).equals(s.entry.id), `round ${round}: salvaged bytes hash to their id`);
    }
  }
});

test.run();
