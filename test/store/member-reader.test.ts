/**
 * member-reader.ts on a real store of bundled small files: every member reads back as
 * Store.loadChunk gives it, its records come through windows (far fewer reads than members),
 * a damaged member record is named, and a storage without local reads gets no reader.
 */
import { closeSync, mkdirSync, openSync, writeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkCodec } from '../../lib/codec/codec.js';
import { CODEC_BUNDLED } from '../../lib/codec/codec-ids.js';
import { IntegrityError } from '../../lib/errors/index.js';
import { Store } from '../../lib/store/chunk-store.js';
import type { BlobStorage } from '../../lib/store/blob-storage.js';
import { MemberReader } from '../../lib/store/member-reader.js';
import { readPackEntries } from '../../lib/store/pack-reader.js';
import { directoryLocation } from '../../lib/store/store-location.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';
import { mulberry32 } from '../helpers/seeded.js';

/** `count` seeded text files of 100 B to 6 KiB: each a bundle member. */
function smallTree(root: string, count: number): void {
  const r = mulberry32(7);
  for (let i = 0; i < count; i++) {
    const dir = join(root, `d${i % 5}`);
    mkdirSync(dir, { recursive: true });
    let s = `file ${i}\n`;
    const n = 100 + Math.floor(r() * 6000);
    while (s.length < n) s += `${['pack', 'bundle', 'member', 'store', 'the'][Math.floor(r() * 5)]} `;
    writeFileSync(join(dir, `f${i}.txt`), s);
  }
}

async function bundledStore(count: number): Promise<{ t: ReturnType<typeof tempDir>; store: string }> {
  const t = tempDir('fx-member-reader-');
  smallTree(join(t.path, 'src'), count);
  const store = join(t.path, 'store');
  const r = fxcp(['snap', 'create', join(t.path, 'src'), store]);
  assert.is(r.code, 0, r.stderr);
  return { t, store };
}

/** Every member of every pack, in pack order. */
async function members(store: Store): Promise<Array<{ packId: string; id: Buffer; offset: number }>> {
  const out: Array<{ packId: string; id: Buffer; offset: number }> = [];
  for await (const packId of store.storage.list('pack')) {
    for (const e of await readPackEntries(store.storage, packId)) if (e.codec === CODEC_BUNDLED) out.push({ packId, id: e.id, offset: e.offset });
  }
  return out;
}

test('every member reads back as loadChunk gives it, through far fewer reads than members', async () => {
  const { t, store: path } = await bundledStore(600);
  const store = await Store.open(directoryLocation(path));
  try {
    let reads = 0;
    const fs = store.storage;
    const counting: BlobStorage = Object.assign(Object.create(fs) as BlobStorage, {
      readRangeSync: (...a: Parameters<NonNullable<BlobStorage['readRangeSync']>>) => { reads++; return fs.readRangeSync!(...a); },
    });
    const reader = MemberReader.over(counting, new ChunkCodec())!;
    const all = await members(store);
    assert.ok(all.length >= 550, `${all.length} members`);
    for (const m of all) {
      const loc = store.locate(m.id);
      assert.is(loc.codec, CODEC_BUNDLED);
      assert.equal(Buffer.from(reader.rawSync(m.id, loc)), Buffer.from(await store.loadChunk(m.id)));
    }
    // A bundle's region once, its members' records a window at a time (not a read each).
    assert.ok(reads < all.length / 4, `${reads} reads for ${all.length} members`);
    assert.ok(store.memberReader() !== null, 'a local store has a reader');
  } finally {
    await store.close();
    t.cleanup();
  }
});

test('a damaged member record is named; a storage without local reads gets no reader', async () => {
  const { t, store: path } = await bundledStore(40);
  try {
    const before = await Store.open(directoryLocation(path));
    const m = (await members(before))[5];
    const loc = before.locate(m.id);
    await before.close();
    // The first byte of the member's id, where its record header begins.
    const fd = openSync(join(path, 'packs', m.packId.slice(0, 2), `${m.packId}.pack`), 'r+');
    writeSync(fd, Buffer.from([m.id[0] ^ 0xff]), 0, 1, loc.offset);
    closeSync(fd);
    const store = await Store.open(directoryLocation(path));
    try {
      const reader = store.memberReader()!;
      const err = (() => { try { reader.rawSync(m.id, loc); return null; } catch (e) { return e as Error; } })();
      assert.ok(err instanceof IntegrityError, String(err));
      assert.match(err!.message, new RegExp(`${m.packId}.*offset ${loc.offset}`));
      const remote = { ...store.storage, readRangeSync: undefined, sizeSync: undefined } as BlobStorage;
      assert.is(MemberReader.over(remote, new ChunkCodec()), null);
    } finally {
      await store.close();
    }
  } finally {
    t.cleanup();
  }
});

test.run();
