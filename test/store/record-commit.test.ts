// Store.commitSnapshot: the record is written last, after the producer's check when the loss
// epoch moved (always, without a start epoch); a refused check writes nothing; a catalogue
// entry that cannot be committed takes the record back. Real store (LMDB index, files).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blake3 } from '../../lib/hash/blake3.js';
import { directoryLocation, Store } from '../../lib/store/index.js';

let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-commit-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

let n = 0;
async function withFreshStore(fn: (s: Store, root: string) => Promise<void>): Promise<void> {
  const root = join(dir, `s${n++}`);
  const s = await Store.open(directoryLocation(root), { create: true });
  try { await fn(s, root); } finally { await s.close(); }
}

function record(tag: string) {
  const value = { version: 1, tag };
  const bytes = Buffer.from(JSON.stringify(value));
  return { id: blake3().hash(bytes).toString('hex'), bytes, record: value };
}

const records = (root: string) => readdirSync(join(root, 'snapshots'));

test('same epoch: no check, the record and its catalogue entry are written', async () => {
  await withFreshStore(async (s, root) => {
    let checks = 0;
    const r = record('same');
    await s.commitSnapshot(r, { startEpoch: s.lossEpoch(), checkReferences: async () => { checks++; } });
    assert.is(checks, 0);
    assert.ok(s.index.hasSnapshot(r.id));
    assert.equal(records(root), [`${r.id}.snap`]);
  });
});

test('epoch moved, or no start epoch: the check runs first, and a refusal writes nothing', async () => {
  await withFreshStore(async (s, root) => {
    let checks = 0;
    await s.commitSnapshot(record('moved'), { startEpoch: 'an-older-epoch', checkReferences: async () => { checks++; } });
    await s.commitSnapshot(record('always'), { checkReferences: async () => { checks++; } });
    assert.is(checks, 2);
    const refused = record('refused');
    try {
      await s.commitSnapshot(refused, { checkReferences: async () => { throw new Error('chunk lost (simulated)'); } });
      assert.unreachable('the check refused it');
    } catch (e) {
      assert.match((e as Error).message, /chunk lost/);
    }
    assert.not.ok(s.index.hasSnapshot(refused.id));
    assert.not.ok(records(root).includes(`${refused.id}.snap`));
  });
});

test('a catalogue entry that cannot be committed takes the record back', async () => {
  await withFreshStore(async (s, root) => {
    const r = record('taken back');
    const index = s.index;
    const real = index.putSnapshot.bind(index);
    index.putSnapshot = async () => { throw new Error('index write failed (simulated)'); };
    try {
      await s.commitSnapshot(r, { checkReferences: async () => {} });
      assert.unreachable('the catalogue write failed');
    } catch (e) {
      assert.match((e as Error).message, /index write failed/);
    } finally {
      index.putSnapshot = real;
    }
    assert.equal(records(root), [], 'no record left behind');
  });
});

test.run();
