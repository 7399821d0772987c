/**
 * What a crash leaves is picked up without a rebuild: a sealed pack the index does not know is
 * indexed by the next writer, a snapshot record the catalogue lacks appears on the next open,
 * and temporary blobs of dead writers are removed.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CODEC_IDS } from '../../lib/codec/codec.js';
import { blake3 } from '../../lib/hash/blake3.js';
import { Store } from '../../lib/store/chunk-store.js';
import { directoryLocation } from '../../lib/store/store-location.js';
import { PackWriter } from '../../lib/store/pack-writer.js';
import { CHUNK_DATA } from '../../lib/store/store-layout.js';
import { tempDir } from '../helpers/run-cli.js';

test('an unindexed pack is indexed by reconcilePacks and its chunks load', async () => {
  const t = tempDir();
  try {
    const root = join(t.path, 'store');
    let store = await Store.open(directoryLocation(root), { create: true });
    const data = Buffer.from('chunk written by a writer that died before indexing');
    const id = blake3().hash(data);
    const w = await PackWriter.open(store.storage);
    w.add(id, CHUNK_DATA, CODEC_IDS.none, data.length, data);
    await w.seal();
    assert.not.ok(store.index.hasChunk(id), 'the index does not know the pack yet');
    assert.is(await store.reconcilePacks(), 1);
    assert.ok(store.index.hasChunk(id));
    assert.ok(Buffer.from(await store.loadChunk(id)).equals(data));
    await store.close();
    store = await Store.open(directoryLocation(root));
    assert.ok(store.index.hasChunk(id), 'still indexed after reopening');
    await store.close();
  } finally { t.cleanup(); }
});

test('a snapshot record missing from the catalogue appears on the next open', async () => {
  const t = tempDir();
  try {
    const root = join(t.path, 'store');
    let store = await Store.open(directoryLocation(root), { create: true });
    const rec = { version: 1, time: new Date().toISOString(), source: '/x', host: 'h', user: 'u', tags: [], tree: 'ab'.repeat(32), parent: null, codec: 'zstd:1', stats: {} };
    const bytes = Buffer.from(JSON.stringify(rec));
    const id = blake3().hash(bytes).toString('hex');
    await store.storage.put('snapshot', id, bytes);
    assert.not.ok(store.index.hasSnapshot(id));
    await store.close();
    store = await Store.open(directoryLocation(root));
    assert.ok(store.index.hasSnapshot(id));
    rmSync(join(root, 'snapshots', `${id}.snap`));
    await store.close();
    store = await Store.open(directoryLocation(root));
    assert.not.ok(store.index.hasSnapshot(id), 'an entry whose record is gone is dropped');
    await store.close();
  } finally { t.cleanup(); }
});

test('cleanTmp removes temporary blobs of dead processes only', async () => {
  const t = tempDir();
  try {
    const root = join(t.path, 'store');
    const store = await Store.open(directoryLocation(root), { create: true });
    mkdirSync(join(root, 'tmp'), { recursive: true });
    writeFileSync(join(root, 'tmp', 'pack-999999-deadbeef0000'), 'partial');
    writeFileSync(join(root, 'tmp', `pack-${process.pid}-aaaaaaaaaaaa`), 'mine');
    assert.is(await store.cleanTmp(), 1);
    assert.equal(readdirSync(join(root, 'tmp')), [`pack-${process.pid}-aaaaaaaaaaaa`]);
    await store.close();
  } finally { t.cleanup(); }
});

test.run();
