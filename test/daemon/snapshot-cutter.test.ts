/**
 * SnapshotCutter (lib/daemon/snapshot-cutter.ts) with a real store: a cut takes the chunk
 * lists of files the close-ingest stored instead of reading them again, but only while the
 * file is the one that was read; and a directory above the changes is spliced, not listed.
 * Each cut's tree must equal the tree of a full snapshot of the same source in another store.
 * A wide directory spliced at every cut is held between cuts (held-tree.ts): not loaded again,
 * and the memo its spliced bytes leave lets a plain snapshot skip it.
 */
import { mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCodec } from '../../lib/codec/codec.js';
import { SnapshotCutter } from '../../lib/daemon/snapshot-cutter.js';
import type { ArchiveResult } from '../../lib/snapshot/archiver.js';
import { archive } from '../../lib/snapshot/archiver.js';
import { Store } from '../../lib/store/index.js';
import { withStore } from '../../lib/store/open-store.js';
import { tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

async function fullTree(store: string, src: string): Promise<string> {
  return withStore(store, { create: true, lock: 'shared', command: 'test', onWarn: () => {} },
    async (s) => (await archive(s, { source: src, codec: parseCodec('zstd'), onWarn: () => {} })).record.tree);
}

/** The cutter's own cut, now (the timer is set to an hour). */
const cutNow = (c: SnapshotCutter) => (c as unknown as { cut(): Promise<void> }).cut();

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(ok(), what);
}

test('a cut takes what the ingest stored (no read), reads a file changed since, and equals a full snapshot', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src');
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(src, `d${d}`, 'deep'), { recursive: true });
      writeFileSync(join(src, `d${d}`, 'deep', 'f'), `file ${d}\n`);
    }
    const cuts: ArchiveResult[] = [];
    const warnings: string[] = [];
    const cutter = new SnapshotCutter(Buffer.from(src), join(t.path, 'store'), {
      intervalMs: 3_600_000, workers: 2, onWarn: (_c, m) => { warnings.push(m); }, log: () => {}, onCut: (r) => { cuts.push(r); },
    });
    await cutter.start();
    try {
      // A file of several chunks (its cuts must be the ones a read gives) and a small one.
      const big = join(src, 'd3', 'deep', 'big'), small = join(src, 'd7', 'deep', 'f');
      writeFileSync(big, seededBytes(3 << 20, 11));
      writeFileSync(small, 'changed\n');
      for (const p of [big, small]) cutter.change({ kind: 'changed', path: Buffer.from(p), dir: false, closed: true });
      await until('both files ingested', () => cutter.ingest.stats.files === 2);
      await cutNow(cutter);
      const taken = cuts.at(-1)!;
      assert.is(taken.record.stats.readBytes, 0, 'nothing read again: the ingest stored it');
      assert.is(taken.record.tree, await fullTree(join(t.path, 'full-1'), src));

      // Stored by the ingest, then rewritten in place with the same size and its mtime put back:
      // only the ctime tells, and the cut must read it.
      writeFileSync(small, 'CHANGED\n');
      cutter.change({ kind: 'changed', path: Buffer.from(small), dir: false, closed: true });
      await until('ingested again', () => cutter.ingest.stats.files === 3);
      const before = statSync(small);
      writeFileSync(small, 'chAnGed\n');
      utimesSync(small, before.atime, before.mtime);
      cutter.change({ kind: 'changed', path: Buffer.from(small), dir: false, closed: false });
      await cutNow(cutter);
      const read = cuts.at(-1)!;
      assert.is(read.record.stats.readBytes, 8, 'the file the ingest saw is not the file now: read');
      assert.is(read.record.tree, await fullTree(join(t.path, 'full-2'), src));
      assert.equal(warnings, []);
    } finally {
      await cutter.stop();
    }
  } finally {
    t.cleanup();
  }
});

/** Runs `fn`, counting the chunks any store loads meanwhile (trees: no file is read back here). */
async function countingLoads(fn: () => Promise<void>): Promise<number> {
  const load = Store.prototype.loadChunkPreferSync;
  let loads = 0;
  Store.prototype.loadChunkPreferSync = function (this: Store, id: Uint8Array) { loads++; return load.call(this, id); };
  try { await fn(); } finally { Store.prototype.loadChunkPreferSync = load; }
  return loads;
}

test('a wide directory spliced at each cut is held: not loaded again, and equal to a full snapshot', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    for (let d = 0; d < 40; d++) {
      mkdirSync(join(src, `d${d}`, 'deep'), { recursive: true });
      writeFileSync(join(src, `d${d}`, 'top'), `top ${d}\n`);
      writeFileSync(join(src, `d${d}`, 'deep', 'f'), `file ${d}\n`);
    }
    writeFileSync(join(src, 'root-file'), 'r\n');
    const cuts: ArchiveResult[] = [];
    const cutter = new SnapshotCutter(Buffer.from(src), store, { intervalMs: 3_600_000, workers: 1, onWarn: () => {}, log: () => {}, onCut: (r) => { cuts.push(r); } });
    await cutter.start();
    const loads: number[] = [];
    try {
      for (let round = 0; round < 4; round++) {
        // The root and d* are only above the changes (spliced); each deep/ is listed.
        for (const d of [round, round + 7, round * 3 + 20]) {
          const p = join(src, `d${d}`, 'deep', 'f');
          writeFileSync(p, `round ${round} ${'x'.repeat(round)}\n`);
          cutter.change({ kind: 'changed', path: Buffer.from(p), dir: false, closed: true });
        }
        loads.push(await countingLoads(() => cutNow(cutter)));
        assert.is(cuts.at(-1)!.record.tree, await fullTree(join(t.path, `full-${round}`), src), `cut ${round}`);
        assert.equal(cuts.at(-1)!.record.stats.files, 81);
      }
    } finally {
      await cutter.stop();
    }
    // Each cut loads the snapshot's top tree, and the trees of the three d*'s it splices and of
    // their deep/'s it lists; the first also the root's, which the later cuts take held.
    assert.is(loads[0], 8, `loads per cut: ${loads.join(' ')}`);
    assert.ok(loads.slice(1).every((n) => n === 7), `the root is not loaded again: ${loads.join(' ')}`);
    // The memos the spliced bytes left match a fresh listing: a plain snapshot loads no tree.
    const plain = await countingLoads(async () => { await fullTree(store, src); });
    assert.is(plain, 1, 'a plain snapshot after the cuts matched every memo (it loads its parent\'s top tree only)');
  } finally {
    t.cleanup();
  }
});

test.run();
