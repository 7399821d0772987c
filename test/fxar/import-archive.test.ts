/**
 * The import service on a real store: both verification paths (main thread, worker pool)
 * import the golden archive completely and idempotently; a damaged chunk stops the import in
 * either path and lists no snapshot; chunks verified in batches (many small ones, a lone large
 * one) are each stored whole; a snapshot whose chunks the archive lacks is refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToolkitError } from '../../lib/errors/index.js';
import { blake3 } from '../../lib/hash/blake3.js';
import { ArchiveWriter } from '../../lib/fxar/archive-writer.js';
import { REC_DATA, REC_TREE } from '../../lib/fxar/fxar-layout.js';
import { importArchive } from '../../lib/fxar/import-archive.js';
import { encodeSnapshot } from '../../lib/snapshot/snapshot-record.js';
import { encodeTree } from '../../lib/snapshot/tree-codec.js';
import type { TreeEntry } from '../../lib/snapshot/tree-entry.js';
import { Store } from '../../lib/store/chunk-store.js';
import { directoryLocation } from '../../lib/store/store-location.js';
import { CHUNK_BUNDLE } from '../../lib/store/store-layout.js';
import { CODEC_BUNDLED } from '../../lib/codec/codec-ids.js';
import { seededBytes } from '../helpers/seeded.js';
import { listSnapshots } from '../../lib/snapshot/snapshot-catalogue.js';
import { tempDir } from '../helpers/run-cli.js';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/fxar/${name}`, import.meta.url));
async function* pieces(b: Buffer): AsyncIterable<Uint8Array> {
  for (let o = 0; o < b.length; o += 3000) yield b.subarray(o, o + 3000);
}

for (const verifyHereBytes of [Infinity, 0]) {
  const how = verifyHereBytes === 0 ? 'worker pool' : 'main thread';
  test(`import verifies on the ${how}: all snapshots, then nothing new the second time`, async () => {
    const t = tempDir();
    const store = await Store.open(directoryLocation(join(t.path, 'store')), { create: true });
    try {
      const a = await importArchive(pieces(fixture('golden.fxar')), 'golden.fxar', store, { verifyHereBytes });
      assert.is(a.snapshots.filter((s) => s.added).length, 2);
      assert.is(a.newChunks, a.chunks);
      assert.is(listSnapshots(store).length, 2);
      const b = await importArchive(pieces(fixture('golden.fxar')), 'golden.fxar', store, { verifyHereBytes });
      assert.is(b.newChunks, 0);
      assert.is(b.snapshots.filter((s) => s.added).length, 0);
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  test(`a damaged chunk stops the import (${how}) and no snapshot is listed`, async () => {
    const t = tempDir();
    const store = await Store.open(directoryLocation(join(t.path, 'store')), { create: true });
    try {
      let err: unknown = null;
      try {
        await importArchive(pieces(fixture('flipped-chunk.fxar')), 'flipped-chunk.fxar', store, { verifyHereBytes });
      } catch (e) {
        err = e;
      }
      assert.instance(err, ToolkitError);
      assert.is((err as ToolkitError).code, 'INTEGRITY');
      assert.match((err as Error).message, /flipped-chunk\.fxar: chunk [0-9a-f]{16} at offset \d+ is damaged/);
      assert.is(listSnapshots(store).length, 0);
    } finally {
      await store.close();
      t.cleanup();
    }
  });
}

test('in the worker pool, chunks go in batches: 1,500 small chunks (random or text) and a 1.5 MiB one each stored whole, the small text ones in bundles', async () => {
  const parts: Buffer[] = [];
  const w = await ArchiveWriter.start({ write: async (b) => { parts.push(Buffer.from(b)); } });
  const text = (i: number) => Buffer.from(`chunk ${i}: ${'some words that compress well '.repeat(3 + (i % 40))}`);
  const raws = Array.from({ length: 1500 }, (_, i) => (i % 3 === 0 ? seededBytes(100 + (i % 900), i) : text(i)));
  raws.splice(700, 0, seededBytes(1.5 * 2 ** 20, 99_999));
  for (const raw of raws) await w.addChunk(blake3().hash(raw), REC_DATA, 0, raw.length, raw);
  await w.finish();
  const t = tempDir();
  const store = await Store.open(directoryLocation(join(t.path, 'store')), { create: true });
  try {
    const r = await importArchive(pieces(Buffer.concat(parts)), 'batches.fxar', store, { verifyHereBytes: 0 });
    assert.is(r.newChunks, 1501);
    for (const raw of raws) assert.ok(Buffer.from(await store.loadChunk(blake3().hash(raw))).equals(raw));
    let bundles = 0, members = 0;
    for (const { info } of store.index.listPacks()) {
      for (const e of await store.packEntries(info.id)) { if (e.type === CHUNK_BUNDLE) bundles++; if (e.codec === CODEC_BUNDLED) members++; }
    }
    assert.ok(bundles >= 6 && members >= 1000, `${bundles} bundles, ${members} members`);
  } finally {
    await store.close();
    t.cleanup();
  }
});

test('a snapshot whose trees need a chunk the archive lacks is refused, nothing listed', async () => {
  const parts: Buffer[] = [];
  const w = await ArchiveWriter.start({ write: async (b) => { parts.push(Buffer.from(b)); } });
  const meta = { mode: 0o644, uid: 0, gid: 0, mtimeNs: 0n, atimeNs: 0n, ctimeNs: 0n, dev: 1n, ino: 1n, nlink: 1, rdev: 0 };
  const missing = blake3().hash(Buffer.from('never stored'));
  const file: TreeEntry = { ...meta, name: Buffer.from('f'), type: 'file', size: 12, chunks: [{ id: missing, length: 12 }] };
  const tree = encodeTree([file]);
  const treeId = blake3().hash(tree);
  await w.addChunk(treeId, REC_TREE, 0, tree.length, tree);
  const rootTree = encodeTree([{ ...meta, name: Buffer.from('src'), type: 'dir', size: 0, subtree: treeId }]);
  const rootId = blake3().hash(rootTree);
  await w.addChunk(rootId, REC_TREE, 0, rootTree.length, rootTree);
  const { id, bytes } = encodeSnapshot({ version: 1, time: '2026-01-01T00:00:00.000Z', source: '/s', host: 'h', user: 'u', tags: [],
    tree: rootId.toString('hex'), parent: null, codec: 'none', stats: { files: 1, dirs: 1, symlinks: 0, others: 0, bytes: 12, readBytes: 0,
      reusedFiles: 0, newChunks: 0, newBytes: 0, storedBytes: 0, errors: 0, durationMs: 0 } });
  await w.addSnapshot(Buffer.from(id, 'hex'), bytes);
  await w.finish();
  const t = tempDir();
  const store = await Store.open(directoryLocation(join(t.path, 'store')), { create: true });
  try {
    let err: Error | null = null;
    try { await importArchive(pieces(Buffer.concat(parts)), 'holey.fxar', store); } catch (e) { err = e as Error; }
    assert.ok(err);
    assert.match(err!.message, /holey\.fxar: snapshot [0-9a-f]{12}: file "f" needs chunk [0-9a-f]{16}, which the archive does not hold/);
    assert.is(listSnapshots(store).length, 0);
  } finally {
    await store.close();
    t.cleanup();
  }
});

test.run();
