/**
 * XzDecoder (lib/codec/xz-decoder.ts): the same bytes as xz made, for one stream or several,
 * fed in any pieces; output produced step by step (a bomb never sits in memory whole); damage,
 * truncation and a dictionary over the memory limit are clean FormatErrors.
 */
import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { XzDecoder } from '../../lib/codec/xz-decoder.js';
import { FormatError } from '../../lib/errors/index.js';
import { bomb, cannotMake, zeroPieces } from '../helpers/bomb-kit.js';
import { MiB } from '../helpers/peak-rss.js';
import { mulberry32, seededBytes } from '../helpers/seeded.js';

const lzma = createRequire(import.meta.url)('lzma-native') as { compress(b: Buffer, o: object): Promise<Buffer> };

function decodeAll(d: XzDecoder, input: Buffer, seed: number): Buffer {
  const out: Buffer[] = [];
  const r = mulberry32(seed);
  for (let o = 0; o < input.length;) {
    const n = 1 + Math.floor(r() * 70_000);
    for (const b of d.write(input.subarray(o, o + n))) out.push(b);
    o += n;
  }
  for (const b of d.end()) out.push(b);
  return Buffer.concat(out);
}

function refused(f: () => unknown, pattern: RegExp): void {
  try {
    f();
  } catch (e) {
    assert.instance(e, FormatError, String(e));
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a FormatError matching ${pattern}`);
}

test('one stream and concatenated streams decode to the original bytes, in any pieces', async () => {
  const a = seededBytes(300_000, 1);
  const b = Buffer.from('snapshot '.repeat(50_000));
  const one = await lzma.compress(Buffer.concat([a, b]), { preset: 1 });
  const two = Buffer.concat([await lzma.compress(a, { preset: 1 }), await lzma.compress(b, { preset: 6 })]);
  for (const [name, xz] of [['one stream', one], ['two streams', two]] as const) {
    for (const seed of [1, 2]) {
      assert.ok(decodeAll(new XzDecoder(), xz, seed).equals(Buffer.concat([a, b])), `${name}, seed ${seed}`);
    }
  }
});

test('a bomb comes out step by step: decoding 256 MiB of zeros holds a few MiB at a time', async () => {
  const why = cannotMake('xz');
  if (why) { console.log(`  skipped: ${why}`); return; }
  const xz = await bomb('xz', zeroPieces(256 * MiB));
  const d = new XzDecoder();
  const before = process.resourceUsage().maxRSS * 1024;
  let total = 0;
  let nonZero = 0;
  const zero = Buffer.alloc(MiB);
  for (const b of d.write(xz)) { total += b.length; if (b.length > MiB || !b.equals(zero.subarray(0, b.length))) nonZero++; }
  for (const b of d.end()) total += b.length;
  const grew = process.resourceUsage().maxRSS * 1024 - before;
  assert.is(total, 256 * MiB);
  assert.is(nonZero, 0);
  assert.ok(grew < 48 * MiB, `peak RSS grew by ${(grew / MiB).toFixed(0)} MiB`);
});

test('truncation, garbage and bytes after the end are FormatErrors', async () => {
  const xz = await lzma.compress(Buffer.from('tree '.repeat(100_000)), { preset: 1 });
  refused(() => decodeAll(new XzDecoder(), xz.subarray(0, xz.length - 10), 3), /^xz stream is damaged or truncated/);
  refused(() => decodeAll(new XzDecoder(), Buffer.from('not an xz stream at all'), 4), /^xz stream is damaged or truncated/);
  refused(() => decodeAll(new XzDecoder(), Buffer.concat([xz, Buffer.from('trailing garbage')]), 5), /^xz stream is damaged or truncated/);
  const flipped = Buffer.from(xz);
  flipped[Math.floor(xz.length / 2)] ^= 0x10;
  refused(() => decodeAll(new XzDecoder(), flipped, 6), /^xz stream is damaged or truncated/);
});

test('a stream whose dictionary needs more than the memory limit is refused before decoding', async () => {
  const xz = await lzma.compress(Buffer.from('pack '.repeat(1000)), { preset: 6 });
  // Block header at 12: size byte, flags 0 (no sizes), LZMA2 filter 0x21, 1 property byte (the
  // dictionary size code), padding, CRC32. Code 40 asks for a 4 GiB dictionary.
  assert.equal([...xz.subarray(12, 16)], [0x02, 0x00, 0x21, 0x01]);
  const big = Buffer.from(xz);
  big[16] = 40;
  big.writeUInt32LE(crc32(big.subarray(12, 20)), 20);
  refused(() => decodeAll(new XzDecoder(), big, 7), /^xz stream needs more than 128 MiB of memory to decode/);
  refused(() => decodeAll(new XzDecoder(undefined, 1 << 20), xz, 8), /^xz stream needs more than 1 MiB of memory to decode/);
});

test.run();
