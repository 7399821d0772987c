// Swapping a store's index for its compact copy (lib/store/index-compact.ts): the directory
// holds the copy afterwards, nothing is left beside it, a reader that had the old index open
// still reads it whole, and an index with little to gain is left alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blake3 } from '../../lib/hash/blake3.js';
import { StoreIndex } from '../../lib/index/store-index.js';
import { compactIndexDir } from '../../lib/store/index-compact.js';
import type { PackEntry } from '../../lib/store/pack-codec.js';

let root = '';
let n = 0;
test.before(() => { root = mkdtempSync(join(tmpdir(), 'fx-index-swap-')); });
test.after(() => { rmSync(root, { recursive: true, force: true }); });

const cid = (s: string) => blake3().hash(Buffer.from(s));

async function addPacks(idx: StoreIndex, packs: number, perPack: number): Promise<void> {
  for (let p = 0; p < packs; p++) {
    const entries: PackEntry[] = [];
    for (let i = 0; i < perPack; i++) entries.push({ id: cid(`c ${p} ${i}`), type: 0, codec: 1, rawLength: 100, storedLength: 50, offset: 8 + i * 94 });
    await idx.addPack(cid(`p ${p}`).toString('hex'), 1000, entries);
  }
  await idx.flushed();
}

test('a grown index is swapped for its copy; an old reader keeps its whole view', async () => {
  const store = join(root, `s${n++}`);
  const dir = join(store, 'index');
  const idx = StoreIndex.open(dir);
  await addPacks(idx, 6, 2500);
  const reader = StoreIndex.open(dir, { readOnly: true });
  const r = await compactIndexDir(idx, dir, 0);
  assert.ok(r, 'compacted');
  assert.ok(r!.after < r!.before * 0.6, `${r!.before} -> ${r!.after}`);
  assert.is(statSync(join(dir, 'index.mdb')).size, r!.after);
  assert.equal(readdirSync(store), ['index'], 'no copy or discarded index left beside it');
  assert.is(reader.getChunk(cid('c 5 2499'))?.packNo, 6, 'the reader opened before still reads');
  await reader.close();
  const fresh = StoreIndex.open(dir, { walk: 'all' });
  assert.is(fresh.totals().chunks, 15_000);
  assert.is(fresh.getChunk(cid('c 0 0'))?.offset, 8);
  // Nothing more to gain now: left alone.
  assert.is(await compactIndexDir(fresh, dir, 0), null);
  await fresh.close();
});

test('a small index is left alone', async () => {
  const dir = join(root, `s${n++}`, 'index');
  const idx = StoreIndex.open(dir);
  await addPacks(idx, 6, 200);
  const size = statSync(join(dir, 'index.mdb')).size;
  assert.is(await compactIndexDir(idx, dir), null);
  assert.is(statSync(join(dir, 'index.mdb')).size, size);
  await idx.close();
});

test.run();
