// StoreIndex.replacePacks (gc's one index step) on real LMDB: old packs and their chunk entries
// go, new packs and entries come, totals follow, in one transaction.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blake3 } from '../../lib/hash/blake3.js';
import { StoreIndex } from '../../lib/index/store-index.js';
import type { PackEntry } from '../../lib/store/pack-codec.js';

const cid = (s: string) => blake3().hash(Buffer.from(s));
const packId = (s: string) => cid(`pack ${s}`).toString('hex');
const pe = (s: string, offset: number): PackEntry => ({ id: cid(s), type: 0, codec: 1, rawLength: 1000, storedLength: 400, offset });

test('replacePacks moves live chunks, drops dead ones, keeps totals exact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fx-index-'));
  try {
    const idx = StoreIndex.open(dir);
    const a = [pe('live1', 8), pe('dead1', 452)], b = [pe('dead2', 8)], c = [pe('other', 8), pe('live1', 452)];
    await idx.addPack(packId('a'), 1000, a);
    await idx.addPack(packId('b'), 500, b);
    await idx.addPack(packId('c'), 900, c); // holds a second copy of live1: not indexed
    assert.is(idx.totals().chunks, 4);
    const noA = idx.packNo(packId('a'))!, noB = idx.packNo(packId('b'))!;
    const fresh = [pe('live1', 8)];
    await idx.replacePacks([{ packId: packId('new'), size: 480, entries: fresh }], [{ packNo: noA, entries: a }, { packNo: noB, entries: b }]);
    assert.is(idx.getChunk(cid('live1'))!.packId, packId('new'));
    assert.is(idx.getChunk(cid('dead1')), undefined);
    assert.is(idx.getChunk(cid('dead2')), undefined);
    assert.is(idx.getChunk(cid('other'))!.packId, packId('c'));
    assert.not.ok(idx.hasPack(packId('a')));
    assert.not.ok(idx.hasPack(packId('b')));
    const t = idx.totals();
    assert.equal({ chunks: t.chunks, packs: t.packs, packBytes: t.packBytes }, { chunks: 2, packs: 2, packBytes: 1380 });
    assert.is(idx.chunkCount(), 2);
    // A new pack whose id is already indexed (rebuilt byte for byte) gets the entries that lost theirs.
    const noC = idx.packNo(packId('c'))!;
    await idx.replacePacks([{ packId: packId('new'), size: 480, entries: fresh }], []);
    await idx.replacePacks([], [{ packNo: idx.packNo(packId('new'))!, entries: fresh }]);
    assert.is(idx.getChunk(cid('live1')), undefined);
    await idx.addPack(packId('x'), 480, fresh);
    await idx.addPack(packId('again'), 480, fresh); // indexed, but live1 stays in x
    assert.is(idx.getChunk(cid('live1'))!.packId, packId('x'));
    await idx.replacePacks([{ packId: packId('again'), size: 480, entries: fresh }], [{ packNo: idx.packNo(packId('x'))!, entries: fresh }]);
    assert.is(idx.getChunk(cid('live1'))!.packId, packId('again'));
    assert.is(idx.totals().chunks, idx.chunkCount());
    assert.ok(noC > 0);
    await idx.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
