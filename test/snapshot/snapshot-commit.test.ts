/**
 * commitSnapshot, the last step of every producer: when the store's loss epoch moved while the
 * producer ran (another process found a pack missing), the snapshot's chunks are looked up once
 * more and a snapshot that lost some is refused; in the same epoch the record goes straight in.
 * Also Store.reconcilePacks: a pack the index lists that is gone is forgotten, and the epoch moves.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listSnapshots } from '../../lib/snapshot/snapshot-catalogue.js';
import { commitSnapshot } from '../../lib/snapshot/snapshot-commit.js';
import { FIRST_LOSS_EPOCH } from '../../lib/index/loss-epoch.js';
import type { Store } from '../../lib/store/chunk-store.js';
import { withStore } from '../../lib/store/open-store.js';
import { fxcpJson, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

function setup(root: string): string {
  const src = join(root, 'src'), store = join(root, 'store');
  mkdirSync(join(src, 'a'), { recursive: true });
  for (let i = 0; i < 4; i++) writeFileSync(join(src, 'a', `f${i}`), seededBytes(200_000, i + 7));
  fxcpJson(['snap', 'create', src, store]);
  return store;
}

/** A store made by the real CLI (setup), opened as a command would, removed afterwards. */
async function withTestStore(fn: (s: Store, path: string) => Promise<void>): Promise<void> {
  const t = tempDir();
  try {
    const store = setup(t.path);
    await withStore(store, { lock: 'shared', command: 'test' }, (s) => fn(s, store));
  } finally {
    t.cleanup();
  }
}

function biggestPack(store: string): string {
  const all: string[] = [];
  for (const fan of readdirSync(join(store, 'packs'))) for (const f of readdirSync(join(store, 'packs', fan))) all.push(join(store, 'packs', fan, f));
  return all.sort((a, b) => statSync(b).size - statSync(a).size)[0];
}

test('same epoch: the record is committed without a lookup; the epoch is recorded', async () => {
  await withTestStore(async (s) => {
    const [snap] = listSnapshots(s);
    assert.is(snap.record.lossEpoch, s.lossEpoch());
    assert.is.not(s.lossEpoch(), FIRST_LOSS_EPOCH, 'a new store starts with a fresh epoch');
    const { id, record } = await commitSnapshot(s, { ...snap.record, tags: ['again'] }, s.lossEpoch());
    assert.is(record.lossEpoch, s.lossEpoch());
    assert.ok(s.index.hasSnapshot(id));
  });
});

test('a pack lost while a producer ran: its snapshot is refused, not recorded', async () => {
  await withTestStore(async (s, store) => {
    const [snap] = listSnapshots(s);
    const start = s.lossEpoch();
    rmSync(biggestPack(store));
    const warnings: string[] = [];
    await s.reconcilePacks((code) => warnings.push(code));
    assert.ok(warnings.includes('MISSING_PACK'), warnings.join());
    assert.is.not(s.lossEpoch(), start, 'the loss epoch moved on');
    const before = [...s.index.listSnapshotIds()].length;
    try {
      await commitSnapshot(s, { ...snap.record, tags: ['late'] }, start);
      assert.unreachable('a snapshot that needs lost chunks was recorded');
    } catch (err) {
      assert.is((err as { code?: string }).code, 'CHUNKS_LOST');
      assert.match((err as Error).message, /no snapshot was recorded/);
    }
    assert.is([...s.index.listSnapshotIds()].length, before);
    assert.is(s.index.totals().packs, s.index.packCount(), 'index totals follow the forgotten pack');
  });
});

test('epoch moved but nothing this snapshot needs was lost: committed', async () => {
  await withTestStore(async (s) => {
    const [snap] = listSnapshots(s);
    const start = s.lossEpoch();
    await s.index.forgetPacks([]); // a new epoch, nothing forgotten
    const { record } = await commitSnapshot(s, { ...snap.record, tags: ['checked'] }, start);
    assert.is(record.lossEpoch, start);
  });
});

test.run();
