/**
 * IdTable: each id once, found again across the growth of its slots and its blocks of rows,
 * whatever the collisions; rows in id order; the bytes beside each id kept.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IdTable } from '../../lib/hash/id-table.js';
import { seededBytes } from '../helpers/seeded.js';

function ids(n: number, seed: number): Buffer[] {
  const b = seededBytes(n * 32, seed);
  return Array.from({ length: n }, (_, i) => b.subarray(i * 32, i * 32 + 32));
}

test('40,000 ids (past a block of rows and several doublings of the slots): each added once, found, their rows kept', () => {
  const t = new IdTable(40);
  const list = ids(40_000, 1);
  list.forEach((id, i) => {
    const row = t.add(id);
    assert.is(row, i);
    t.block(row).writeUInt32LE(i * 7, t.offset(row) + 32);
  });
  assert.is(t.count, 40_000);
  for (const id of list) assert.is(t.add(id), -1, 'a second add');
  list.forEach((id, i) => {
    const row = t.find(id);
    assert.is(row, i);
    assert.ok(t.block(row).subarray(t.offset(row), t.offset(row) + 32).equals(id));
    assert.is(t.block(row).readUInt32LE(t.offset(row) + 32), i * 7);
  });
  for (const id of ids(1000, 2)) assert.not.ok(t.has(id), 'an id never added');
});

test('ids alike in the bytes that choose the slot, or in all but the last, stay apart', () => {
  const t = new IdTable();
  const list = ids(5000, 3);
  for (const id of list) id.fill(0xab, 0, 31); // only the last byte differs (256 distinct)
  const distinct = new Set(list.map((id) => id[31])).size;
  let added = 0;
  for (const id of list) if (t.add(id) >= 0) added++;
  assert.is(added, distinct);
  for (const id of list) assert.ok(t.has(id));
  const other = Buffer.alloc(32, 0xab);
  other[30] = 0;
  assert.not.ok(t.has(other));
});

test('sortedRows gives the rows in bytewise order of their ids (equal two-byte prefixes included)', () => {
  const t = new IdTable();
  const list = ids(30_000, 4);
  for (let i = 0; i < 3000; i++) list[i][0] = list[i][1] = 7; // a long run in one bucket
  for (const id of list) t.add(id);
  const order = t.sortedRows();
  assert.is(order.length, t.count);
  const got = Array.from(order, (r) => Buffer.from(t.block(r).subarray(t.offset(r), t.offset(r) + 32)));
  const want = [...new Map(list.map((id) => [id.toString('hex'), id])).values()].sort(Buffer.compare);
  assert.equal(got.map((b) => b.toString('hex')), want.map((b) => b.toString('hex')));
  assert.is(new IdTable().sortedRows().length, 0);
});

test('rejects rows too short for an id and ids that are not 32 bytes', () => {
  assert.throws(() => new IdTable(31), /at least the 32-byte id/);
  assert.throws(() => new IdTable().add(Buffer.alloc(31)), /an id is 32 bytes/);
});

test.run();
