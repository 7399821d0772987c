// Swapping a store's index for its compact copy (lib/store/index-compact.ts): the directory
// holds the copy afterwards, nothing is left beside it, a reader that had the old index open
// still reads it whole, and an index with little to gain is left alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blake3 } from '../../lib/hash/blake3.js';
import { StoreIndex } from '../../lib/index/store-index.js';
import { compactIndexDir } from '../../lib/store/index-compact.js';
import { withStore } from '../../lib/store/open-store.js';
import { StoreLock } from '../../lib/store/store-lock.js';
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
  const r = await compactIndexDir(idx, dir, () => idx.close(), 0);
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
  assert.is(await compactIndexDir(fresh, dir, () => fresh.close(), 0), null);
  await fresh.close();
});

test('a small index is left alone', async () => {
  const dir = join(root, `s${n++}`, 'index');
  const idx = StoreIndex.open(dir);
  await addPacks(idx, 6, 200);
  const size = statSync(join(dir, 'index.mdb')).size;
  assert.is(await compactIndexDir(idx, dir, () => idx.close()), null);
  assert.is(statSync(join(dir, 'index.mdb')).size, size);
  await idx.close();
});

/** A store whose index grows past COMPACT_MIN_BYTES in `withStore(compactIndex)`, as a snapshot's would. */
async function growInStore(path: string): Promise<number> {
  return withStore(path, { create: true, lock: 'shared', command: 'test', compactIndex: true }, async (store) => {
    await addPacks(store.index, 8, 4000);
    return statSync(join(path, 'index', 'index.mdb')).size;
  });
}

test('withStore compactIndex: compacts under the exclusive lock, and leaves no lock behind', async () => {
  const path = join(root, `s${n++}`);
  const grown = await growInStore(path);
  assert.ok(grown > 1 << 20, `grown to ${grown}`);
  const size = statSync(join(path, 'index', 'index.mdb')).size;
  assert.ok(size < grown * 0.6, `${grown} -> ${size}`);
  assert.equal(readdirSync(join(path, 'locks')).filter((f) => f.endsWith('.lock')), []);
  await withStore(path, { lock: 'shared', command: 'test' }, async (store) => {
    assert.is(store.index.totals().chunks, 32_000);
  });
});

test('withStore compactIndex: another holder of a lock means no compaction and no wait', async () => {
  const path = join(root, `s${n++}`);
  mkdirSync(path);
  const other = await StoreLock.acquire(path, { exclusive: false, command: 'another snapshot' });
  try {
    const grown = await growInStore(path);
    assert.is(statSync(join(path, 'index', 'index.mdb')).size, grown);
  } finally {
    other.release();
  }
});

test.run();
