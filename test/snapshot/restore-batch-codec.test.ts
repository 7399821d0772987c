/**
 * A restore batch's bytes (restore-batch-codec.ts) give back every field the worker uses, for
 * files with holes, xattrs and chunks in several packs and for symlinks; pack paths cross once
 * per batch; a batch cut short fails instead of yielding a shortened entry.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BatchWriter, readBatch, type BatchMeta } from '../../lib/snapshot/restore-batch-codec.js';
import type { RestoreChunk } from '../../lib/snapshot/restore-worker.js';

const id = (n: number) => new Uint8Array(32).fill(n);
const chunk = (n: number, path: string, layout: 'pack' | 'fxar' = 'pack'): RestoreChunk =>
  ({ id: id(n), path, offset: 2 ** 40 + n, storedLength: 1000 + n, rawLength: 65536 + n, codec: n % 3, layout });

const file: BatchMeta = {
  type: 'file', mode: 0o4755, uid: 1000, gid: 2**31, size: 3 * 2 ** 32, atimeNs: -123456789n, mtimeNs: 1733450000_987654321n,
  segments: [[0, 4096], [2 ** 33, 100]], xattrs: [['user.é', Buffer.from([0, 1, 2])], ['security.x', Buffer.alloc(0)]],
};
const link: BatchMeta = { type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 7, atimeNs: 0n, mtimeNs: 5n, linkTarget: Buffer.from('../ü/tgt') };

test('a batch gives back its entries, fields and chunks in order', () => {
  const w = new BatchWriter();
  const chunks = [chunk(1, '/s/packs/a.pack'), chunk(2, '/s/packs/b.pack', 'fxar'), chunk(3, '/s/packs/a.pack')];
  w.add(Buffer.from('/t/d/f1'), file, chunks);
  w.add(Buffer.from('/t/d/l'), link, []);
  w.add(Buffer.from('/t/d/empty'), { ...file, segments: undefined, xattrs: undefined, size: 0 }, []);
  const { bytes, packs } = w.finish();
  assert.equal(packs, ['/s/packs/a.pack', '/s/packs/b.pack']);
  const got = [...readBatch(bytes, packs)];
  assert.is(got.length, 3);
  const [f, l, e] = got;
  assert.is(f.path.toString(), '/t/d/f1');
  assert.is(f.meta.name.toString(), 'f1');
  for (const k of ['type', 'mode', 'uid', 'gid', 'size', 'atimeNs', 'mtimeNs'] as const) assert.is(f.meta[k], file[k], k);
  assert.equal(f.meta.segments, file.segments);
  assert.equal(f.meta.xattrs!.map(([k, v]) => [k, [...v]]), [['user.é', [0, 1, 2]], ['security.x', []]]);
  assert.is(f.meta.nlink, 1);
  assert.is(f.chunks.length, 3);
  f.chunks.forEach((c, i) => {
    const want = chunks[i];
    assert.equal({ ...c, id: [...c.id] }, { ...want, id: [...want.id] }, `chunk ${i}`);
  });
  assert.is(l.meta.type, 'symlink');
  assert.is(l.linkTarget!.toString(), '../ü/tgt');
  assert.is(l.meta.mtimeNs, 5n);
  assert.is(f.linkTarget, undefined);
  assert.is(e.meta.segments, undefined);
  assert.is(e.meta.xattrs, undefined);
  assert.is(e.meta.size, 0);
});

test('records fetched into shared memory cross beside the bytes, each chunk with its own, views not copies', () => {
  const w = new BatchWriter();
  const window = new Uint8Array(new SharedArrayBuffer(4096)).fill(7);
  const a = window.subarray(10, 1010), b = window.subarray(2000, 3000);
  w.add(Buffer.from('/t/f'), file, [{ ...chunk(1, 's3://b/p/packs/aa/x.pack'), record: a }, chunk(2, '/s/packs/a.pack'), { ...chunk(3, 's3://b/p/packs/aa/x.pack'), record: b }]);
  const { bytes, packs, records } = w.finish();
  assert.is(records.length, 2);
  const [f] = [...readBatch(bytes, packs, records)];
  assert.is(f.chunks[0].record, a);
  assert.is(f.chunks[1].record, undefined);
  assert.is(f.chunks[2].record, b);
  assert.is(f.chunks[2].offset, 2 ** 40 + 3);
  assert.is(w.finish().records.length, 0);
  // A record index past the table is refused, not read as a pack path.
  assert.throws(() => [...readBatch(bytes, packs, records.slice(0, 1))], /no record 2/);
});

test('the writer starts empty after finish, and grows past its first buffer', () => {
  const w = new BatchWriter();
  w.add(Buffer.from('/t/a'), link, []);
  w.finish();
  const long = Buffer.alloc(40_000, 0x61);
  long[0] = 0x2f;
  w.add(long, file, Array.from({ length: 300 }, (_, i) => chunk(i & 0xff, `/p/${i % 7}`)));
  const { bytes, packs } = w.finish();
  assert.is(packs.length, 7);
  const got = [...readBatch(bytes, packs)];
  assert.is(got.length, 1);
  assert.ok(got[0].path.equals(long));
  assert.is(got[0].chunks[299].path, '/p/5');
  assert.is(got[0].chunks[299].id[0], 299 & 0xff);
});

test('a batch cut short, or naming a pack it does not list, throws', () => {
  const w = new BatchWriter();
  w.add(Buffer.from('/t/d/f1'), file, [chunk(1, '/s/a.pack')]);
  const { bytes, packs } = w.finish();
  for (let cut = 1; cut < bytes.byteLength; cut += 7) {
    assert.throws(() => [...readBatch(bytes.slice(0, cut), packs)], RangeError, `cut at ${cut}`);
  }
  assert.throws(() => [...readBatch(bytes, [])], /no pack path/);
});

test.run();
