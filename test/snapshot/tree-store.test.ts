// TreeSaver on a real store (LMDB index, packs on disk): trees over 4 KiB are stored in parts
// that end at entry boundaries chosen by name, so changing one entry re-stores one part and
// the index chunk, not the whole tree (issue 25); every form loads back as the same entries.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { blake3 } from '../../lib/hash/blake3.js';
import { encodeTree } from '../../lib/snapshot/tree-codec.js';
import type { TreeEntry } from '../../lib/snapshot/tree-entry.js';
import { loadTreeWithParts, partLengths, TreeSaver } from '../../lib/snapshot/tree-store.js';
import { storeWriters, withStore } from '../../lib/store/index.js';
import { tempDir } from '../helpers/run-cli.js';

const T0 = 1_700_000_000_123_456_789n;

function file(i: number, content = `content ${i}`): TreeEntry {
  return {
    name: Buffer.from(`f${String(i).padStart(4, '0')}.txt`), type: 'file', mode: 0o644, uid: 1000, gid: 1000, size: 100,
    mtimeNs: T0 + BigInt(i), atimeNs: T0, ctimeNs: T0 + BigInt(i), dev: 2049n, ino: BigInt(5000 + i), nlink: 1, rdev: 0,
    chunks: [{ id: blake3().hash(Buffer.from(content)), length: 100 }],
  };
}

test('part ends: at entry boundaries, from the header to the end, the same for the same names', () => {
  const entries = Array.from({ length: 300 }, (_, i) => file(i));
  const at = new Uint32Array(entries.length + 1);
  const bytes = encodeTree(entries, at);
  const lengths = partLengths(at, (i) => entries[i]!.name);
  assert.ok(lengths.length > 5, `${lengths.length} parts`);
  assert.is(lengths.reduce((a, b) => a + b, 0), bytes.length);
  let end = 0;
  const ends = new Set(Array.from(at.subarray(1)));
  for (const l of lengths) { end += l; assert.ok(ends.has(end), `a part ends inside an entry at ${end}`); }
  // Another entry's content changed: the same ends (entries are the same length here).
  const changed = entries.map((e, i) => (i === 150 ? file(i, 'other') : e));
  const at2 = new Uint32Array(entries.length + 1);
  encodeTree(changed, at2);
  assert.equal(partLengths(at2, (i) => changed[i]!.name), lengths);
});

test('a changed entry re-stores one part and the index; small trees stay one chunk; all load back', async () => {
  const t = tempDir('tree-store-');
  try {
    await withStore(join(t.path, 'store'), { create: true, lock: 'exclusive', command: 'test' }, async (store) => {
      const { ChunkWriter } = await storeWriters();
      const writer = new ChunkWriter(store);
      const trees = new TreeSaver(writer, store);
      const entries = Array.from({ length: 300 }, (_, i) => file(i));
      const first = await trees.save(entries);
      const firstChunks = writer.stats.newChunks;
      assert.ok(firstChunks > 5, `${firstChunks} chunks: parts and an index`);
      const changed = entries.map((e, i) => (i === 150 ? file(i, 'other') : e));
      const second = await trees.save(changed);
      assert.not.equal(second, first);
      assert.is(writer.stats.newChunks - firstChunks, 2, 'one part and the index chunk');
      const small = entries.slice(0, 20);
      const smallId = await trees.save(small);
      assert.equal(smallId, blake3().hash(encodeTree(small)), 'a small tree is one chunk, named by its bytes');
      await writer.flush();
      for (const [id, want, parts] of [[first, entries, true], [second, changed, true], [smallId, small, false]] as const) {
        const got = await loadTreeWithParts(store, id);
        assert.equal(got.entries.map((e) => e.name.toString()), want.map((e) => e.name.toString()));
        assert.equal(got.entries.map((e) => Buffer.from(e.chunks![0].id).toString('hex')), want.map((e) => Buffer.from(e.chunks![0].id).toString('hex')));
        assert.is(got.parts.length > 0, parts);
      }
    });
  } finally {
    t.cleanup();
  }
});

test('a saver told to keep trees whole (foxingd) stores a tree of more than 4 KiB as one chunk, named by its bytes', async () => {
  const t = tempDir('tree-store-whole-');
  try {
    await withStore(join(t.path, 'store'), { create: true, lock: 'exclusive', command: 'test' }, async (store) => {
      const { ChunkWriter } = await storeWriters();
      const writer = new ChunkWriter(store);
      const entries = Array.from({ length: 300 }, (_, i) => file(i));
      const id = await new TreeSaver(writer, store, true).save(entries);
      assert.equal(id, blake3().hash(encodeTree(entries)));
      assert.is(writer.stats.newChunks, 1);
      await writer.flush();
      const got = await loadTreeWithParts(store, id);
      assert.is(got.parts.length, 0);
      assert.is(got.entries.length, 300);
    });
  } finally {
    t.cleanup();
  }
});

test.run();
