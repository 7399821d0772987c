/**
 * The one exact-length stream reader (lib/util/stream-reader.ts), used by the FXAR stream
 * reader and the tar parser: reads within a piece are views, reads across pieces are exact
 * copies, `release` gets each piece back once used up, and a short stream gives short reads.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamReader } from '../../lib/util/stream-reader.js';
import { seededBytes } from '../helpers/seeded.js';

async function* pieces(all: Buffer, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < all.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, all.length - at);
    yield new Uint8Array(all.buffer, all.byteOffset + at, n);
    at += n;
  }
}

test('reads of every length, across pieces of every size, give the stream\'s bytes in order', async () => {
  const all = seededBytes(100_000, 3);
  for (const sizes of [[1], [7, 0, 13], [4096], [65536, 3], [100_000]]) {
    const r = new StreamReader(pieces(all, sizes));
    const lengths = [0, 1, 5, 17, 4096, 9000, 33_333];
    let at = 0;
    for (let i = 0; at < all.length; i++) {
      const n = lengths[i % lengths.length]!;
      const b = await r.read(n);
      assert.ok(b.equals(all.subarray(at, Math.min(all.length, at + n))), `sizes ${sizes} read ${i} at ${at}`);
      at += b.length;
      assert.is(r.offset, at);
    }
    assert.ok(await r.atEnd());
    assert.is((await r.read(10)).length, 0);
  }
});

test('a read within a piece is a view; `own` and reads across pieces are copies of exactly their bytes', async () => {
  // Sizes over 4 KiB: Node would give small copies a slab they may share with the input.
  const all = seededBytes(100_000, 4);
  const r = new StreamReader(pieces(all, [60_000]));
  const view = await r.read(10_000);
  assert.is(view.buffer, all.buffer, 'a view of the input');
  const own = await r.read(10_000, true);
  assert.is.not(own.buffer, all.buffer);
  assert.ok(own.equals(all.subarray(10_000, 20_000)));
  const across = await r.read(50_000);
  assert.is.not(across.buffer, all.buffer);
  assert.is(across.buffer.byteLength, 50_000, 'exactly its own bytes');
  assert.ok(across.equals(all.subarray(20_000, 70_000)));
});

test('release: every piece back once, in order, after it is used up; reads are then copies', async () => {
  const all = seededBytes(10_000, 5);
  const released: number[] = [];
  const ps: Uint8Array[] = [];
  async function* source(): AsyncGenerator<Uint8Array> { for (let i = 0; i < 10; i++) { const p = new Uint8Array(all.buffer, all.byteOffset + i * 1000, 1000); ps.push(p); yield p; } }
  const r = new StreamReader(source(), (p) => released.push(ps.indexOf(p)));
  const first = await r.read(10);
  assert.is.not(first.buffer, all.buffer, 'a copy: the piece goes back to its producer');
  await r.read(2500);
  assert.equal(released, [0, 1], 'pieces 0 and 1 used up, 2 in use');
  const some = await r.readSome(5000);
  assert.is(some.length, 490, 'readSome gives what the piece at hand holds');
  while (!(await r.atEnd())) await r.read(700);
  assert.equal(released, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
});

test.run();
