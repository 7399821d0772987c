import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkIdSet } from '../../lib/store/chunk-id-set.js';
import { blake3 } from '../../lib/hash/blake3.js';

const id = (i: number) => blake3().hash(Buffer.from(`chunk ${i}`));

test('ChunkIdSet: add/has across growth, flags kept', () => {
  const s = new ChunkIdSet(10);
  for (let i = 0; i < 5000; i++) assert.ok(s.add(id(i)));
  for (let i = 0; i < 5000; i += 2) s.setFlag(id(i), 2);
  assert.is(s.size, 5000);
  for (let i = 0; i < 5000; i++) {
    assert.ok(s.has(id(i)));
    assert.not.ok(s.add(id(i)));
    assert.is(s.hasFlag(id(i), 2), i % 2 === 0);
  }
  for (let i = 5000; i < 6000; i++) assert.not.ok(s.has(id(i)));
  // Ids that collide in their first 4 bytes (the slot hash) are still told apart.
  const a = Buffer.alloc(32, 1), b = Buffer.alloc(32, 1);
  b[31] = 2;
  assert.ok(s.add(a));
  assert.not.ok(s.has(b));
  assert.ok(s.add(b));
  assert.is(s.size, 5002);
});

test('ChunkIdSet: sized for the expected count, about 66 bytes per id', () => {
  const s = new ChunkIdSet(100_000);
  assert.ok(s.bytes / 100_000 <= 88 && s.bytes / 100_000 >= 33, String(s.bytes));
});

test.run();
