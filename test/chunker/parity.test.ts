// Native/TypeScript parity and streaming: the two scans must cut identically, and feeding data
// in pieces (carrying the unfinished tail) must cut exactly like one final call.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createChunker, DEFAULT_CHUNKER_PARAMS, splitmix32, type Chunker, type ChunkerParams } from '../../lib/chunker/index.js';
import { native, nativeLoadError } from '../../lib/native/load.js';
import { makeInput, randomBytes } from '../../fixtures/chunker/inputs.js';

const SMALL: ChunkerParams = { ...DEFAULT_CHUNKER_PARAMS, min: 256, avg: 1024, max: 8192 };
const MID: ChunkerParams = { ...DEFAULT_CHUNKER_PARAMS, min: 64, avg: 4096, max: 65536, seed: 12345 };

/** Feeds data in pieces of random size (from rng), carrying the tail, and returns all lengths. */
function streamed(chunker: Chunker, data: Uint8Array, rng: () => number, maxPiece: number): number[] {
  const out: number[] = [];
  let tail = new Uint8Array(0);
  let pos = 0;
  while (pos < data.length) {
    const piece = data.subarray(pos, Math.min(data.length, pos + 1 + (rng() % maxPiece)));
    pos += piece.length;
    const buf = new Uint8Array(tail.length + piece.length);
    buf.set(tail);
    buf.set(piece, tail.length);
    const lens = chunker.cutLengths(buf, false);
    let used = 0;
    for (let k = 0; k < lens.length; k++) { out.push(lens[k]!); used += lens[k]!; }
    assert.ok(buf.length - used < chunker.params.max, 'a carried tail is shorter than max');
    tail = buf.slice(used);
  }
  for (const l of Array.from(chunker.cutLengths(tail, true))) out.push(l);
  return out;
}

test('native and TypeScript cut identically on many seeded inputs', () => {
  if (native === null) { console.log(`  skip parity: addon not loaded (${nativeLoadError})`); return; }
  const rng = splitmix32(0xC0FFEE);
  let compared = 0;
  for (const params of [DEFAULT_CHUNKER_PARAMS, SMALL, MID]) {
    const ts = createChunker(params, 'ts');
    const nat = createChunker(params, 'native');
    for (let round = 0; round < 25; round++) {
      const size = rng() % (round % 5 === 0 ? 6 * 1024 * 1024 : 300 * 1024);
      const kind = rng() % 3;
      const data = kind === 0 ? randomBytes(size, rng()) : kind === 1 ? makeInput({ kind: 'text', size, seed: rng() })
        : new Uint8Array(size).fill(rng() & 0xff);
      // An offset view: the native side must honour byteOffset.
      const skip = rng() % 7;
      const view = data.subarray(Math.min(skip, size));
      for (const final of [true, false]) {
        assert.equal(Array.from(nat.cutLengths(view, final)), Array.from(ts.cutLengths(view, final)),
          `params avg ${params.avg}, size ${view.length}, kind ${kind}, final ${final}`);
        compared++;
      }
    }
  }
  assert.is(compared, 150);
});

for (const impl of ['ts', 'native'] as const) {
  test(`streaming in random pieces equals one final call [${impl}]`, () => {
    if (impl === 'native' && native === null) { console.log(`  skip streaming [native]: addon not loaded (${nativeLoadError})`); return; }
    const rng = splitmix32(impl === 'ts' ? 0x57 : 0x58);
    for (const [params, size, maxPiece] of [
      [SMALL, 200 * 1024, 3000], [SMALL, 100 * 1024, 50], [MID, 1024 * 1024, 70000], [DEFAULT_CHUNKER_PARAMS, 5 * 1024 * 1024, 1 << 20],
    ] as const) {
      const chunker = createChunker(params, impl);
      const data = randomBytes(size, rng());
      const whole = Array.from(chunker.cutLengths(data, true));
      assert.equal(streamed(chunker, data, rng, maxPiece), whole, `avg ${params.avg}, pieces <= ${maxPiece}`);
    }
    // Zeros reach max without a content cut: the forced cut must also be streaming-stable.
    const chunker = createChunker(SMALL, impl);
    const zeros = new Uint8Array(50_000);
    assert.equal(streamed(chunker, zeros, rng, 5000), Array.from(chunker.cutLengths(zeros, true)));
  });
}

test.run();
