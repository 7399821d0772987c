// ByteWriter / ByteReader: varint edges, zigzag, truncation and malformed input → FormatError.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FormatError } from '../../lib/errors/index.js';
import { ByteReader } from '../../lib/util/byte-reader.js';
import { ByteWriter } from '../../lib/util/byte-writer.js';

function throwsFormat(fn: () => unknown, pattern?: RegExp): FormatError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, FormatError, `expected FormatError, got ${String(e)}`);
    if (pattern) assert.match((e as Error).message, pattern);
    return e as FormatError;
  }
  assert.unreachable('expected a FormatError');
  throw new Error('unreachable');
}

const U_EDGES: Array<[number, string]> = [
  [0, '00'], [1, '01'], [127, '7f'], [128, '8001'], [300, 'ac02'], [16383, 'ff7f'], [16384, '808001'],
  [2 ** 32 - 1, 'ffffffff0f'], [2 ** 53 - 1, 'ffffffffffffff0f'],
];

test('uvarint round trips at edges with the LEB128 bytes', () => {
  for (const [v, hex] of U_EDGES) {
    const b = new ByteWriter(1).uvarint(v).finish();
    assert.is(b.toString('hex'), hex, `encoding of ${v}`);
    const r = new ByteReader(b, 't');
    assert.is(r.uvarint(), v);
    assert.is(r.remaining, 0);
  }
});

test('uvarint writer rejects negatives, fractions and unsafe integers', () => {
  for (const v of [-1, 1.5, 2 ** 53, Number.NaN, Infinity]) {
    assert.throws(() => new ByteWriter().uvarint(v), (e: unknown) => e instanceof RangeError, String(v));
  }
});

test('uvarintBig round trips up to 2^64-1 and rejects beyond', () => {
  const vals = [0n, 1n, 127n, 128n, (1n << 53n) - 1n, 1n << 53n, (1n << 63n), (1n << 64n) - 1n];
  for (const v of vals) {
    const b = new ByteWriter(2).uvarintBig(v).finish();
    const r = new ByteReader(b, 't');
    assert.is(r.uvarintBig(), v);
    assert.is(r.remaining, 0);
  }
  assert.is(new ByteWriter().uvarintBig((1n << 64n) - 1n).finish().toString('hex'), 'ffffffffffffffffff01');
  assert.throws(() => new ByteWriter().uvarintBig(1n << 64n), (e: unknown) => e instanceof RangeError);
  assert.throws(() => new ByteWriter().uvarintBig(-1n), (e: unknown) => e instanceof RangeError);
});

/** LEB128 one BigInt step per byte: the plain definition the writer's number arithmetic must match. */
function referenceLeb128(v: bigint): string {
  const out: number[] = [];
  while (v >= 0x80n) { out.push(Number(v & 0x7fn) | 0x80); v >>= 7n; }
  out.push(Number(v));
  return Buffer.from(out).toString('hex');
}

test('uvarintBig writes exactly the plain LEB128 bytes at every bit length (issue 25: number arithmetic)', () => {
  let x = 0x2545f4914f6cdd1dn;
  for (let bits = 0; bits <= 64; bits++) {
    for (let k = 0; k < 16; k++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
      const v = bits === 0 ? 0n : (x >> BigInt(64 - bits)) | (1n << BigInt(bits - 1));
      assert.is(new ByteWriter(1).uvarintBig(v).finish().toString('hex'), referenceLeb128(v), `value ${v}`);
      if (bits > 63) continue; // signed values are 64-bit: -2^63..2^63-1
      const z = new ByteWriter(1).svarintBig(-v).finish().toString('hex');
      assert.is(z, referenceLeb128(v === 0n ? 0n : (v << 1n) - 1n), `value -${v}`);
    }
  }
  for (const v of [0x7fn, 0x80n, 0xffffffffn, 0x100000000n, 0x7fffffffn, 0x80000000n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n]) {
    assert.is(new ByteWriter(1).uvarintBig(v).finish().toString('hex'), referenceLeb128(v), `value ${v}`);
  }
});

test('uvarintBig decodes every bit length exactly, rejects over 64 bits and truncation', () => {
  let x = 0x9e3779b97f4a7c15n;
  for (let bits = 0; bits <= 64; bits++) {
    for (let k = 0; k < 8; k++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
      const v = bits === 0 ? 0n : (x >> BigInt(64 - bits)) | (1n << BigInt(bits - 1));
      const r = new ByteReader(new ByteWriter().uvarintBig(v).u8(7).finish(), 't');
      assert.is(r.uvarintBig(), v, `value ${v}`);
      assert.is(r.u8(), 7, 'position after the varint');
    }
  }
  // 2^64 encoded by hand (the writer refuses it): ten bytes, the last carrying bit 64.
  assert.throws(() => new ByteReader(Buffer.from('80808080808080808002', 'hex'), 't').uvarintBig(), /exceeds 64 bits/);
  assert.throws(() => new ByteReader(Buffer.from('8080808080808080808001', 'hex'), 't').uvarintBig(), /too long/);
  assert.throws(() => new ByteReader(Buffer.from('ffffffffffffffff', 'hex'), 't').uvarintBig(), /truncated/);
});

test('svarintBig zigzag: small magnitudes stay small, extremes round trip', () => {
  const cases: Array<[bigint, string]> = [[0n, '00'], [-1n, '01'], [1n, '02'], [-2n, '03'], [63n, '7e'], [-64n, '7f'], [64n, '8001']];
  for (const [v, hex] of cases) assert.is(new ByteWriter().svarintBig(v).finish().toString('hex'), hex, `zigzag ${v}`);
  const vals = [-(1n << 63n), (1n << 63n) - 1n, -1_000_000_000_000_000_000n, 1_700_000_000_123_456_789n, -86_400_000_000_000n];
  for (const v of vals) {
    const r = new ByteReader(new ByteWriter().svarintBig(v).finish(), 't');
    assert.is(r.svarintBig(), v);
    assert.is(r.remaining, 0);
  }
  assert.is(new ByteWriter().svarintBig(-(1n << 63n)).finish().toString('hex'), 'ffffffffffffffffff01');
  // Outside 64 bits signed: refused, not wrapped (the writer splits the value through a 64-bit word).
  for (const v of [1n << 63n, -(1n << 63n) - 1n, 1n << 70n]) {
    assert.throws(() => new ByteWriter().svarintBig(v), (e: unknown) => e instanceof RangeError, `value ${v}`);
  }
});

test('bytes / lbytes and writer growth', () => {
  const big = Buffer.alloc(10_000, 7);
  const w = new ByteWriter(1).u8(9).lbytes(Buffer.from('hello')).bytes(big).lbytes(Buffer.alloc(0));
  assert.is(w.length, 1 + 1 + 5 + 10_000 + 1);
  const r = new ByteReader(w.finish(), 't');
  assert.is(r.u8(), 9);
  assert.is(r.lbytes().toString(), 'hello');
  assert.ok(r.bytes(10_000).equals(big));
  assert.is(r.lbytes().length, 0);
  assert.is(r.remaining, 0);
});

test('reads past the end throw FormatError naming the context and position', () => {
  throwsFormat(() => new ByteReader(Buffer.alloc(0), 'my thing').u8(), /^my thing: truncated.* at byte 0$/);
  throwsFormat(() => new ByteReader(Buffer.from([1, 2]), 'ctx').bytes(3), /ctx: truncated/);
  throwsFormat(() => new ByteReader(Buffer.from([0x80]), 'ctx').uvarint(), /truncated/);
  throwsFormat(() => new ByteReader(Buffer.from([0xff, 0xff]), 'ctx').uvarintBig(), /truncated/);
  // A length prefix larger than what is left is refused.
  throwsFormat(() => new ByteReader(Buffer.from([5, 1, 2]), 'ctx').lbytes(), /length 5 exceeds limit|truncated/);
  throwsFormat(() => new ByteReader(Buffer.from([3, 1, 2]), 'ctx').lbytes(), /length 3 exceeds limit|truncated/);
  throwsFormat(() => new ByteReader(Buffer.from([5, 1, 2]), 'ctx').lbytes(100), /truncated/);
  throwsFormat(() => new ByteReader(Buffer.from([3, 1, 2, 3]), 'ctx').lbytes(2), /length 3 exceeds limit 2/);
  // Every proper prefix of a multi-byte varint is truncated.
  const enc = new ByteWriter().uvarintBig((1n << 64n) - 1n).finish();
  for (let n = 0; n < enc.length; n++) throwsFormat(() => new ByteReader(enc.subarray(0, n), 'p').uvarintBig());
  const enc2 = new ByteWriter().uvarint(2 ** 53 - 1).finish();
  for (let n = 0; n < enc2.length; n++) throwsFormat(() => new ByteReader(enc2.subarray(0, n), 'p').uvarint());
});

test('overlong and oversized varints throw FormatError', () => {
  // uvarint: 9 bytes with continuation bits: too long (2^53 needs at most 8 bytes).
  throwsFormat(() => new ByteReader(Buffer.alloc(12, 0x80), 'x').uvarint(), /too long/);
  // uvarint: 8 bytes encoding 2^53 exactly: too large for a safe number.
  const twoTo53 = new ByteWriter().uvarintBig(1n << 53n).finish();
  assert.is(twoTo53.length, 8);
  throwsFormat(() => new ByteReader(twoTo53, 'x').uvarint(), /too large/);
  // uvarintBig: 11 bytes with continuation bits.
  throwsFormat(() => new ByteReader(Buffer.alloc(11, 0xff), 'x').uvarintBig(), /too long/);
  // uvarintBig: 10 bytes whose value is >= 2^64.
  throwsFormat(() => new ByteReader(Buffer.from('ffffffffffffffffff02', 'hex'), 'x').uvarintBig(), /exceeds 64 bits/);
  throwsFormat(() => new ByteReader(Buffer.from('ffffffffffffffffff7f', 'hex'), 'x').svarintBig(), /exceeds 64 bits/);
});

test('count() refuses counts the remaining bytes cannot hold', () => {
  const ok = new ByteReader(Buffer.from([3, 0, 0, 0, 0, 0, 0]), 'c');
  assert.is(ok.count(2), 3);
  throwsFormat(() => new ByteReader(Buffer.from([4, 0, 0, 0, 0, 0, 0]), 'c').count(2), /count 4 cannot fit in 6 remaining bytes/);
  // A huge count (2^53-1) against a tiny buffer is refused before anything allocates.
  const huge = new ByteWriter().uvarint(2 ** 53 - 1).u8(0).finish();
  throwsFormat(() => new ByteReader(huge, 'c').count(1), /cannot fit/);
  assert.is(new ByteReader(Buffer.from([0]), 'c').count(1000), 0);
});

test.run();
