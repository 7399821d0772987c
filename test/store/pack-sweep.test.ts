/**
 * Gc's sweep judges a pack whose every record the index locates there from one pass over the
 * index (pack-sweep.ts tallyPacks), without reading its trailer. These tests check its verdicts
 * against the packs themselves, read record by record after the prune: a pack with garbage
 * under the repack threshold is kept and its garbage reported to the byte; one over it is
 * repacked so that no garbage is left; the kept snapshot restores exactly either way.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { markLive } from '../../lib/snapshot/garbage-collect.js';
import { listSnapshots } from '../../lib/snapshot/snapshot-catalogue.js';
import { withStore } from '../../lib/store/open-store.js';
import { CHUNK_BUNDLE, RECORD_HEADER_BYTES } from '../../lib/store/store-layout.js';
import { compareCopy } from '../helpers/copy-tree.js';
import { fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const FILES = 20;
const FILE_BYTES = 20_000;

/** Bytes (headers included) of the records in the store's packs that no snapshot needs. */
async function garbageInPacks(store: string): Promise<number> {
  return withStore(store, { lock: 'shared', command: 'test' }, async (s) => {
    const { live } = await markLive(s, listSnapshots(s));
    let bytes = 0;
    for await (const packId of s.storage.list('pack')) {
      for (const e of await s.packEntries(packId)) if (e.type !== CHUNK_BUNDLE && !live.has(e.id)) bytes += RECORD_HEADER_BYTES + e.storedLength;
    }
    return bytes;
  });
}

/** v1: FILES files of random bytes (one incompressible chunk each, one data pack); v2: the first `changed` rewritten. */
function snapshotTwice(root: string, changed: number): { src: string; store: string } {
  const src = join(root, 'src');
  const store = join(root, 'store');
  mkdirSync(src);
  for (let i = 0; i < FILES; i++) writeFileSync(join(src, `f${i}.bin`), seededBytes(FILE_BYTES, i + 1));
  assert.is(fxcp(['snap', 'create', src, store]).code, 0);
  for (let i = 0; i < changed; i++) writeFileSync(join(src, `f${i}.bin`), seededBytes(FILE_BYTES, 1000 + i));
  assert.is(fxcp(['snap', 'create', src, store]).code, 0);
  return { src, store };
}

function pruneAndRestore(root: string, src: string, store: string): { packsRepacked: number; garbageKeptBytes: number; garbageChunks: number } {
  const r = fxcpJson(['snap', 'prune', store, '--keep-last', '1', '--repack-threshold', '25%']);
  const out = join(root, 'out');
  assert.is(fxcp(['snap', 'restore', store, '-o', out]).code, 0);
  assert.equal(compareCopy(src, out, { rootMeta: false }), [], 'the kept snapshot restores exactly');
  assert.is(fxcp(['store', 'check', store]).code, 0);
  return r.gc;
}

test('garbage under the threshold: the pack is kept, its garbage counted to the byte', async () => {
  const t = tempDir('pack-sweep-');
  try {
    const { src, store } = snapshotTwice(t.path, 2);
    const gc = pruneAndRestore(t.path, src, store);
    const left = await garbageInPacks(store);
    assert.ok(left >= 2 * FILE_BYTES, `the two old files' records stay (${left} bytes)`);
    assert.is(gc.garbageKeptBytes, left);
    assert.is(gc.packsRepacked, 0);
  } finally {
    t.cleanup();
  }
});

test('garbage over the threshold: the pack is repacked, no garbage left', async () => {
  const t = tempDir('pack-sweep-');
  try {
    const { src, store } = snapshotTwice(t.path, 10);
    const gc = pruneAndRestore(t.path, src, store);
    assert.is(gc.packsRepacked, 1);
    assert.is(gc.garbageKeptBytes, 0);
    assert.ok(gc.garbageChunks >= 10);
    assert.is(await garbageInPacks(store), 0);
  } finally {
    t.cleanup();
  }
});

test.run();
