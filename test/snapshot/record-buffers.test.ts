/**
 * The buffers that carry fetched records to restore workers (record-buffers.ts): each copy is
 * one buffer holding the records in order, a buffer given back is used again (the smallest that
 * fits), and no more than a bounded number wait.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RecordBuffers } from '../../lib/snapshot/record-buffers.js';
import { mulberry32 } from '../helpers/seeded.js';

const bytes = (n: number, seed: number): Uint8Array => {
  const rnd = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
};

test('records are copied, in order, into one buffer of their own', () => {
  const window = bytes(10_000, 1);
  const records = [window.subarray(5, 2005), window.subarray(3000, 3001), window.subarray(9000, 10_000)];
  const want = records.map((r) => [...r]);
  const { buffer, views } = new RecordBuffers().copy(records);
  assert.is(views.length, 3);
  views.forEach((v, i) => {
    assert.is(v.buffer, buffer);
    assert.equal([...v], want[i]);
  });
  assert.is(views[1]!.byteOffset, 2000);
  window.fill(0);
  views.forEach((v, i) => assert.equal([...v], want[i], 'the copy does not follow the window'));
});

test('a buffer given back is used again: the smallest that holds the records', () => {
  const b = new RecordBuffers();
  const big = b.copy([bytes(300_000, 2)]).buffer;
  const small = b.copy([bytes(1000, 3)]).buffer;
  assert.is(small.byteLength, 64 * 1024);
  assert.is(big.byteLength, 512 * 1024);
  b.giveBack(big);
  b.giveBack(small);
  assert.is(b.kept, 2);
  assert.is(b.copy([bytes(5000, 4)]).buffer, small);
  assert.is(b.copy([bytes(70_000, 5)]).buffer, big, 'the small one is taken: the big one serves');
  assert.is(b.kept, 0);
  assert.is(b.copy([bytes(10, 6)]).buffer.byteLength, 64 * 1024, 'none free: a new one');
});

test('at most 16 wait; empty and missing buffers are not kept', () => {
  const b = new RecordBuffers();
  for (let i = 0; i < 20; i++) b.giveBack(new ArrayBuffer(64 * 1024));
  assert.is(b.kept, 16);
  const c = new RecordBuffers();
  c.giveBack(undefined);
  c.giveBack(new ArrayBuffer(0));
  assert.is(c.kept, 0);
  assert.is(c.copy([]).buffer.byteLength, 0);
});

test.run();
