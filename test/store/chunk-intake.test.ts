// ChunkIntake: the chunk workers' per-chunk loop, against a real store (LMDB index, packs on disk).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChunker } from '../../lib/chunker/index.js';
import { ADAPTIVE_LOW_LEVEL, CODEC_IDS, type CodecSpec, DEFAULT_ZSTD_LEVEL, parseCodec } from '../../lib/codec/codec.js';
import { LevelChoice, SETTLE_PROBES } from '../../lib/codec/level-choice.js';
import { blake3 } from '../../lib/hash/blake3.js';
import { Store } from '../../lib/store/chunk-store.js';
import { directoryLocation } from '../../lib/store/store-location.js';
import { ChunkIntake, ChunkListBuilder } from '../../lib/store/chunk-intake.js';
import { ClaimTable } from '../../lib/store/claim-table.js';
import { WorkerPacker } from '../../lib/store/worker-packer.js';
import { CODEC_BUNDLED } from '../../lib/codec/codec-ids.js';
import { CHUNK_BUNDLE } from '../../lib/store/store-layout.js';
import { mulberry32, seededBytes } from '../helpers/seeded.js';

let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-intake-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

let n = 0;
async function freshStore(): Promise<string> {
  const root = join(dir, `store-${n++}`);
  await (await Store.open(directoryLocation(root), { create: true })).close();
  return root;
}

/** Random bytes with a run of zeros in the middle: one chunk compresses, the others do not. */
function sample(): Buffer {
  return Buffer.concat([seededBytes(300_000, 7), Buffer.alloc(200_000), seededBytes(300_000, 8)]);
}

async function intakeOf(spec: CodecSpec, claims: ClaimTable | null = null) {
  const root = await freshStore();
  const packer = new WorkerPacker({ storage: { kind: 'dir', root }, indexDir: directoryLocation(root).indexDir, bundles: true });
  const intake = new ChunkIntake(packer, blake3(), claims);
  const data = sample();
  const cuts = createChunker().cutLengths(data, true);
  const list = new ChunkListBuilder();
  const consumed = await intake.storeChunks(data, cuts, spec, list);
  return { packer, intake, data, cuts, list, consumed };
}

test('ids and lengths in order; every chunk stored once; raw when it does not shrink', async () => {
  const { packer, data, cuts, list, consumed } = await intakeOf({ name: 'zstd', level: 1 });
  assert.is(consumed, data.length);
  assert.is(list.count, cuts.length);
  const { ids, lengths } = list.take();
  assert.is(list.count, 0, 'take empties the builder');
  let o = 0;
  for (let i = 0; i < cuts.length; i++) {
    assert.is(lengths[i], cuts[i]);
    assert.equal(Buffer.from(ids.subarray(i * 32, i * 32 + 32)), blake3().hash(data.subarray(o, o + cuts[i])));
    o += cuts[i];
  }
  assert.is(packer.stats.newChunks, cuts.length);
  const [pack] = await packer.finish();
  const codecs = pack.entries.map((e) => e.codec);
  assert.ok(codecs.includes(CODEC_IDS.zstd), 'the zeros compress');
  assert.ok(codecs.includes(CODEC_IDS.none), 'random bytes are stored raw');
  const shrunk = pack.entries.filter((e) => e.codec === CODEC_IDS.zstd);
  for (const e of shrunk) assert.ok(e.storedLength < e.rawLength);
});

test('the same bytes again: listed, not stored again (found in the unindexed pack)', async () => {
  const { packer, intake, data, cuts } = await intakeOf({ name: 'zstd', level: 1 });
  const again = new ChunkListBuilder();
  await intake.storeChunks(data, cuts, { name: 'zstd', level: 1 }, again);
  assert.is(again.count, cuts.length);
  assert.is(packer.stats.newChunks, cuts.length, 'nothing new the second time');
  await packer.settle();
  await packer.abort();
});

test('xz, which has no synchronous form, gives the same ids through the asynchronous path', async () => {
  const zstd = await intakeOf({ name: 'zstd', level: 1 });
  const xz = await intakeOf({ name: 'xz', level: 0 });
  assert.equal(xz.list.take(), zstd.list.take());
  const [pack] = await xz.packer.finish();
  assert.ok(pack.entries.some((e) => e.codec === CODEC_IDS.xz));
  await zstd.packer.abort();
});

test('an adaptive spec is settled by the first new chunk and holds for the rest of the file', async () => {
  // The sample's first chunk is random bytes: level 3 saves nothing over level 1 there.
  const spec = new LevelChoice().specForFile(parseCodec('zstd'), sample().length, Buffer.from('f.bin'));
  assert.ok(spec.adaptive, 'a kind never seen is probed');
  const { packer, list, cuts } = await intakeOf(spec);
  assert.is(list.count, cuts.length);
  assert.equal([spec.level, spec.adaptive], [ADAPTIVE_LOW_LEVEL, false]);
  const [pack] = await packer.finish();
  assert.ok(pack.entries.some((e) => e.codec === CODEC_IDS.zstd), 'the zeros still compress');
});

test('zstd:auto: the first files of a kind are probed, the next take the level they settled on without a probe', async () => {
  const root = await freshStore();
  const packer = new WorkerPacker({ storage: { kind: 'dir', root }, indexDir: directoryLocation(root).indexDir, bundles: true });
  const intake = new ChunkIntake(packer, blake3());
  const words = ['chunk', 'store', 'pack', 'tree', 'snapshot', 'the', 'of', 'foxing', '\n', 'index'];
  const text = (seed: number) => {
    const rnd = mulberry32(seed);
    let s = '';
    while (s.length < 400_000) s += words[Math.floor(rnd() * words.length)] + ' ';
    return Buffer.from(s);
  };
  const specs: CodecSpec[] = [];
  for (let f = 0; f < SETTLE_PROBES + 2; f++) {
    const data = Buffer.concat([seededBytes(300_000, 20 + f), Buffer.from(`file ${f}`)]);
    const spec = intake.levels.specForFile(parseCodec('zstd'), data.length, Buffer.from('f.bin'));
    specs.push({ ...spec });
    await intake.storeChunks(data, createChunker().cutLengths(data, true), spec, new ChunkListBuilder());
  }
  assert.equal(specs.map((s) => s.adaptive), [...Array(SETTLE_PROBES).fill(true), false, false]);
  assert.equal(specs.slice(SETTLE_PROBES).map((s) => s.level), [ADAPTIVE_LOW_LEVEL, ADAPTIVE_LOW_LEVEL], 'random bytes: level 3 does not pay');
  // Another kind is probed on its own, and text settles on level 3.
  for (let f = 0; f < SETTLE_PROBES; f++) {
    const data = text(f + 3);
    const spec = intake.levels.specForFile(parseCodec('zstd'), data.length, Buffer.from('f.txt'));
    assert.ok(spec.adaptive);
    await intake.storeChunks(data, createChunker().cutLengths(data, true), spec, new ChunkListBuilder());
  }
  assert.equal(intake.levels.specForFile(parseCodec('zstd'), 1 << 20, Buffer.from('f.txt')), { name: 'zstd', level: DEFAULT_ZSTD_LEVEL, adaptive: false, kind: 'txt' });
  await packer.finish();
});

test('small chunks are bundled, under a fixed level or zstd:auto; not those of a file whose level zstd:auto chooses by kind, not uncompressed, not in a store of version 1', async () => {
  // Ten small text chunks, cut as ten files' contents would be.
  const pieces = Array.from({ length: 10 }, (_, i) => Buffer.from(`small file ${i}: `.padEnd(3000, 'text that compresses ')));
  const data = Buffer.concat(pieces);
  const cuts = pieces.map((p) => p.length);
  const members = async (spec: CodecSpec, bundles: boolean): Promise<number> => {
    const root = await freshStore();
    const packer = new WorkerPacker({ storage: { kind: 'dir', root }, indexDir: directoryLocation(root).indexDir, bundles });
    await new ChunkIntake(packer, blake3()).storeChunks(data, cuts, spec, new ChunkListBuilder());
    const [pack] = await packer.finish();
    assert.is(pack.entries.filter((e) => e.type !== CHUNK_BUNDLE).length, 10, 'every chunk has its record');
    return pack.entries.filter((e) => e.codec === CODEC_BUNDLED).length;
  };
  assert.is(await members({ name: 'zstd', level: 3 }, true), 10);
  assert.is(await members(new LevelChoice().specForFile(parseCodec('zstd'), 1000, Buffer.from('f.txt')), true), 10, 'a small file under zstd:auto');
  assert.is(await members(new LevelChoice().specForFile(parseCodec('zstd'), 1 << 20, Buffer.from('f.txt')), true), 0, 'a large file under zstd:auto');
  assert.is(await members({ name: 'none' }, true), 0);
  assert.is(await members({ name: 'zstd', level: 3 }, false), 0);
});

test('a chunk another worker of the import claimed is listed but left to that worker', async () => {
  const claims = ClaimTable.create(1024);
  const data = sample();
  const cuts = createChunker().cutLengths(data, true);
  const first = blake3().hash(data.subarray(0, cuts[0]));
  assert.ok(claims.claim(first), 'the other worker claims the first chunk');
  const { packer, list } = await intakeOf({ name: 'none' }, claims);
  assert.is(list.count, cuts.length);
  assert.is(packer.stats.newChunks, cuts.length - 1);
  const [pack] = await packer.finish();
  assert.not.ok(pack.entries.some((e) => e.id.equals(first)));
});

test('a run that began on an empty store stores each new chunk once without asking the index; otherwise the index is asked', async () => {
  const data = sample();
  const cuts = createChunker().cutLengths(data, true);
  const spec: CodecSpec = { name: 'none' };
  // Counts the lookups the intake makes through the real packer (its pending ids and LMDB index).
  const counted = (packer: WorkerPacker) => {
    const has = packer.has.bind(packer);
    const seen = { n: 0 };
    packer.has = (id) => { seen.n++; return has(id); };
    return seen;
  };
  const empty = await intakeOf(spec, ClaimTable.create(1024, true));
  const lookups = counted(empty.packer);
  const twice = new ChunkListBuilder();
  await empty.intake.storeChunks(data, cuts, spec, twice);
  assert.is(lookups.n, 0, 'no index lookup: the claims settle every id');
  assert.is(empty.packer.stats.newChunks, cuts.length, 'the second pass stored nothing');
  assert.equal(twice.take(), empty.list.take());
  await empty.packer.abort();

  // The same bytes into a store that has them (indexed): with the flag unset the index is asked and nothing is stored.
  const root = await freshStore();
  const first = new WorkerPacker({ storage: { kind: 'dir', root }, indexDir: directoryLocation(root).indexDir, bundles: true });
  await new ChunkIntake(first, blake3(), ClaimTable.create(1024)).storeChunks(data, cuts, spec, new ChunkListBuilder());
  const store = await Store.open(directoryLocation(root));
  for (const sealed of await first.finish()) await store.indexSealed(sealed);
  await store.close();
  const packer = new WorkerPacker({ storage: { kind: 'dir', root }, indexDir: directoryLocation(root).indexDir, bundles: true });
  const asked = counted(packer);
  await new ChunkIntake(packer, blake3(), ClaimTable.create(1024)).storeChunks(data, cuts, spec, new ChunkListBuilder());
  assert.is(asked.n, cuts.length);
  assert.is(packer.stats.newChunks, 0, 'every chunk found in the index');
  await packer.abort();
});

test.run();
