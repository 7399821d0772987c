// The index's compact copy (lib/index/index-compaction.ts): everything survives, byte for byte,
// through the typed reads StoreIndex makes, and the copy has no unused pages.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blake3 } from '../../lib/hash/blake3.js';
import { StoreIndex } from '../../lib/index/store-index.js';
import type { PackEntry } from '../../lib/store/pack-codec.js';

let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-index-compact-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

const cid = (s: string) => blake3().hash(Buffer.from(s));

/** An index grown as a first snapshot grows it: random ids, a pack per transaction. */
async function grownIndex(path: string, packs: number, perPack: number): Promise<StoreIndex> {
  const idx = StoreIndex.open(path);
  for (let p = 0; p < packs; p++) {
    const entries: PackEntry[] = [];
    for (let i = 0; i < perPack; i++) {
      entries.push({ id: cid(`chunk ${p} ${i}`), type: i % 2, codec: i % 5, rawLength: 1000 + i, storedLength: 300 + p, offset: 8 + i * 400 });
    }
    await idx.addPack(cid(`pack ${p}`).toString('hex'), 1e6 + p, entries);
    idx.putListingMemo(cid(`tree ${p}`), Buffer.alloc(100 + p, p));
  }
  await idx.putSnapshot('ab'.repeat(32), { version: 1, tree: 'cd'.repeat(32), tags: ['x'] });
  await idx.markComplete();
  await idx.flushed();
  return idx;
}

test('a compact copy holds every chunk, pack, memo, snapshot and total, and is smaller', async () => {
  const src = join(dir, 'src');
  const idx = await grownIndex(src, 8, 3000);
  const slack = idx.slack();
  assert.ok(slack.unused > slack.pages * 0.25, `random inserts leave unused pages (${slack.unused} of ${slack.pages})`);
  const before = { totals: idx.totals(), epoch: idx.lossEpoch() };
  const copyDir = join(dir, 'copy');
  await idx.writeCompactCopy(copyDir);
  await idx.close();
  assert.ok(statSync(join(copyDir, 'index.mdb')).size < statSync(join(src, 'index.mdb')).size * 0.6);

  const copy = StoreIndex.open(copyDir, { walk: 'all' });
  try {
    assert.equal(copy.totals(), before.totals);
    assert.is(copy.lossEpoch(), before.epoch);
    assert.ok(copy.isUsable());
    for (let p = 0; p < 8; p++) {
      for (const i of [0, 1, 1234, 2999]) {
        assert.equal(copy.getChunk(cid(`chunk ${p} ${i}`)), {
          packNo: p + 1, packId: cid(`pack ${p}`).toString('hex'), offset: 8 + i * 400,
          storedLength: 300 + p, rawLength: 1000 + i, codec: i % 5, type: i % 2, storedBytes: 300 + p,
        });
      }
      assert.equal(copy.getListingMemo(cid(`tree ${p}`)), Buffer.alloc(100 + p, p));
    }
    assert.is(copy.getChunk(cid('chunk 8 0')), undefined);
    assert.equal(copy.getSnapshot('ab'.repeat(32)), { version: 1, tree: 'cd'.repeat(32), tags: ['x'] });
    const after = copy.slack();
    assert.ok(after.unused <= after.pages * 0.05, `almost no unused pages in the copy (${after.unused} of ${after.pages})`);
    // The copy is an index like any other: it takes new packs.
    await copy.addPack(cid('pack new').toString('hex'), 5, [{ id: cid('new'), type: 0, codec: 0, rawLength: 1, storedLength: 1, offset: 8 }]);
    assert.is(copy.getChunk(cid('new'))?.packNo, 9);
  } finally {
    await copy.close();
  }
});

test.run();
