// Chunk codecs: round trips, incompressible → stored raw, parseCodec, damaged input → FormatError.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FormatError, UsageError } from '../../lib/errors/index.js';
import {
  ADAPTIVE_LOW_LEVEL, ChunkCodec, CODEC_IDS, CODEC_NAMES, codecLabel, codecName, type CodecSpec, DEFAULT_ZSTD_LEVEL, parseCodec,
} from '../../lib/codec/codec.js';
import { mulberry32, seededBytes } from '../helpers/seeded.js';

const randomData = seededBytes;
function textData(len: number, seed = 9): Buffer {
  const words = ['chunk', 'store', 'pack', 'tree', 'snapshot', 'the', 'of', 'foxing', '\n', 'index'];
  const rnd = mulberry32(seed);
  let s = '';
  while (s.length < len) s += words[Math.floor(rnd() * words.length)] + ' ';
  return Buffer.from(s.slice(0, len));
}

const COMPRESSING: CodecSpec[] = [
  { name: 'zstd', level: 1 }, { name: 'zstd', level: DEFAULT_ZSTD_LEVEL }, { name: 'zstd', level: 19 },
  { name: 'lz4' }, { name: 'gzip', level: 1 }, { name: 'gzip', level: 9 }, { name: 'xz', level: 0 }, { name: 'xz', level: 3 },
];

async function rejectsFormat(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, FormatError, `expected FormatError, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected FormatError matching ${pattern}`);
}

test('ids are stable', () => {
  assert.equal(CODEC_IDS, { none: 0, zstd: 1, lz4: 2, gzip: 3, xz: 4 });
  CODEC_NAMES.forEach((n, i) => { assert.is(CODEC_IDS[n], i); assert.is(codecName(i), n); });
  assert.throws(() => codecName(5), (e: unknown) => e instanceof FormatError);
});

test('every codec round trips text-like data (and shrinks it)', async () => {
  const c = new ChunkCodec();
  for (const len of [1000, 65_536, 100_001]) {
    const raw = textData(len);
    for (const spec of COMPRESSING) {
      const stored = await c.compress(spec, raw);
      assert.ok(stored, `${spec.name}:${spec.level} should compress text`);
      assert.ok(stored!.byteLength < raw.length);
      const back = await c.decompress(CODEC_IDS[spec.name], stored!, raw.length);
      assert.ok(Buffer.from(back).equals(raw), `${spec.name}:${spec.level} len ${len}`);
    }
  }
});

test('random data round trips or comes back null (stored raw), and codec 0 returns the bytes', async () => {
  const c = new ChunkCodec();
  for (const [i, len] of [0, 1, 17, 4096, 70_000].entries()) {
    const raw = randomData(len, i);
    for (const spec of [...COMPRESSING, { name: 'none' } as CodecSpec]) {
      const stored = await c.compress(spec, raw);
      if (stored === null) {
        const back = await c.decompress(0, raw, raw.length);
        assert.ok(Buffer.from(back).equals(raw));
        continue;
      }
      assert.ok(stored.byteLength < raw.length);
      assert.ok(Buffer.from(await c.decompress(CODEC_IDS[spec.name], stored, len)).equals(raw));
    }
  }
});

test('incompressible input returns null for every codec', async () => {
  const c = new ChunkCodec();
  const raw = randomData(65_536, 1234);
  for (const spec of [...COMPRESSING, { name: 'none' } as CodecSpec]) {
    assert.is(await c.compress(spec, raw), null, `${spec.name}:${spec.level}`);
  }
  // Empty input cannot get smaller either.
  assert.is(await c.compress({ name: 'zstd' }, new Uint8Array(0)), null);
});

test('compress works on a subarray view (byteOffset honoured)', async () => {
  const c = new ChunkCodec();
  const backing = Buffer.concat([randomData(100, 1), textData(20_000), randomData(100, 2)]);
  const view = new Uint8Array(backing.buffer, backing.byteOffset + 100, 20_000);
  for (const spec of COMPRESSING) {
    const stored = await c.compress(spec, view);
    assert.ok(stored);
    assert.ok(Buffer.from(await c.decompress(CODEC_IDS[spec.name], stored!, 20_000)).equals(Buffer.from(view)), spec.name);
  }
});

test('zstd level changes between calls on one instance', async () => {
  const c = new ChunkCodec();
  const raw = textData(100_000);
  const fast = await c.compress({ name: 'zstd', level: 1 }, raw);
  const strong = await c.compress({ name: 'zstd', level: 19 }, raw);
  assert.ok(fast && strong);
  assert.ok(strong!.byteLength < fast!.byteLength, `${strong!.byteLength} < ${fast!.byteLength}`);
  assert.ok(Buffer.from(await c.decompress(1, fast!, raw.length)).equals(raw));
  assert.ok(Buffer.from(await c.decompress(1, strong!, raw.length)).equals(raw));
});

test('concurrent compress calls on one codec each get their own bytes (shared output space)', async () => {
  // Regression: compress() once awaited between compressing into the codec's scratch space and
  // copying out of it, so two trees saved at once could both get the second one's bytes.
  const c = new ChunkCodec();
  const inputs = Array.from({ length: 8 }, (_, i) => textData(4_000 + i * 997, i + 1));
  const outs = await Promise.all(inputs.map((raw) => c.compress({ name: 'zstd', level: 1 }, raw)));
  for (let i = 0; i < inputs.length; i++) {
    assert.ok(outs[i], `input ${i} compresses`);
    assert.ok(Buffer.from(await c.decompress(1, outs[i]!, inputs[i].length)).equals(inputs[i]), `input ${i} round trips`);
  }
});

test('compressTransient returns a view that the next call overwrites; compress returns owned bytes', async () => {
  const c = new ChunkCodec();
  const a = textData(50_000, 1), b = textData(50_000, 2);
  const viewA = Buffer.from((await c.compressTransient({ name: 'zstd' }, a))!);
  const transient = (await c.compressTransient({ name: 'zstd' }, a))!;
  await c.compressTransient({ name: 'zstd' }, b);
  assert.ok(!Buffer.from(transient).equals(viewA), 'the view was reused by the next call');
  const owned = (await c.compress({ name: 'zstd' }, a))!;
  await c.compress({ name: 'zstd' }, b);
  assert.ok(Buffer.from(await c.decompress(1, owned, a.length)).equals(a));
});

test('parseCodec accepts names and levels', () => {
  assert.equal(parseCodec('zstd'), { name: 'zstd', level: DEFAULT_ZSTD_LEVEL, adaptive: true });
  assert.equal(parseCodec('zstd:auto'), { name: 'zstd', level: DEFAULT_ZSTD_LEVEL, adaptive: true });
  assert.equal(parseCodec('zstd:1'), { name: 'zstd', level: 1 });
  assert.equal(parseCodec('zstd:19'), { name: 'zstd', level: 19 });
  assert.equal(parseCodec('gzip:9'), { name: 'gzip', level: 9 });
  assert.equal(parseCodec('gzip'), { name: 'gzip', level: 6 });
  assert.equal(parseCodec('xz'), { name: 'xz', level: 6 });
  assert.equal(parseCodec('xz:0'), { name: 'xz', level: 0 });
  assert.equal(parseCodec('lz4'), { name: 'lz4', level: undefined });
  assert.equal(parseCodec('none'), { name: 'none', level: undefined });
});

test('codecLabel names a spec as parseCodec reads it back', () => {
  for (const text of ['zstd:auto', 'zstd:1', 'zstd:3', 'gzip:9', 'xz:0', 'lz4', 'none']) assert.is(codecLabel(parseCodec(text)), text);
  assert.is(codecLabel(parseCodec('zstd')), 'zstd:auto');
});

test('probeLevels: both sizes, and the result at the level asked for (null where nothing shrinks)', async () => {
  const c = new ChunkCodec();
  const text = textData(65536);
  const l1 = (await c.compress({ name: 'zstd', level: ADAPTIVE_LOW_LEVEL }, text))!;
  const l3 = (await c.compress({ name: 'zstd', level: DEFAULT_ZSTD_LEVEL }, text))!;
  assert.ok(l3.length < l1.length * 0.99, `this text must gain from level 3 (${l1.length} -> ${l3.length})`);
  const probe = c.probeLevels(DEFAULT_ZSTD_LEVEL, text);
  assert.equal([probe.low, probe.high], [l1.length, l3.length]);
  assert.ok(Buffer.from(probe.view!).equals(l3), 'the probed chunk is stored at the level asked for');
  assert.ok(Buffer.from(await c.decompress(CODEC_IDS.zstd, probe.view!, text.length)).equals(text));

  const random = randomData(65536, 5);
  assert.equal(c.probeLevels(DEFAULT_ZSTD_LEVEL, random), { low: 65536, high: 65536, view: null }, 'incompressible: raw at both levels');
});

test('parseCodec rejects bad names and levels with UsageError', () => {
  const cases: Array<[string, RegExp]> = [
    ['zstd:99', /zstd takes 1\.\.19/], ['zstd:0', /1\.\.19/], ['zstd:1.5', /1\.\.19/], ['zstd:abc', /1\.\.19/], ['gzip:auto', /1\.\.9/], ['zstd:', /1\.\.19/],
    ['gzip:10', /1\.\.9/], ['xz:-1', /0\.\.9/], ['lz4:3', /takes no level/], ['none:1', /takes no level/],
    ['brotli', /unknown codec 'brotli'/], ['', /unknown codec/], ['ZSTD', /unknown codec/], [':3', /unknown codec/],
  ];
  for (const [text, pattern] of cases) {
    try {
      parseCodec(text);
      assert.unreachable(`'${text}' should be rejected`);
    } catch (e) {
      assert.instance(e, UsageError, `'${text}': ${String(e)}`);
      assert.is((e as UsageError).code, 'USAGE');
      assert.match((e as Error).message, pattern);
    }
  }
});

test('decompressing garbage is a FormatError naming the codec', async () => {
  const c = new ChunkCodec();
  const garbage = randomData(1000, 99);
  for (const [id, name] of [[1, 'zstd'], [3, 'gzip'], [4, 'xz']] as const) {
    await rejectsFormat(c.decompress(id, garbage, 5000), new RegExp(`does not decompress with ${name}|decompressed to`));
  }
  // lz4 (size-prefixed block) has no magic: garbage after a plausible size prefix either fails
  // to decode or decodes to the wrong length. (A huge prefix is the next test.)
  const lz4Garbage = Buffer.from(garbage); lz4Garbage.writeUInt32LE(5000, 0);
  await rejectsFormat(c.decompress(2, lz4Garbage, 5000), /lz4|decompressed to/);
  await rejectsFormat(c.decompress(9, garbage, 5000), /unknown codec id 9/);
  // A valid stream cut short.
  const raw = textData(50_000);
  for (const spec of COMPRESSING) {
    const stored = (await c.compress(spec, raw))!;
    await rejectsFormat(c.decompress(CODEC_IDS[spec.name], stored.subarray(0, Math.floor(stored.byteLength / 2)), raw.length), /does not decompress|decompressed to/);
  }
});

test('wrong rawLength after decompression is a FormatError', async () => {
  const c = new ChunkCodec();
  const raw = textData(10_000);
  for (const spec of COMPRESSING) {
    const stored = (await c.compress(spec, raw))!;
    await rejectsFormat(c.decompress(CODEC_IDS[spec.name], stored, raw.length + 1), /decompressed to 10000 bytes, expected 10001|lz4 block announces a size other than 10001/);
    await rejectsFormat(c.decompress(CODEC_IDS[spec.name], stored, raw.length - 1), /expected 9999|other than 9999/);
  }
});

test('stored-raw (codec 0) chunk whose length disagrees with rawLength is a FormatError', async () => {
  const c = new ChunkCodec();
  const raw = randomData(100, 3);
  assert.ok(Buffer.from(await c.decompress(0, raw, 100)).equals(raw));
  await rejectsFormat(c.decompress(0, raw, 101), /expected 101/);
});

test('damaged lz4 size prefix is refused without allocating the claimed size', async () => {
  // lz4-napi's block format starts with the uncompressed size (u32 LE) and allocates that much
  // before decoding. A damaged (or hostile) record must not make the reader allocate up to
  // 4 GiB: the prefix should be checked against rawLength first.
  const c = new ChunkCodec();
  const stored = (await c.compress({ name: 'lz4' }, textData(10_000)))!;
  assert.is(Buffer.from(stored).readUInt32LE(0), 10_000);
  const damaged = Buffer.from(stored); damaged.writeUInt32LE(0x2000_0000, 0); // claims 512 MiB
  const rssBefore = process.resourceUsage().maxRSS; // KiB
  let outcome = 'rejected';
  try {
    const out = await c.decompress(2, damaged, 10_000);
    outcome = `decoded ${out.byteLength} bytes`;
  } catch (e) {
    assert.instance(e, FormatError);
  }
  const grewMiB = (process.resourceUsage().maxRSS - rssBefore) / 1024;
  assert.ok(grewMiB < 128, `peak memory grew by ${grewMiB.toFixed(0)} MiB decoding a 10 KB chunk (${outcome})`);
});

test.run();
