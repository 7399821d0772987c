// Store.open uses the storage and index directory it is given (StoreLocation), not a directory
// backend of its own; workers get a descriptor to build the same storage (storageFrom).
import { MAP_BUDGET_BYTES } from '../../lib/index/map-budget.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blake3 } from '../../lib/hash/blake3.js';
import type { BlobKind, BlobStorage } from '../../lib/store/blob-storage.js';
import { ChunkWriter } from '../../lib/store/chunk-writer.js';
import { directoryLocation, Store } from '../../lib/store/index.js';
import { FsStorage } from '../../lib/store/fs-storage.js';
import { storageFrom } from '../../lib/store/store-location.js';

let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-location-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

/** A storage that counts what goes through it, over a directory backend. */
function counting(inner: FsStorage): { storage: BlobStorage; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const count = (name: string) => calls.set(name, (calls.get(name) ?? 0) + 1);
  const storage = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => { count(String(prop)); return (v as (...a: unknown[]) => unknown).apply(target, args); };
    },
  }) as BlobStorage;
  return { storage, calls };
}

test('blobs are written and read through the given storage; the index lives where the location says', async () => {
  const root = join(dir, 'a');
  const base = directoryLocation(root);
  const indexDir = join(dir, 'a-index-elsewhere');
  const { storage, calls } = counting(base.storage as FsStorage);
  const store = await Store.open({ root: base.root, storage, indexDir }, { create: true });
  try {
    const w = new ChunkWriter(store);
    const bytes = Buffer.from('a chunk through the given storage');
    const id = blake3().hash(bytes);
    await w.add(id, 0, 0, bytes.length, bytes);
    await w.flush();
    assert.ok((calls.get('create') ?? 0) >= 1, 'the pack was created through the given storage');
    assert.equal(Buffer.from(await store.loadChunk(id)), bytes);
    assert.ok((calls.get('readRange') ?? 0) + (calls.get('readRangeSync') ?? 0) >= 1, 'read back through it');
    assert.ok(existsSync(join(indexDir, 'index.mdb')), 'the index is in the given directory');
    assert.not.ok(existsSync(join(root, 'index', 'index.mdb')), 'not in root/index');
    assert.equal(store.workerRef(), { storage: { kind: 'dir', root: base.root, directPacks: true }, indexDir, bundles: true, mapBudgetBytes: MAP_BUDGET_BYTES });
  } finally {
    await store.close();
  }
});

test('a storage without a descriptor cannot be handed to workers: INTERNAL, naming the store', async () => {
  const root = join(dir, 'b');
  const base = directoryLocation(root);
  const inner = base.storage as FsStorage;
  const noDescriptor = new Proxy(inner, { get: (t, p) => (p === 'descriptor' ? undefined : Reflect.get(t, p, t)) }) as BlobStorage;
  const store = await Store.open({ ...base, storage: noDescriptor }, { create: true });
  try {
    assert.throws(() => store.workerRef(), (e: Error & { code?: string }) => e.code === 'INTERNAL' && e.message.startsWith(base.root));
  } finally {
    await store.close();
  }
});

test('storageFrom builds the directory backend from its descriptor', () => {
  const st = storageFrom({ kind: 'dir', root: join(dir, 'c') });
  assert.instance(st, FsStorage);
  assert.equal(st.descriptor, { kind: 'dir', root: join(dir, 'c'), directPacks: true });
  // The pack-write mode the CLI chose (FOXING_DIRECT_PACKS=0) reaches the worker's storage.
  assert.equal(storageFrom({ kind: 'dir', root: join(dir, 'c'), directPacks: false }).descriptor, { kind: 'dir', root: join(dir, 'c'), directPacks: false });
  const kinds: BlobKind[] = ['pack', 'snapshot'];
  for (const k of kinds) assert.ok(st.describe(k, 'ab'.repeat(32)).startsWith(join(dir, 'c')));
  // An S3 storage crosses to a worker as its bucket, prefix and settings (no connection is made here).
  const s3 = { kind: 's3' as const, bucket: 'bkt', prefix: 'p', settings: { endpoint: 'http://127.0.0.1:1', region: 'r', pathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 's' }, retryMs: 1, timeoutMs: 1 } };
  const fromS3 = storageFrom(structuredClone(s3));
  assert.equal(fromS3.descriptor, s3);
  assert.is(fromS3.describe('pack', 'ab'.repeat(32)), `s3://bkt/p/packs/ab/${'ab'.repeat(32)}.pack`);
  assert.throws(() => storageFrom({ kind: 'ftp' } as unknown as { kind: 'dir'; root: string }), /unknown storage kind/);
});

test.run();
