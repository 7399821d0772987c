// ChunkTable: dense numbers for ids, checked against a Map over seeded random ids through growth.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkTable, U32Column } from '../../lib/store/chunk-table.js';
import { seededBytes } from '../helpers/seeded.js';

test('numbers are dense, stable across growth, and agree with a Map', () => {
  const table = new ChunkTable(4);
  const ref = new Map<string, number>();
  const pool = seededBytes(32 * 20_000, 42);
  // Every id twice (second time must find the first number), interleaved with new ones.
  for (let i = 0; i < 20_000; i++) {
    const id = pool.subarray(i * 32, i * 32 + 32);
    const r = table.insert(id);
    assert.is(r.added, true);
    assert.is(r.n, i);
    ref.set(id.toString('hex'), i);
    if (i % 3 === 0) {
      const j = Math.floor(i / 2);
      const again = table.insert(pool.subarray(j * 32, j * 32 + 32));
      assert.is(again.added, false);
      assert.is(again.n, j);
    }
  }
  assert.is(table.size, 20_000);
  for (const [hex, n] of ref) {
    assert.is(table.lookup(Buffer.from(hex, 'hex')), n);
    assert.is(table.id(n).toString('hex'), hex);
  }
  const absent = seededBytes(32 * 1000, 43);
  for (let i = 0; i < 1000; i++) assert.is(table.lookup(absent.subarray(i * 32, i * 32 + 32)), -1);
});

test('ids that share their first four bytes (the hash) are still told apart', () => {
  const table = new ChunkTable();
  const ids = Array.from({ length: 50 }, (_, i) => { const b = Buffer.alloc(32, 0xab); b[31] = i; return b; });
  for (const [i, id] of ids.entries()) assert.is(table.insert(id).n, i);
  for (const [i, id] of ids.entries()) assert.is(table.lookup(id), i);
  assert.throws(() => table.insert(Buffer.alloc(31)), /32 bytes/);
});

test('U32Column grows on write and reads 0 where nothing was written', () => {
  const col = new U32Column();
  col.set(5, 7);
  col.set(100_000, 0xffff_ffff);
  assert.is(col.get(5), 7);
  assert.is(col.get(100_000), 0xffff_ffff);
  assert.is(col.get(99_999), 0);
  assert.is(col.get(10_000_000), 0);
});

test.run();
