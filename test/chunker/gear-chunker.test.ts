// The gear chunker's rule, pinned: gear table, masks, params checks, golden cut lengths
// (fixtures/chunker/golden.json) for both implementations, and the size bounds.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  chunkerMasks, createChunker, DEFAULT_CHUNKER_PARAMS, gearTable, splitmix32, validateChunkerParams,
  type Chunker, type ChunkerParams,
} from '../../lib/chunker/index.js';
import { native, nativeLoadError } from '../../lib/native/load.js';
import { makeInput, randomBytes, type InputSpec } from '../../fixtures/chunker/inputs.js';

interface GoldenCase { name: string; input: InputSpec; params: ChunkerParams; count: number; total: number; lengths: number[] }
const golden = JSON.parse(readFileSync(new URL('../../../fixtures/chunker/golden.json', import.meta.url), 'utf8')) as {
  gearTableHead: { seed: number; values: number[] };
  cases: GoldenCase[];
};

const impls: Array<'ts' | 'native'> = ['ts', 'native'];
/** The chunker for impl, or null (with the reason printed) when native is asked for but absent. */
function chunkerFor(impl: 'ts' | 'native', params: ChunkerParams = DEFAULT_CHUNKER_PARAMS, label = ''): Chunker | null {
  if (impl === 'native' && native === null) {
    console.log(`  skip ${label} [native]: addon not loaded (${nativeLoadError})`);
    return null;
  }
  const c = createChunker(params, impl);
  assert.is(c.impl, impl);
  return c;
}

test('gear table is pinned (splitmix32, seed 0x46584731)', () => {
  assert.is(DEFAULT_CHUNKER_PARAMS.seed, 0x46584731);
  const t = gearTable(DEFAULT_CHUNKER_PARAMS.seed);
  assert.instance(t, Uint32Array);
  assert.is(t.length, 256);
  assert.equal(Array.from(t.subarray(0, 8)), [
    3932369603, 4128703408, 4106496361, 707271279, 2630028049, 1790733658, 3084646754, 2005527508,
  ]);
  assert.equal(Array.from(t.subarray(0, 8)), golden.gearTableHead.values);
  assert.is(t[255], gearTable(0x46584731)[255]);
  // A copy each call: callers may not corrupt the cache.
  t[0] = 0;
  assert.is(gearTable(DEFAULT_CHUNKER_PARAMS.seed)[0], 3932369603);
  // splitmix32 from seed 0: first output of the Weyl state 0x9E3779B9 through the fmix32 finalizer.
  assert.is(splitmix32(0)(), 0x92CA2F0E);
  assert.not.equal(Array.from(gearTable(1).subarray(0, 4)), Array.from(gearTable(2).subarray(0, 4)));
});

test('masks use the high bits: 18 below avg, 14 from avg on', () => {
  assert.equal(chunkerMasks(DEFAULT_CHUNKER_PARAMS), { maskS: 0xFFFFC000, maskL: 0xFFFC0000 });
  assert.equal(chunkerMasks({ avg: 1024 }), { maskS: 0xFFF00000, maskL: 0xFF000000 });
});

test('validateChunkerParams accepts the defaults and rejects nonsense', () => {
  assert.is(validateChunkerParams({ ...DEFAULT_CHUNKER_PARAMS }).avg, 65536);
  const bad: unknown[] = [
    null, 42, {},
    { ...DEFAULT_CHUNKER_PARAMS, algorithm: 'rabin' },
    { ...DEFAULT_CHUNKER_PARAMS, avg: 65535 },
    { ...DEFAULT_CHUNKER_PARAMS, avg: 128 },
    { ...DEFAULT_CHUNKER_PARAMS, min: 65536 },
    { ...DEFAULT_CHUNKER_PARAMS, min: 100000 },
    { ...DEFAULT_CHUNKER_PARAMS, max: 65536 },
    { ...DEFAULT_CHUNKER_PARAMS, min: 16 },
    { ...DEFAULT_CHUNKER_PARAMS, min: 2048.5 },
    { ...DEFAULT_CHUNKER_PARAMS, max: 2 ** 31 },
    { ...DEFAULT_CHUNKER_PARAMS, seed: -1 },
    { ...DEFAULT_CHUNKER_PARAMS, seed: 2 ** 32 },
    { ...DEFAULT_CHUNKER_PARAMS, avg: '65536' },
  ];
  for (const p of bad) assert.throws(() => validateChunkerParams(p), RangeError, JSON.stringify(p));
  assert.throws(() => createChunker({ ...DEFAULT_CHUNKER_PARAMS, min: 0 }), RangeError);
});

for (const impl of impls) {
  test(`golden cut lengths [${impl}]`, () => {
    assert.ok(golden.cases.length >= 4);
    for (const c of golden.cases) {
      const chunker = chunkerFor(impl, c.params, c.name);
      if (chunker === null) return;
      const data = makeInput(c.input);
      assert.is(data.length, c.total, c.name);
      const got = Array.from(chunker.cutLengths(data, true));
      assert.is(got.length, c.count, `${c.name}: count`);
      assert.equal(got, c.lengths, c.name);
    }
  });

  test(`all-zero input cuts at max [${impl}]`, () => {
    const chunker = chunkerFor(impl, DEFAULT_CHUNKER_PARAMS, 'zeros');
    if (chunker === null) return;
    const max = DEFAULT_CHUNKER_PARAMS.max;
    assert.equal(Array.from(chunker.cutLengths(new Uint8Array(5 * 1024 * 1024), true)), [max, max, 1024 * 1024]);
    // Not final: the 1 MiB tail is carried, the two max chunks are complete.
    assert.equal(Array.from(chunker.cutLengths(new Uint8Array(5 * 1024 * 1024), false)), [max, max]);
    assert.equal(Array.from(chunker.cutLengths(new Uint8Array(2 * max), false)), [max, max]);
  });

  test(`edge cases: empty, shorter than min, tails [${impl}]`, () => {
    const chunker = chunkerFor(impl, DEFAULT_CHUNKER_PARAMS, 'edges');
    if (chunker === null) return;
    assert.equal(Array.from(chunker.cutLengths(new Uint8Array(0), true)), []);
    assert.equal(Array.from(chunker.cutLengths(new Uint8Array(0), false)), []);
    const small = randomBytes(1000, 7);
    assert.equal(Array.from(chunker.cutLengths(small, true)), [1000]);
    assert.equal(Array.from(chunker.cutLengths(small, false)), []);
    assert.equal(Array.from(chunker.cutLengths(small.subarray(0, 1), true)), [1]);
  });

  test(`bounds: every chunk but the last is in [min, max] [${impl}]`, () => {
    const params: ChunkerParams = { ...DEFAULT_CHUNKER_PARAMS, min: 512, avg: 4096, max: 16384 };
    const chunker = chunkerFor(impl, params, 'bounds');
    if (chunker === null) return;
    const next = splitmix32(0xB0B);
    for (let round = 0; round < 20; round++) {
      const size = next() % (512 * 1024);
      const data = round % 3 === 0 ? makeInput({ kind: 'text', size, seed: round }) : randomBytes(size, next());
      const lens = Array.from(chunker.cutLengths(data, true));
      assert.is(lens.reduce((a, b) => a + b, 0), size);
      lens.forEach((l, k) => {
        assert.ok(l <= params.max, `chunk ${k} length ${l} > max`);
        if (k < lens.length - 1) assert.ok(l >= params.min, `chunk ${k} length ${l} < min`);
        else assert.ok(l >= 1);
      });
    }
  });
}

test('random data averages near avg (normalized chunking)', () => {
  const data = randomBytes(16 * 1024 * 1024, 0xA11CE);
  const lens = createChunker(DEFAULT_CHUNKER_PARAMS, 'native').cutLengths(data, true);
  const mean = data.length / lens.length;
  assert.ok(mean > 50_000 && mean < 100_000, `mean chunk ${mean}`);
});

test('createChunker falls back to ts when native is absent', () => {
  const c = createChunker();
  assert.is(c.impl, native === null ? 'ts' : 'native');
  assert.equal(c.params, { ...DEFAULT_CHUNKER_PARAMS });
  assert.is(createChunker(DEFAULT_CHUNKER_PARAMS, 'ts').impl, 'ts');
});

test.run();
