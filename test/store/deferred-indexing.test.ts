/**
 * A first snapshot into an empty store indexes its packs at its end (deferred-indexing.ts),
 * through the real CLI and real stores: every chunk is stored once (files and directories
 * repeated across the tree, the workers racing), indexed, checked and restored; no spill is left;
 * a merge cut short (a failure, as a kill would leave it) is completed by the next writer; a
 * failed run leaves its sealed packs for reconcilePacks. The same for an import (`snap import`
 * of an export) into an empty store, killed before and during its merge.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DeferredChunks } from '../../lib/index/deferred-chunks.js';
import { Store } from '../../lib/store/chunk-store.js';
import { readPackEntries } from '../../lib/store/pack-reader.js';
import { directoryLocation } from '../../lib/store/store-location.js';
import { CHUNK_BUNDLE } from '../../lib/store/store-layout.js';
import { compareCopy } from '../helpers/copy-tree.js';
import { fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

/** 40 directories of 60 files, every tenth directory a copy of the first and a licence file in each. */
function repetitiveTree(src: string): void {
  for (let d = 0; d < 40; d++) {
    const dir = join(src, `d${d}`);
    mkdirSync(dir, { recursive: true });
    const like = d % 10 === 0 ? 0 : d;
    for (let f = 0; f < 60; f++) writeFileSync(join(dir, `f${f}.txt`), `directory ${like} file ${f}\n`.repeat(1 + (f % 7) * 40));
    writeFileSync(join(dir, 'LICENSE'), 'Permission is hereby granted, free of charge, to any person\n'.repeat(30));
    mkdirSync(join(dir, 'empty'));
  }
}

/** Chunk records per id over every pack (bundles not counted), and the packs. */
async function recordsById(root: string): Promise<{ ids: Map<string, number>; packs: string[] }> {
  const storage = directoryLocation(root).storage;
  const ids = new Map<string, number>();
  const packs: string[] = [];
  for await (const pack of storage.list('pack')) {
    packs.push(pack);
    for (const e of await readPackEntries(storage, pack)) {
      if (e.type === CHUNK_BUNDLE) continue;
      const k = Buffer.from(e.id).toString('hex');
      ids.set(k, (ids.get(k) ?? 0) + 1);
    }
  }
  return { ids, packs };
}

const ok = (args: string[], env: NodeJS.ProcessEnv = {}): string => {
  const r = fxcp(args, { env });
  assert.is(r.code, 0, `fxcp ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

test('a first snapshot stores each chunk once, indexes all of them and leaves no spill', async () => {
  const t = tempDir('fx-deferred-');
  try {
    const src = join(t.path, 'src');
    const store = join(t.path, 'store');
    repetitiveTree(src);
    ok(['snap', 'create', src, store], { FOXING_WORKERS: '2' });
    const { ids } = await recordsById(store);
    // The next snapshot finds every file's chunks through the index: nothing new. (Before
    // anything reads the source: a read moves atimes, and with them the trees.)
    const again = ok(['snap', 'create', src, store, '--force-rehash']);
    assert.match(again, /0 B new/, again);
    const twice = [...ids].filter(([, n]) => n > 1);
    assert.equal(twice, [], 'one record per chunk id');
    const s = await Store.open(directoryLocation(store));
    try {
      assert.is(s.index.chunkCount(), ids.size, 'every record indexed');
      assert.is(s.index.totals().chunks, ids.size);
      assert.equal(s.index.deferredPackNos(), []);
    } finally { await s.close(); }
    assert.equal(readdirSync(join(store, 'tmp')), [], 'no spill left');
    assert.is(fxcpJson(['store', 'check', store, '--read-data']).problems.length, 0);
    const out = join(t.path, 'out');
    ok(['snap', 'restore', store, '-o', out]);
    assert.equal(compareCopy(src, out, { rootMeta: false }), []);
  } finally { t.cleanup(); }
});

test('a merge cut short is completed by the next writer; check and restore agree', async () => {
  const t = tempDir('fx-deferred-');
  try {
    const src = join(t.path, 'src');
    const store = join(t.path, 'store');
    repetitiveTree(src);
    ok(['snap', 'create', src, store]);
    const { ids, packs } = await recordsById(store);
    // Leave the index as a kill during the merge would: the packs listed and named, a part of
    // their chunks indexed. (The packs are dropped and merged again from their trailers.)
    const s = await Store.open(directoryLocation(store));
    try {
      await s.index.forgetPacks([...s.index.listPacks()].map((p) => p.packNo));
      assert.is(s.index.chunkCount(), 0);
      const records: Array<Record<string, unknown> & { id: Buffer }> = [];
      for (const [ordinal, pack] of packs.entries()) {
        for (const e of await readPackEntries(s.storage, pack)) if (e.type !== CHUNK_BUNDLE) records.push({ ...e, id: Buffer.from(e.id), ordinal, share: 0 });
      }
      records.sort((a, b) => Buffer.compare(a.id, b.id));
      const cut = { sorted: function* () { for (const [i, r] of records.entries()) { if (i === records.length >> 1) throw new Error('killed'); yield r; } } };
      const meta = await Promise.all(packs.map(async (packId) => ({ packId, size: await s.storage.size('pack', packId), count: 0 })));
      const failed = await s.index.addDeferredPacks(meta, cut as unknown as DeferredChunks).then(() => null, (err: Error) => err);
      assert.match(String(failed), /killed/);
      assert.is(s.index.deferredPackNos().length, packs.length);
    } finally { await s.close(); }
    // The next writer's reconcilePacks puts the packs' chunks again (shares and all).
    assert.match(ok(['snap', 'create', src, store, '--force-rehash']), /0 B new/);
    const after = await Store.open(directoryLocation(store));
    try {
      assert.equal(after.index.deferredPackNos(), []);
      assert.is(after.index.chunkCount(), ids.size);
    } finally { await after.close(); }
    assert.is(fxcpJson(['store', 'check', store, '--read-data']).problems.length, 0);
    const out = join(t.path, 'out');
    ok(['snap', 'restore', store, '-o', out]);
    assert.equal(compareCopy(src, out, { rootMeta: false }), []);
  } finally { t.cleanup(); }
});

for (const [point, listed] of [['snap:before-merge', false], ['snap:merge-listed', true]] as const) {
  test(`killed at ${point}: the next writer indexes the packs, and nothing is stored twice`, async () => {
    const t = tempDir('fx-deferred-');
    try {
      const src = join(t.path, 'src');
      const store = join(t.path, 'store');
      repetitiveTree(src);
      const r = fxcp(['snap', 'create', src, store], { env: { FOXING_TEST_KILL_AT: point } });
      assert.is(r.signal, 'SIGKILL', `${r.code} ${r.stderr}`);
      assert.equal(fxcpJson(['snap', 'list', store]).snapshots, [], 'no snapshot was recorded');
      const s = await Store.open(directoryLocation(store));
      try {
        assert.is(s.index.chunkCount(), 0, 'no chunk indexed yet');
        assert.is(s.index.deferredPackNos().length > 0, listed);
      } finally { await s.close(); }
      const before = await recordsById(store);
      // The next snapshot indexes those packs first, so it stores nothing again.
      assert.match(ok(['snap', 'create', src, store]), /0 B new/);
      const after = await recordsById(store);
      assert.is(after.ids.size, before.ids.size);
      assert.equal([...after.ids].filter(([, n]) => n > 1), [], 'one record per chunk id');
      assert.equal(readdirSync(join(store, 'tmp')), [], 'the dead run\'s spill is removed');
      assert.is(fxcpJson(['store', 'check', store, '--read-data']).problems.length, 0);
      const out = join(t.path, 'out');
      ok(['snap', 'restore', store, '-o', out]);
      assert.equal(compareCopy(src, out, { rootMeta: false }), []);
    } finally { t.cleanup(); }
  });
}

/** A snapshot of repetitiveTree in a store made for it, exported to an archive of `format`. */
function exported(t: { path: string }, format: 'fxar' | 'tar'): { src: string; archive: string } {
  const src = join(t.path, 'src');
  repetitiveTree(src);
  // 18 MiB more: a tar import's data workers start after 16 MiB (tar-import.ts WORKERS_AFTER),
  // so its chunks are stored on both paths; two files alike, in different lanes.
  mkdirSync(join(src, 'big'));
  for (let i = 0; i < 12; i++) writeFileSync(join(src, 'big', `b${i}`), seededBytes(1_500_000, i % 10));
  ok(['snap', 'create', src, join(t.path, 'origin')]);
  const archive = join(t.path, `snap.${format}`);
  ok(['snap', 'export', join(t.path, 'origin'), '-o', archive]);
  return { src, archive };
}

/** New chunks an import stored, by its --json result (an FXAR import's, or a tar import's stats). */
const newChunks = (r: { newChunks?: number; stats?: { newChunks: number } }): number => r.newChunks ?? r.stats!.newChunks;

for (const format of ['fxar', 'tar'] as const) {
  test(`an import (${format}) into an empty store indexes its packs at its end: each chunk once, all indexed, no spill`, async () => {
    const t = tempDir('fx-deferred-');
    try {
      const { src, archive } = exported(t, format);
      const store = join(t.path, 'store');
      assert.ok(newChunks(fxcpJson(['snap', 'import', archive, store])) > 2000);
      const { ids } = await recordsById(store);
      assert.equal([...ids].filter(([, n]) => n > 1), [], 'one record per chunk id');
      const s = await Store.open(directoryLocation(store));
      try {
        assert.is(s.index.chunkCount(), ids.size, 'every record indexed');
        assert.equal(s.index.deferredPackNos(), []);
      } finally { await s.close(); }
      assert.equal(readdirSync(join(store, 'tmp')), [], 'no spill left');
      assert.is(newChunks(fxcpJson(['snap', 'import', archive, store])), 0, 'the index answers the second import');
      assert.is(fxcpJson(['store', 'check', store, '--read-data']).problems.length, 0);
      const out = join(t.path, 'out');
      ok(['snap', 'restore', store, '-o', out, '--latest']);
      assert.equal(compareCopy(src, out, { rootMeta: false, times: format === 'fxar' }), []);
    } finally { t.cleanup(); }
  });
}

for (const [format, point] of [['fxar', 'import:before-merge'], ['fxar', 'snap:merge-listed'], ['tar', 'import:before-merge']] as const) {
  test(`an import (${format}) killed at ${point}: nothing listed; the next import stores nothing again`, async () => {
    const t = tempDir('fx-deferred-');
    try {
      const { archive } = exported(t, format);
      const store = join(t.path, 'store');
      const r = fxcp(['snap', 'import', archive, store], { env: { FOXING_TEST_KILL_AT: point } });
      assert.is(r.signal, 'SIGKILL', `${r.code} ${r.stderr}`);
      assert.equal(fxcpJson(['snap', 'list', store]).snapshots, [], 'no snapshot was recorded');
      assert.is(newChunks(fxcpJson(['snap', 'import', archive, store])), 0, 'the dead import\'s packs are indexed first');
      assert.equal([...(await recordsById(store)).ids].filter(([, n]) => n > 1), [], 'one record per chunk id');
      assert.is(fxcpJson(['store', 'check', store, '--read-data']).problems.length, 0);
    } finally { t.cleanup(); }
  });
}

test.run();
