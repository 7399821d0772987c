// A pack closes at PACK_MAX_RECORDS records whatever its bytes (store-layout.ts): a writer holds
// every record's entry until its pack is sealed and indexed, so tiny chunks (a first snapshot
// of a million small files) must not make one pack of a million records. Both writers, the
// workers' (worker-packer.ts, here on the main thread) and the main thread's (chunk-writer.ts),
// on a real store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blake3 } from '../../lib/hash/blake3.js';
import { ChunkWriter } from '../../lib/store/chunk-writer.js';
import { directoryLocation, Store } from '../../lib/store/index.js';
import { PACK_MAX_RECORDS } from '../../lib/store/store-layout.js';
import { WorkerPacker } from '../../lib/store/worker-packer.js';

let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-pack-records-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

const N = PACK_MAX_RECORDS + 100;
/** Chunk k: a few distinct bytes and their id. */
function chunk(k: number): [Buffer, Buffer] {
  const bytes = Buffer.from(`c${k}`);
  return [blake3().hash(bytes), bytes];
}

test('the workers\' packer seals a pack of tiny chunks at PACK_MAX_RECORDS records', async () => {
  const store = await Store.open(directoryLocation(join(dir, 'w')), { create: true });
  try {
    const packer = new WorkerPacker(store.workerRef());
    for (let k = 0; k < N; k++) {
      const [id, bytes] = chunk(k);
      packer.add(id, 0, bytes.length, bytes);
      if (k % 4096 === 0) await packer.settle();
    }
    const packs = await packer.finish();
    assert.equal(packs.map((p) => p.entries.length).sort((a, b) => b - a), [PACK_MAX_RECORDS, 100]);
  } finally {
    await store.close();
  }
});

test('the main thread\'s writer does the same', async () => {
  const store = await Store.open(directoryLocation(join(dir, 'm')), { create: true });
  try {
    const w = new ChunkWriter(store);
    for (let k = 0; k < N; k++) {
      const [id, bytes] = chunk(k);
      await w.add(id, 0, 0, bytes.length, bytes);
    }
    await w.flush();
    const perPack = new Map<number, number>();
    for (const c of store.index.listChunks()) perPack.set(c.packNo, (perPack.get(c.packNo) ?? 0) + 1);
    assert.equal([...perPack.values()].sort((a, b) => b - a), [PACK_MAX_RECORDS, 100]);
  } finally {
    await store.close();
  }
});

test.run();
