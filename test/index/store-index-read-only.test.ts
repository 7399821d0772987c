/**
 * Issue 18: StoreIndex opened read-only (D5) writes nothing, keeps catalogue changes in memory
 * and refuses other writes; a damaged index is refused with INDEX_DAMAGED before LMDB maps it
 * (D3), and an index naming a pack it does not list says INDEX_DAMAGED too.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ToolkitError } from '../../lib/errors/index.js';
import { blake3 } from '../../lib/hash/blake3.js';
import { StoreIndex } from '../../lib/index/store-index.js';

let dir = '';
let n = 0;
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-idxro-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });
const fresh = () => join(dir, `idx-${n++}`);
const cid = (s: string) => blake3().hash(Buffer.from(s));

function codeOf(fn: () => unknown): string {
  try { fn(); } catch (e) { assert.instance(e, ToolkitError, String(e)); return (e as ToolkitError).code; }
  return 'no error';
}

test('read-only: a missing index is NO_INDEX and nothing is created', () => {
  const d = fresh();
  assert.is(codeOf(() => StoreIndex.open(d, { readOnly: true })), 'NO_INDEX');
  assert.throws(() => statSync(d));
});

test('read-only: catalogue changes stay in memory; the file is not touched; other writes are refused', async () => {
  const d = fresh();
  const a = 'a'.repeat(64), b = 'b'.repeat(64), c = 'c'.repeat(64);
  const w = StoreIndex.open(d);
  await w.putSnapshot(a, { n: 1 });
  await w.putSnapshot(b, { n: 2 });
  await w.markComplete();
  await w.close();
  const before = readFileSync(join(d, 'index.mdb'));
  const files = readdirSync(d).sort();

  const r = StoreIndex.open(d, { readOnly: true });
  assert.ok(r.isUsable());
  await r.putSnapshot(c, { n: 3 });
  await r.removeSnapshot(a);
  assert.is(r.hasSnapshot(a), false);
  assert.is(r.hasSnapshot(c), true);
  assert.equal([...r.listSnapshotIds()].sort(), [b, c]);
  assert.equal([...r.listSnapshots()].map((s) => s.id).sort(), [b, c]);
  assert.equal([...r.listSnapshots()].find((s) => s.id === c)?.record, { n: 3 });
  assert.is(await r.addPack(cid('p').toString('hex'), 1, []).then(() => 'written', (e: ToolkitError) => e.code), 'INTERNAL');
  assert.is(await r.markComplete().then(() => 'written', (e: ToolkitError) => e.code), 'INTERNAL');
  r.putListingMemo(cid('tree'), Buffer.from([1]));
  await r.close();

  assert.ok(readFileSync(join(d, 'index.mdb')).equals(before), 'the data file is unchanged');
  assert.equal(readdirSync(d).sort(), files);
  const again = StoreIndex.open(d, { readOnly: true });
  assert.equal([...again.listSnapshotIds()].sort(), [a, b]);
  await again.close();
});

test('a damaged data file is INDEX_DAMAGED, read-only or not, and is left as it was', async () => {
  const d = fresh();
  await StoreIndex.open(d).close();
  const file = join(d, 'index.mdb');
  writeFileSync(file, Buffer.alloc(8192, 0xa5));
  for (const readOnly of [false, true]) {
    try {
      StoreIndex.open(d, { readOnly });
      assert.unreachable('opened a damaged index');
    } catch (e) {
      assert.instance(e, ToolkitError);
      assert.is((e as ToolkitError).code, 'INDEX_DAMAGED');
      assert.match((e as Error).message, new RegExp(`^${file}: damaged index: `));
    }
  }
  assert.ok(readFileSync(file).equals(Buffer.alloc(8192, 0xa5)));
});

test('a chunk naming a pack the index does not list is INDEX_DAMAGED, with the command that fixes it', async () => {
  const d = fresh();
  const idx = StoreIndex.open(d);
  const p = cid('pack').toString('hex');
  const entries = [{ id: cid('x'), type: 0, codec: 1, rawLength: 5, storedLength: 5, offset: 8 }];
  await idx.addPack(p, 100, entries);
  // gc's step with the chunk entry kept: drop the pack but leave its chunk pointing at it.
  await idx.replacePacks([], [{ packNo: idx.packNo(p)!, entries: [] }]);
  try {
    idx.getChunk(cid('x'));
    assert.unreachable('no error');
  } catch (e) {
    assert.instance(e, ToolkitError);
    assert.is((e as ToolkitError).code, 'INDEX_DAMAGED');
    assert.match((e as Error).message, /names pack #1, which it does not list \(run 'fxcp store rebuild-index'\)/);
  }
  await idx.close();
});

test.run();
