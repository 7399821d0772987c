// StoreIndex on LMDB in a temp dir: chunk locations, duplicates, totals, snapshots, reopen.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blake3 } from '../../lib/hash/blake3.js';
import { readIndexLayout } from '../../lib/index/index-file-check.js';
import { lmdbDamage, StoreIndex } from '../../lib/index/store-index.js';
import type { PackEntry } from '../../lib/store/pack-codec.js';
import { CHUNK_BUNDLE } from '../../lib/store/store-layout.js';
import { CODEC_BUNDLED } from '../../lib/codec/codec-ids.js';
import { native } from '../../lib/native/load.js';
import { MapBudget } from '../../lib/index/map-budget.js';
import { seededBytes } from '../helpers/seeded.js';

let dir = '';
let n = 0;
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-index-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });
const fresh = () => join(dir, `idx-${n++}`);

const cid = (s: string) => blake3().hash(Buffer.from(s));
const packId = (s: string) => cid(`pack ${s}`).toString('hex');
function pe(s: string, offset: number, extra: Partial<PackEntry> = {}): PackEntry {
  return { id: cid(s), type: 0, codec: 1, rawLength: 1000, storedLength: 400, offset, ...extra };
}

test('addPack then getChunk returns exactly the location fields', async () => {
  const idx = StoreIndex.open(fresh());
  const p = packId('one');
  const entries = [
    pe('a', 8, { rawLength: 0xffffffff, storedLength: 0xfffffffe, codec: 4, type: 1 }),
    pe('b', 0x7fff_0000, { rawLength: 1, storedLength: 1, codec: 0, type: 0 }),
  ];
  await idx.addPack(p, 123_456, entries);
  assert.equal(idx.getChunk(cid('a')), { packNo: 1, packId: p, offset: 8, storedLength: 0xfffffffe, rawLength: 0xffffffff, codec: 4, type: 1, storedBytes: 0xfffffffe });
  assert.equal(idx.getChunk(cid('b')), { packNo: 1, packId: p, offset: 0x7fff_0000, storedLength: 1, rawLength: 1, codec: 0, type: 0, storedBytes: 1 });
  // Two reads in a row do not alias each other's values.
  const a = idx.getChunk(cid('a'))!;
  const b = idx.getChunk(cid('b'))!;
  assert.is(a.offset, 8);
  assert.is(b.offset, 0x7fff_0000);
  assert.is(idx.getChunk(cid('missing')), undefined);
  assert.is(idx.hasChunk(cid('a')), true);
  assert.is(idx.hasChunk(cid('missing')), false);
  assert.is(idx.hasPack(p), true);
  assert.is(idx.hasPack(packId('nope')), false);
  assert.is(idx.packId(1), p);
  assert.throws(() => idx.packId(99), /pack #99/);
  await idx.close();
});

test('duplicate chunk across two packs keeps the first; totals count each chunk once', async () => {
  const idx = StoreIndex.open(fresh());
  const p1 = packId('p1'), p2 = packId('p2');
  await idx.addPack(p1, 1000, [pe('x', 8, { rawLength: 100, storedLength: 50 }), pe('y', 102, { rawLength: 200, storedLength: 80 })]);
  await idx.addPack(p2, 2000, [pe('y', 8, { rawLength: 200, storedLength: 90 }), pe('z', 142, { rawLength: 300, storedLength: 300, codec: 0 })]);
  const y = idx.getChunk(cid('y'))!;
  assert.is(y.packId, p1);
  assert.is(y.packNo, 1);
  assert.is(y.offset, 102);
  assert.is(y.storedLength, 80);
  const z = idx.getChunk(cid('z'))!;
  assert.is(z.packId, p2);
  assert.is(z.packNo, 2);
  assert.equal(idx.totals(), { chunks: 3, rawBytes: 600, storedBytes: 430, packs: 2, packBytes: 3000 });
  // Adding the same pack again changes nothing.
  await idx.addPack(p2, 2000, [pe('w', 8)]);
  assert.is(idx.hasChunk(cid('w')), false);
  assert.equal(idx.totals(), { chunks: 3, rawBytes: 600, storedBytes: 430, packs: 2, packBytes: 3000 });
  const packs = [...idx.listPacks()];
  assert.equal(packs, [{ packNo: 1, info: { id: p1, size: 1000, count: 2 } }, { packNo: 2, info: { id: p2, size: 2000, count: 2 } }]);
  await idx.close();
});

/** The id of the index file's last committed transaction (the newer of its two meta pages). */
function lastTxn(idx: StoreIndex): bigint {
  const fd = openSync(idx.file, 'r');
  try {
    return readIndexLayout(fd).metas.reduce((a, m) => (m.txnid > a ? m.txnid : a), 0n);
  } finally {
    closeSync(fd);
  }
}

test('a pack of 2,500 chunks is indexed in ten transactions of at most 256 (LMDB keeps each transaction\'s copied pages, and frees the pages copied from only commits later), every chunk found', async () => {
  const idx = StoreIndex.open(fresh());
  await idx.addPack(packId('first'), 10, [pe('first', 8)]);
  const before = lastTxn(idx);
  const entries = Array.from({ length: 2500 }, (_, i) => pe(`big ${i}`, 8 + i * 100, { rawLength: 10, storedLength: 5 }));
  await idx.addPack(packId('big'), 250_008, entries);
  assert.is(lastTxn(idx) - before, 10n);
  for (let i = 0; i < 2500; i++) assert.is(idx.getChunk(cid(`big ${i}`))?.offset, 8 + i * 100, `chunk ${i}`);
  assert.equal(idx.totals(), { chunks: 2501, rawBytes: 26000, storedBytes: 12900, packs: 2, packBytes: 250_018 });
  assert.equal([...idx.listPacks()][1], { packNo: 2, info: { id: packId('big'), size: 250_008, count: 2500 } });
  await idx.close();
});

test('once an index has added 131,072 chunks by packs, a pack goes 1,024 chunks to a transaction (each commit waits for the last one\'s sync)', async () => {
  const idx = StoreIndex.open(fresh());
  const ids = seededBytes(32 * 136_000, 9);
  const entry = (i: number): PackEntry => ({ id: ids.subarray(i * 32, i * 32 + 32), offset: 8 + i, storedLength: 5, rawLength: 10, codec: 1, type: 0 });
  await idx.addPack(packId('bulk 1'), 10, Array.from({ length: 131_072 }, (_, i) => entry(i)));
  const before = lastTxn(idx);
  await idx.addPack(packId('bulk 2'), 10, Array.from({ length: 4_096 }, (_, i) => entry(131_072 + i)));
  assert.is(lastTxn(idx) - before, 4n);
  assert.is(idx.getChunk(ids.subarray(135_000 * 32, 135_001 * 32))?.offset, 8 + 135_000);
  assert.is(idx.totals().chunks, 135_168);
  await idx.close();
});

test('a chunk listed twice in one pack keeps its first location', async () => {
  const idx = StoreIndex.open(fresh());
  await idx.addPack(packId('dup'), 500, [pe('d', 8, { storedLength: 10 }), pe('d', 62, { storedLength: 11 })]);
  assert.is(idx.getChunk(cid('d'))!.offset, 8);
  assert.is(idx.totals().chunks, 1);
  await idx.close();
});

test('a bundle is not indexed; its members are, each with its share of the bundle\'s stored bytes (formats/store.md §10)', async () => {
  const idx = StoreIndex.open(fresh());
  const p = packId('bundled');
  // A bundle of 3,000 raw bytes stored in 1,001, then its members of 1,000 and 2,000 bytes, then an ordinary chunk.
  await idx.addPack(p, 5000, [
    pe('bundle', 8, { type: CHUNK_BUNDLE, rawLength: 3000, storedLength: 1001 }),
    pe('m1', 1053, { codec: CODEC_BUNDLED, rawLength: 1000, storedLength: 8 }),
    pe('m2', 1105, { codec: CODEC_BUNDLED, rawLength: 2000, storedLength: 8 }),
    pe('plain', 1157),
  ]);
  assert.is(idx.getChunk(cid('bundle')), undefined);
  assert.equal(idx.getChunk(cid('m1')), { packNo: 1, packId: p, offset: 1053, storedLength: 8, rawLength: 1000, codec: CODEC_BUNDLED, type: 0, storedBytes: 8 + 333 });
  assert.is(idx.getChunk(cid('m2'))!.storedBytes, 8 + 667);
  assert.equal(idx.totals(), { chunks: 3, rawBytes: 4000, storedBytes: 8 + 333 + 8 + 667 + 400, packs: 1, packBytes: 5000 });
  assert.equal([...idx.listPacks()].map((x) => x.info.count), [3], 'a pack counts its chunk records');
  assert.equal([...idx.listChunks()].map((c) => c.storedBytes).sort((a, b) => a - b), [341, 400, 675]);
  // Removing the pack takes the shares back out.
  await idx.replacePacks([], [{ packNo: 1, entries: [pe('bundle', 8, { type: CHUNK_BUNDLE }), pe('m1', 1053, { codec: CODEC_BUNDLED }), pe('m2', 1105, { codec: CODEC_BUNDLED }), pe('plain', 1157)] }]);
  assert.equal(idx.totals(), { chunks: 0, rawBytes: 0, storedBytes: 0, packs: 0, packBytes: 0 });
  await idx.close();
});

test('empty index: zero totals, nothing listed', async () => {
  const idx = StoreIndex.open(fresh());
  assert.equal(idx.totals(), { chunks: 0, rawBytes: 0, storedBytes: 0, packs: 0, packBytes: 0 });
  assert.equal([...idx.listSnapshots()], []);
  assert.equal([...idx.listPacks()], []);
  await idx.close();
});

test('snapshots: put, list (sorted by id), remove', async () => {
  const idx = StoreIndex.open(fresh());
  const r1 = { time: '2024-01-01T00:00:00Z', tags: ['a'], root: 'ab'.repeat(32), stats: { files: 3 } };
  const r2 = { time: '2024-02-01T00:00:00Z', tags: [], root: 'cd'.repeat(32), stats: { files: 0 } };
  await idx.putSnapshot('bbbb0000', r2);
  await idx.putSnapshot('aaaa0000', r1);
  assert.is(idx.hasSnapshot('aaaa0000'), true);
  assert.equal([...idx.listSnapshots()], [{ id: 'aaaa0000', record: r1 }, { id: 'bbbb0000', record: r2 }]);
  assert.is(await idx.removeSnapshot('aaaa0000'), true);
  assert.is(idx.hasSnapshot('aaaa0000'), false);
  assert.equal([...idx.listSnapshots()], [{ id: 'bbbb0000', record: r2 }]);
  await idx.removeSnapshot('aaaa0000'); // removing again is harmless
  assert.equal([...idx.listSnapshots()].map((x) => x.id), ['bbbb0000']);
  await idx.close();
});

test('isUsable is false until markComplete', async () => {
  const idx = StoreIndex.open(fresh());
  assert.is(idx.isUsable(), false);
  await idx.addPack(packId('u'), 100, [pe('u', 8)]);
  assert.is(idx.isUsable(), false);
  await idx.markComplete();
  assert.is(idx.isUsable(), true);
  await idx.close();
});

test('loss epoch: "0" before markComplete (an index older than epochs), fresh at markComplete, new with forgetPacks, which drops the pack and its chunks', async () => {
  const idx = StoreIndex.open(fresh());
  assert.is(idx.lossEpoch(), '0');
  const keep = packId('k'), lose = packId('l');
  await idx.addPack(keep, 100, [pe('k', 8)]);
  await idx.addPack(lose, 200, [pe('l1', 8), pe('l2', 408)]);
  await idx.markComplete();
  const first = idx.lossEpoch();
  assert.match(first, /^[0-9a-f]{16}$/);
  assert.is(await idx.forgetPacks([idx.packNo(lose)!]), 2);
  assert.is.not(idx.lossEpoch(), first);
  assert.is(idx.hasPack(lose), false);
  assert.is(idx.hasChunk(cid('l1')), false);
  assert.is(idx.hasChunk(cid('k')), true);
  assert.is(idx.packCount(), 1);
  assert.equal(idx.totals(), { chunks: 1, rawBytes: 1000, storedBytes: 400, packs: 1, packBytes: 100 });
  await idx.close();
});

test('reopen after close keeps packs, chunks, totals, snapshots and completeness', async () => {
  const path = fresh();
  const idx = StoreIndex.open(path);
  const p1 = packId('r1'), p2 = packId('r2');
  await idx.addPack(p1, 700, [pe('r', 8, { rawLength: 7, storedLength: 7, codec: 0 })]);
  await idx.addPack(p2, 800, [pe('s', 8, { type: 1 })]);
  await idx.putSnapshot('0123abcd', { n: 1 });
  await idx.markComplete();
  await idx.flushed();
  await idx.close();

  const again = StoreIndex.open(path);
  assert.is(again.isUsable(), true);
  assert.equal(again.getChunk(cid('r')), { packNo: 1, packId: p1, offset: 8, storedLength: 7, rawLength: 7, codec: 0, type: 0, storedBytes: 7 });
  assert.equal(again.getChunk(cid('s')), { packNo: 2, packId: p2, offset: 8, storedLength: 400, rawLength: 1000, codec: 1, type: 1, storedBytes: 400 });
  assert.equal(again.totals(), { chunks: 2, rawBytes: 1007, storedBytes: 407, packs: 2, packBytes: 1500 });
  assert.equal([...again.listSnapshots()], [{ id: '0123abcd', record: { n: 1 } }]);
  // Pack numbers continue after a reopen.
  await again.addPack(packId('r3'), 10, [pe('t', 8)]);
  assert.is(again.getChunk(cid('t'))!.packNo, 3);
  await again.close();
});

test('listing memos are written in batches: all there after flushed, and after close', async () => {
  const path = fresh();
  const idx = StoreIndex.open(path);
  const memo = (i: number) => Buffer.from(`memo ${i}`);
  // More than one batch (1,024), then a partial one.
  for (let i = 0; i < 2500; i++) idx.putListingMemo(cid(`tree ${i}`), memo(i));
  await idx.flushed();
  for (const i of [0, 1023, 1024, 2499]) assert.equal(idx.getListingMemo(cid(`tree ${i}`)), memo(i), `memo ${i}`);
  idx.putListingMemo(cid('late'), memo(-1));
  await idx.close();
  const again = StoreIndex.open(path);
  assert.equal(again.getListingMemo(cid('late')), memo(-1), 'a memo put just before close is kept');
  assert.is(again.getListingMemo(cid('never put')), undefined);
  await again.close();
});

test('LMDB return codes that mean a file it cannot use are INDEX_DAMAGED; others are not', () => {
  const lmdbError = (code: number) => Object.assign(new Error(`lmdb ${code}`), { code });
  // MDB_PAGE_NOTFOUND, MDB_CORRUPTED, MDB_PANIC, MDB_VERSION_MISMATCH, MDB_INVALID, MDB_INCOMPATIBLE, MDB_PAGE_FULL, MDB_BAD_TXN
  for (const code of [-30797, -30796, -30795, -30794, -30793, -30784, -30786, -30782]) {
    assert.is(lmdbDamage('/s/index/index.mdb', lmdbError(code))?.code, 'INDEX_DAMAGED', String(code));
  }
  // MDB_NOTFOUND, MDB_MAP_FULL, MDB_READERS_FULL: not damage
  for (const code of [-30798, -30792, -30790]) assert.is(lmdbDamage('/s/index/index.mdb', lmdbError(code)), null, String(code));
});

test('the index file is mapped once however much it grows (old maps would stay resident)', async () => {
  const where = fresh();
  const idx = StoreIndex.open(where);
  // ~40,000 chunks make a file of a few MB: lmdb-js's own map (128 KiB, doubled when full)
  // would be remapped five times or more, each earlier map kept in place.
  for (let p = 0; p < 10; p++) {
    await idx.addPack(packId(`grow ${p}`), 1, Array.from({ length: 4000 }, (_, i) => pe(`grow ${p} ${i}`, i)));
  }
  assert.ok(idx.hasChunk(cid('grow 9 3999')));
  const file = join(where, 'index.mdb');
  const maps = readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.endsWith(` ${file}`));
  assert.is(maps.length, 1, maps.join('\n'));
  await idx.close();
});

/** KiB of this process's RSS in mappings of `file`. */
function mappedKiB(file: string): number {
  let kib = 0;
  for (const m of readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    if (m.split('\n')[0].endsWith(` ${file}`)) kib += Number(/^Rss:\s+(\d+)/m.exec(m)![1]);
  }
  return kib;
}

(native ? test : test.skip)('releaseMappedPages gives back the index pages lookups mapped (native addon)', async () => {
  const where = fresh();
  const idx = StoreIndex.open(where);
  for (let p = 0; p < 10; p++) {
    await idx.addPack(packId(`rel ${p}`), 1, Array.from({ length: 4000 }, (_, i) => pe(`rel ${p} ${i}`, i)));
  }
  const file = join(where, 'index.mdb');
  // Indexing a pack releases what its transaction read only on a large index (RELEASE_MIN_FILE_BYTES); this one is asked.
  idx.releaseMappedPages();
  const afterAdd = mappedKiB(file);
  for (let i = 0; i < 200; i++) assert.ok(idx.hasChunk(cid(`rel ${i % 10} ${i * 17}`)));
  const looked = mappedKiB(file);
  assert.ok(looked > afterAdd + 256, `lookups mapped ${looked} KiB (after the packs: ${afterAdd})`);
  assert.is(native!.fileMapsResident(file), looked * 1024, 'fileMapsResident counts what smaps says');
  // A part at a time: the first quarter of the file goes, what the lookups mapped of the rest stays.
  idx.releaseMappedPart();
  const part = mappedKiB(file);
  assert.ok(part < looked && part > 64, `${part} KiB mapped after a part was released (${looked} before)`);
  for (let i = 1; i < 4; i++) idx.releaseMappedPart();
  assert.ok(mappedKiB(file) < 64, `${mappedKiB(file)} KiB still mapped after the four parts (${looked} before)`);
  for (let i = 0; i < 200; i++) assert.ok(idx.hasChunk(cid(`rel ${i % 10} ${i * 17}`)));
  idx.releaseMappedPages();
  const released = mappedKiB(file);
  assert.ok(released < 64, `${released} KiB still mapped after the release (${looked} before)`);
  // The pages are still there: lookups go on as before.
  assert.ok(idx.hasChunk(cid('rel 3 3999')));
  assert.is(idx.hasChunk(cid('rel none')), false);
  await idx.close();
});

(native ? test : test.skip)('lookups leave the index mapped within the budget, and release it each time the mappings hold it (native addon)', async () => {
  const where = fresh();
  const file = join(where, 'index.mdb');
  const fill = async (idx: StoreIndex, tag: string) => {
    for (let p = 0; p < 5; p++) await idx.addPack(packId(`${tag} ${p}`), 1, Array.from({ length: 4000 }, (_, i) => pe(`${tag} ${p} ${i}`, i)));
  };
  const lookups = (idx: StoreIndex, tag: string) => {
    for (let i = 0; i < 2000; i++) assert.ok(idx.hasChunk(cid(`${tag} ${i % 5} ${(i * 31) % 4000}`)));
  };
  const counted = (idx: StoreIndex) => {
    const c = { releases: 0 };
    const release = idx.releaseMappedPart.bind(idx);
    idx.releaseMappedPart = () => { c.releases++; release(); };
    return c;
  };
  // The default budget (MAP_BUDGET_BYTES) is far above this ~2 MiB index: nothing is released.
  const roomy = StoreIndex.open(where);
  await fill(roomy, 'b');
  const none = counted(roomy);
  lookups(roomy, 'b');
  assert.is(none.releases, 0, `released ${none.releases} times (a ${statSync(file).size >> 10} KiB index)`);
  assert.ok(mappedKiB(file) > 256, 'its pages stay mapped');
  await roomy.close();
  // A budget of 64 KiB is spent by every round of 128 lookups: each round ends in a release.
  const tight = StoreIndex.open(where, { mapBudgetBytes: 64 << 10 });
  const some = counted(tight);
  lookups(tight, 'b');
  assert.is(some.releases, Math.floor(2000 / 128), `released ${some.releases} times`);
  await tight.close();
});

(native ? test : test.skip)('a budget counts the index\'s own mappings, not what other files the process maps grew by (native addon)', async () => {
  const fill = async (idx: StoreIndex, tag: string) => {
    for (let p = 0; p < 5; p++) await idx.addPack(packId(`${tag} ${p}`), 1, Array.from({ length: 4000 }, (_, i) => pe(`${tag} ${p} ${i}`, i)));
  };
  const lookups = (idx: StoreIndex, tag: string) => {
    for (let i = 0; i < 2000; i++) assert.ok(idx.hasChunk(cid(`${tag} ${i % 5} ${(i * 31) % 4000}`)));
  };
  const mine = StoreIndex.open(fresh()), other = StoreIndex.open(fresh());
  await fill(mine, 'm');
  await fill(other, 'o');
  mine.releaseMappedPages();
  other.releaseMappedPages();
  const budget = new MapBudget(mine.file, 64 << 10);
  // Another file's pages: the process's RssFile grows by far more than the budget, this index's mappings do not.
  lookups(other, 'o');
  assert.ok(mappedKiB(other.file) > 256, `the other index mapped ${mappedKiB(other.file)} KiB`);
  assert.is(budget.spent(), false, `spent with ${mappedKiB(mine.file)} KiB of its own file mapped`);
  lookups(mine, 'm');
  assert.ok(mappedKiB(mine.file) > 64, `${mappedKiB(mine.file)} KiB mapped by its own lookups`);
  assert.is(budget.spent(), true);
  await mine.close();
  await other.close();
});

test.run();
