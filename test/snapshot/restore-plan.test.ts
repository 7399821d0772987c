/**
 * planRestore on real stores and archives made by the real CLI: the bytes it sums match the
 * files a selective restore writes (sparse files by their data, a hard-link group once), and a
 * restore given the plan loads no tree twice (counted on the real archive reader).
 */
import { closeSync, linkSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ArchiveReader } from '../../lib/fxar/archive-reader.js';
import type { ChunkSource } from '../../lib/snapshot/chunk-source.js';
import { planRestore, TreeCache } from '../../lib/snapshot/restore-plan.js';
import { restore } from '../../lib/snapshot/restorer.js';
import { compareTrees } from '../helpers/tree-compare.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir('restore-plan-');
const src = join(t.path, 'src'), store = join(t.path, 'store'), archive = join(t.path, 'a.fxar');
const MiB = 1 << 20;

test.before(() => {
  mkdirSync(join(src, 'a/b/c'), { recursive: true });
  mkdirSync(join(src, 'links'));
  mkdirSync(join(src, 'sparse'));
  writeFileSync(join(src, 'a/one.bin'), seededBytes(300_000, 1));
  writeFileSync(join(src, 'a/b/two.bin'), seededBytes(70_000, 2));
  writeFileSync(join(src, 'a/b/c/three.txt'), 'three\n');
  writeFileSync(join(src, 'top.txt'), 'top\n');
  writeFileSync(join(src, 'links/first'), seededBytes(50_000, 3));
  linkSync(join(src, 'links/first'), join(src, 'links/second'));
  // 8 MiB apparent, 128 KiB of data at 4 MiB: a sparse file counts its data only.
  const fd = openSync(join(src, 'sparse/holes.img'), 'w');
  writeSync(fd, seededBytes(128 * 1024, 4), 0, 128 * 1024, 4 * MiB);
  closeSync(fd);
  const fd2 = openSync(join(src, 'sparse/holes.img'), 'r+');
  writeSync(fd2, Buffer.alloc(1), 0, 1, 8 * MiB - 1);
  closeSync(fd2);
  for (const args of [['snap', 'create', src, store], ['snap', 'export', store, '-o', archive]]) {
    const r = fxcp(args);
    assert.is(r.code, 0, r.stderr);
  }
});
test.after(() => t.cleanup());

/** The real archive reader, counting tree (and other synchronous) chunk loads. */
function counting(ar: ArchiveReader): { source: ChunkSource; loads: () => number } {
  let n = 0;
  const source: ChunkSource = {
    loadChunk: (id) => ar.loadChunk(id),
    loadChunkPreferSync: (id) => { n++; return ar.loadChunkPreferSync(id); },
    local: ar.local,
    placeOf: (id) => ar.placeOf(id),
  };
  return { source, loads: () => n };
}

test('bytes: the selected files, a hard-link group once, a sparse file by its data', async () => {
  const ar = ArchiveReader.openFile(archive);
  try {
    const [snap] = ar.listSnapshots();
    const cases: Array<[string[], number, number]> = [
      [['a'], 300_000 + 70_000 + 6, 3],
      [['a/b/two.bin'], 70_000, 1],
      [['a/b/*'], 70_000 + 6, 2], // 'a/b/c' is a directory: all of it
      [['a/**/*.txt', 'top.txt'], 6 + 4, 2],
      [['links'], 50_000, 2],
      [['nothing-here'], 0, 0],
    ];
    for (const [files, bytes, count] of cases) {
      const plan = await planRestore(ar, snap.record, files);
      assert.is(plan.bytes, bytes, files.join(','));
      assert.is(plan.files, count, files.join(','));
    }
    const sparse = await planRestore(ar, snap.record, ['sparse']);
    assert.ok(sparse.bytes >= 128 * 1024 && sparse.bytes < 1 * MiB, `sparse data ${sparse.bytes}`);
  } finally {
    ar.close();
  }
});

test('a restore given its plan loads each tree once, and restores the same files', async () => {
  const ar = ArchiveReader.openFile(archive);
  // Large files go to the worker pool either way (a small planned restore would read them here),
  // so the loads counted on this thread are the trees'.
  try {
    const [snap] = ar.listSnapshots();
    for (const files of [['a/b/c/three.txt'], ['a'], ['links/second', 'top.txt']]) {
      const plain = counting(ar);
      const outPlain = join(t.path, `plain-${files[0].replace(/\W/g, '_')}`);
      await restore(plain.source, snap.record, { target: outPlain, files, onWarn: () => {}, poolFromBytes: 0 });
      const planned = counting(ar);
      const outPlanned = join(t.path, `planned-${files[0].replace(/\W/g, '_')}`);
      const plan = await planRestore(planned.source, snap.record, files);
      const r = await restore(planned.source, snap.record, { target: outPlanned, files, onWarn: () => {}, plan, poolFromBytes: 0 });
      assert.is(planned.loads(), plain.loads(), `tree loads for ${files}`);
      assert.is(plan.trees.size, 0, 'every planned tree was used');
      assert.is(r.bytes, plan.bytes);
      assert.equal(compareTrees(outPlain, outPlanned, { rootMeta: false }), []);
    }
  } finally {
    ar.close();
  }
});

test('the tree cache is bounded: past its budget trees are loaded again, and the restore is the same', async () => {
  const ar = ArchiveReader.openFile(archive);
  try {
    const [snap] = ar.listSnapshots();
    const plan = await planRestore(ar, snap.record, ['a']);
    // Replace the plan's cache by one that holds nothing: the restore must load every tree itself.
    const bare = { ...plan, trees: new TreeCache(0) };
    const out = join(t.path, 'bare');
    const r = await restore(ar, snap.record, { target: out, files: ['a'], onWarn: () => {}, plan: bare });
    assert.is(r.files, 3);
    assert.is(r.bytes, plan.bytes);
  } finally {
    ar.close();
  }
});

test.run();
