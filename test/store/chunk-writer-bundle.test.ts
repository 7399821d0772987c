/**
 * ChunkWriter.addBundle (an import's or a transfer's bundles): the bundle and its members in one
 * pack, each member found through the index; a member the store holds by then makes the others
 * go one by one, so no chunk is stored twice.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkCodec } from '../../lib/codec/codec.js';
import { CODEC_BUNDLED } from '../../lib/codec/codec-ids.js';
import { VerifiedBundles } from '../../lib/store/verified-bundles.js';
import { blake3 } from '../../lib/hash/blake3.js';
import { Store } from '../../lib/store/chunk-store.js';
import { ChunkWriter } from '../../lib/store/chunk-writer.js';
import { directoryLocation } from '../../lib/store/store-location.js';
import { CHUNK_BUNDLE, CHUNK_DATA } from '../../lib/store/store-layout.js';
import { tempDir } from '../helpers/run-cli.js';

const raws = Array.from({ length: 40 }, (_, i) => Buffer.from(`member ${i}: ${'text that compresses '.repeat(20 + i)}`));
const ids = raws.map((r) => blake3().hash(r));

function bundleOf(indices: number[]) {
  const b = new VerifiedBundles(new ChunkCodec());
  for (const i of indices) b.add(ids[i], raws[i]);
  b.close();
  const [one] = b.take();
  return one;
}

async function records(store: Store): Promise<{ bundles: number; members: number; byId: Map<string, number> }> {
  let bundles = 0, members = 0;
  const byId = new Map<string, number>();
  for (const { info } of store.index.listPacks()) {
    for (const e of await store.packEntries(info.id)) {
      if (e.type === CHUNK_BUNDLE) bundles++;
      if (e.codec === CODEC_BUNDLED) members++;
      if (e.type !== CHUNK_BUNDLE) byId.set(e.id.toString('hex'), (byId.get(e.id.toString('hex')) ?? 0) + 1);
    }
  }
  return { bundles, members, byId };
}

test('a bundle goes in whole; with a member held already, the rest go one by one and nothing is stored twice', async () => {
  const t = tempDir();
  const store = await Store.open(directoryLocation(join(t.path, 'store')), { create: true });
  try {
    const w = new ChunkWriter(store);
    const first = await w.addBundle(bundleOf([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    assert.equal(first, { chunks: 10, storedBytes: w.stats.newStoredBytes });
    await w.add(ids[20], CHUNK_DATA, 0, raws[20].length, raws[20]);
    await w.flush();
    const added = await w.addBundle(bundleOf([20, 21, 22, 3]));
    await w.flush();
    assert.is(added.chunks, 2);
    const r = await records(store);
    assert.is(r.bundles, 1);
    assert.is(r.members, 10);
    for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 21, 22]) {
      assert.is(r.byId.get(ids[i].toString('hex')), 1, `chunk ${i} stored once`);
      assert.ok(Buffer.from(await store.loadChunk(ids[i])).equals(raws[i]));
    }
  } finally {
    await store.close();
    t.cleanup();
  }
});

test.run();
