/**
 * ClaimTable: one claim per id, across levels and across threads (issue 25). Small levels so
 * that ids overflow from level to level within the test; real worker threads racing on the
 * same ids in different orders.
 */
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLAIM_FIRST, CLAIM_TAKEN, CLAIM_UNRECORDED, ClaimTable } from '../../lib/store/claim-table.js';
import { seededBytes } from '../helpers/seeded.js';

function ids(n: number, seed: number): Buffer[] {
  const b = seededBytes(n * 32, seed);
  return Array.from({ length: n }, (_, i) => b.subarray(i * 32, i * 32 + 32));
}

test('every id claimed once, found again in whichever level holds it; past the last level, claims degrade to true', () => {
  const t = ClaimTable.create([8, 16, 32]); // limits 6, 12, 24: 42 ids
  const list = ids(60, 1);
  for (const id of list.slice(0, 42)) assert.ok(t.claim(id), 'first claim');
  for (const id of list.slice(0, 42)) assert.not.ok(t.claim(id), 'second claim');
  // Full: an unknown id is let through (the caller stores it: correct, as without the table).
  for (const id of list.slice(42)) assert.ok(t.claim(id));
  for (const id of list.slice(0, 42)) assert.not.ok(t.claim(id), 'still found');
  assert.throws(() => ClaimTable.create([8, 12]), /power of two/);
});

test('holds finds claimed ids in every level without claiming the others (a receiver\'s "have" answers)', () => {
  const t = ClaimTable.create([8, 16, 32]);
  const list = ids(60, 3);
  for (const id of list.slice(0, 30)) assert.not.ok(t.holds(id), 'not claimed yet');
  for (const id of list.slice(0, 30)) assert.ok(t.claim(id));
  // Levels 0 and 1 are full (6 + 12): the last 12 went on to level 2.
  for (const id of list.slice(0, 30)) assert.ok(t.holds(id), 'held');
  for (const id of list.slice(30)) assert.not.ok(t.holds(id), 'never claimed');
  // Asking did not claim: the first claim of an id asked about is still the first.
  for (const id of list.slice(30, 40)) assert.ok(t.claim(id), 'first claim after holds');
  for (const id of list.slice(30, 40)) assert.ok(t.holds(id));
  const chain = ids(20, 4).map((id) => { const b = Buffer.from(id); b.writeUInt32LE(7, 0); return b; });
  const c = ClaimTable.create([8, 16, 32]);
  for (const id of chain.slice(0, 15)) assert.ok(c.claim(id));
  for (const id of chain.slice(0, 15)) assert.ok(c.holds(id), 'one probe chain, over levels');
  for (const id of chain.slice(15)) assert.not.ok(c.holds(id));
});

test('claimState tells a first claim from one the full table did not record', () => {
  const t = ClaimTable.create([8], true); // limit 6
  assert.ok(t.storeWasEmpty);
  assert.not.ok(ClaimTable.create([8]).storeWasEmpty, 'not said: the index is asked');
  const list = ids(8, 9);
  for (const id of list.slice(0, 6)) assert.is(t.claimState(id), CLAIM_FIRST);
  for (const id of list.slice(0, 6)) assert.is(t.claimState(id), CLAIM_TAKEN);
  // Full: let through, and said so (the caller must then ask the index itself).
  assert.is(t.claimState(list[6]), CLAIM_UNRECORDED);
  assert.is(t.claimState(list[6]), CLAIM_UNRECORDED);
  assert.is(new ClaimTable(t.memory).storeWasEmpty, true, 'passed on with the memory');
});

test('the default levels record every new chunk of a 3,000,000-file first snapshot (the scale target), and past 4,190,000 let ids through unrecorded', () => {
  const t = ClaimTable.create(undefined, true);
  // Ids made from a counter hashed into their first bytes: as uniform as BLAKE3 outputs here, and
  // 3M of them without 96 MB of seeded bytes.
  const id = Buffer.alloc(32);
  const put = (i: number): void => {
    id.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, 0);
    id.writeUInt32LE(Math.imul(i ^ 0x5bd1e995, 2246822519) >>> 0, 4);
    id.writeUInt32LE(i, 8);
  };
  let unrecorded = 0;
  for (let i = 0; i < 3_000_000; i++) { put(i); if (t.claimState(id) !== CLAIM_FIRST) unrecorded++; }
  assert.is(unrecorded, 0, 'every one of 3M new ids recorded');
  put(1_234_567);
  assert.is(t.claimState(id), CLAIM_TAKEN, 'found again in the fifth level');
  for (let i = 3_000_000; i < 4_300_000 && unrecorded === 0; i++) { put(i); if (t.claimState(id) === CLAIM_UNRECORDED) unrecorded = i; }
  assert.ok(unrecorded > 4_100_000 && unrecorded < 4_300_000, `full at ${unrecorded}`);
});

test('ids sharing their first bytes (one probe chain) spill over levels and are each claimed once', () => {
  const t = ClaimTable.create([4, 16, 64]);
  const list = ids(40, 2).map((id) => { const c = Buffer.from(id); c.writeUInt32LE(7, 0); return c; });
  for (const id of list) assert.ok(t.claim(id));
  for (const id of list) assert.not.ok(t.claim(id));
});

test('ids that differ in any one of the compared bytes are told apart; alike in bytes 0-19 (and the low two bits of byte 4), they are taken for one', () => {
  const t = ClaimTable.create([64, 256]);
  const base = ids(1, 4)[0];
  assert.ok(t.claim(base));
  // One probe chain (bytes 0-3 alike), each variant differing from the id in one byte of 4-19.
  for (let b = 4; b < 20; b++) {
    const other = Buffer.from(base);
    other[b] ^= b === 4 ? 0x80 : 0x01;
    assert.ok(t.claim(other), `byte ${b} differs`);
    assert.not.ok(t.claim(other), `byte ${b}: claimed once`);
  }
  // The documented limit (126 bits of the id kept): bytes 20-31 and byte 4's low bits are not compared.
  const alike = Buffer.from(base);
  alike[31] ^= 0xff;
  alike[4] ^= 0x03;
  assert.not.ok(t.claim(alike));
});

test('threads racing on the same ids in different orders: exactly one claim per id', async () => {
  const n = 3000;
  const table = ClaimTable.create([256, 1024, 4096]); // 4032 ids before the last level is full
  const all = Buffer.concat(ids(n, 3));
  const script = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.module).then(({ ClaimTable }) => {
      const t = new ClaimTable(workerData.memory);
      const ids = Buffer.from(workerData.ids);
      const won = new Uint8Array(workerData.n);
      // A seeded order per thread: each starts somewhere else and strides differently.
      for (let k = 0; k < workerData.n; k++) {
        const i = (workerData.seed * 977 + k * (2 * workerData.seed + 1)) % workerData.n;
        if (t.claim(ids.subarray(i * 32, i * 32 + 32))) won[i] = 1;
      }
      parentPort.postMessage(won);
    });`;
  const module = new URL('../../lib/store/claim-table.js', import.meta.url).href;
  const results = await Promise.all([1, 2, 3, 4].map((seed) => new Promise<Uint8Array>((resolve, reject) => {
    const w = new Worker(script, { eval: true, workerData: { module, memory: table.memory, ids: all, n, seed } });
    w.once('message', (m: Uint8Array) => { resolve(m); void w.terminate(); });
    w.once('error', reject);
  })));
  const wins = new Array<number>(n).fill(0);
  for (const r of results) r.forEach((x, i) => { wins[i] += x; });
  assert.equal(wins.filter((w) => w !== 1).length, 0, 'ids claimed other than once');
  for (let i = 0; i < n; i++) assert.not.ok(table.claim(all.subarray(i * 32, i * 32 + 32)));
});

test.run();
