/**
 * snap stats on real stores made by the real archiver, checked against an independent count:
 * a plain recursive walk of every snapshot collecting chunk ids in a Set (no memo, no skipping),
 * then set arithmetic for what is shared and what is unique.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listSnapshots } from '../../lib/snapshot/snapshot-catalogue.js';
import { snapshotStats, type StoreUsage, type UsageCounts } from '../../lib/snapshot/snapshot-stats.js';
import { loadTreeWithParts } from '../../lib/snapshot/tree-store.js';
import type { Store } from '../../lib/store/chunk-store.js';
import { withStore } from '../../lib/store/open-store.js';
import { CHUNK_DATA } from '../../lib/store/store-layout.js';
import { fxcpJson, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const snap = (src: string, store: string): string => fxcpJson(['snap', 'create', src, store]).snapshot.id;

/** Every chunk id (hex) a tree references, itself included, by plain recursion. */
async function chunksOf(store: Store, treeId: Buffer, into: Set<string>): Promise<void> {
  into.add(treeId.toString('hex'));
  const { entries, parts } = await loadTreeWithParts(store, treeId);
  for (const p of parts) into.add(p.id.toString('hex'));
  for (const e of entries) {
    for (const c of e.chunks ?? []) into.add(c.id.toString('hex'));
    if (e.subtree) await chunksOf(store, e.subtree, into);
  }
}

function sum(store: Store, ids: Iterable<string>): UsageCounts {
  const r = { chunks: 0, rawBytes: 0, storedBytes: 0 };
  for (const hex of ids) {
    const loc = store.locate(Buffer.from(hex, 'hex'));
    r.chunks++;
    r.rawBytes += loc.rawLength;
    r.storedBytes += loc.storedBytes;
  }
  return r;
}

async function check(storeDir: string): Promise<StoreUsage> {
  return withStore(storeDir, { lock: 'shared', command: 'test' }, async (store) => {
    const warnings: string[] = [];
    const u = await snapshotStats(store, { onWarn: (code) => warnings.push(code) });
    assert.equal(warnings, []);
    const snaps = listSnapshots(store);
    const sets: Array<Set<string>> = [];
    for (const s of snaps) {
      const set = new Set<string>();
      await chunksOf(store, Buffer.from(s.record.tree, 'hex'), set);
      sets.push(set);
    }
    const refCount = new Map<string, number>();
    for (const set of sets) for (const id of set) refCount.set(id, (refCount.get(id) ?? 0) + 1);
    assert.is(u.snapshots.length, snaps.length);
    for (let i = 0; i < snaps.length; i++) {
      assert.is(u.snapshots[i].id, snaps[i].id);
      assert.equal(u.snapshots[i].referenced, sum(store, sets[i]), `referenced, snapshot ${i}`);
      assert.equal(u.snapshots[i].unique, sum(store, [...sets[i]].filter((id) => refCount.get(id) === 1)), `unique, snapshot ${i}`);
      assert.is(u.snapshots[i].apparentBytes, snaps[i].record.stats.bytes);
    }
    const all = sum(store, refCount.keys());
    const data = [...refCount.keys()].filter((id) => store.locate(Buffer.from(id, 'hex')).type === CHUNK_DATA);
    assert.equal({ chunks: u.total.referenced.chunks, rawBytes: u.total.referenced.rawBytes, storedBytes: u.total.referenced.storedBytes }, all);
    assert.is(u.total.referenced.dataChunks, data.length);
    assert.is(u.total.referenced.treeChunks, all.chunks - data.length);
    // Nothing was ever deleted: every chunk in the store is referenced.
    const inIndex = store.index.totals();
    assert.is(inIndex.chunks, all.chunks);
    assert.equal(u.total.unreferenced, { chunks: 0, rawBytes: 0, storedBytes: 0 });
    // The histogram covers exactly the data chunks, each in its power-of-two bucket.
    assert.is(u.histogram.reduce((s, b) => s + b.chunks, 0), data.length);
    assert.is(u.histogram.reduce((s, b) => s + b.bytes, 0), sum(store, data).rawBytes);
    for (const id of data) {
      const raw = store.locate(Buffer.from(id, 'hex')).rawLength;
      assert.ok(u.histogram.some((b) => b.from <= raw && raw < b.to && b.chunks > 0), `bucket for ${raw}`);
    }
    return u;
  });
}

test('referenced and unique chunks per snapshot match a plain walk, across four snapshots', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    mkdirSync(join(src, 'a/b'), { recursive: true });
    mkdirSync(join(src, 'twin1'));
    mkdirSync(join(src, 'twin2'));
    writeFileSync(join(src, 'a/b/big.bin'), seededBytes(400_000, 1));
    writeFileSync(join(src, 'a/small.txt'), 'small\n'.repeat(100));
    writeFileSync(join(src, 'copy1.bin'), seededBytes(150_000, 2));
    writeFileSync(join(src, 'copy2.bin'), seededBytes(150_000, 2));
    // Two identical directories: one tree id within a snapshot, counted once.
    for (const d of ['twin1', 'twin2']) writeFileSync(join(src, d, 'same'), 'same bytes');
    snap(src, store);
    writeFileSync(join(src, 'a/new.bin'), seededBytes(90_000, 3));
    writeFileSync(join(src, 'a/small.txt'), 'changed\n');
    snap(src, store);
    rmSync(join(src, 'a/b'), { recursive: true });
    // A directory whose listing is over 1 MiB: stored as an index chunk plus parts.
    mkdirSync(join(src, 'wide'));
    for (let i = 0; i < 7000; i++) writeFileSync(join(src, 'wide', `${'long-name-'.repeat(10)}${String(i).padStart(5, '0')}`), `#${i}`);
    snap(src, store);
    snap(src, store); // nothing changed: the same root tree as the third
    const u = await check(store);
    const [s1, s2, s3, s4] = u.snapshots;
    // big.bin is only in the first two: shared, so neither frees it alone.
    assert.ok(s1.unique.rawBytes < 400_000 && s1.unique.rawBytes > 0, `s1 unique ${s1.unique.rawBytes}`);
    assert.ok(s2.unique.chunks > 0 && s2.unique.rawBytes < 90_000, 'new.bin is kept by the later snapshots too');
    assert.equal(s3.unique, { chunks: 0, rawBytes: 0, storedBytes: 0 }, 'identical snapshots share everything');
    assert.equal(s4.unique, { chunks: 0, rawBytes: 0, storedBytes: 0 });
    assert.equal(s3.referenced, s4.referenced);
    assert.ok(s1.referenced.rawBytes < s1.apparentBytes, 'copy2 and the twin dirs are deduplicated within the snapshot');
    assert.ok(s3.referenced.chunks > 7000, 'the wide directory counts its tree parts');
    assert.ok(u.total.savings! > 0, `savings ${u.total.savings}`);
  } finally { t.cleanup(); }
});

test('a snapshot of an empty directory has no data chunks and no savings figure', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    mkdirSync(src);
    snap(src, store);
    const u = await check(store);
    assert.is(u.total.snapshots, 1);
    assert.is(u.snapshots[0].apparentBytes, 0);
    assert.is(u.snapshots[0].savings, null);
    assert.equal(u.histogram, []);
  } finally { t.cleanup(); }
});

test.run();
