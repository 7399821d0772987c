/**
 * The BlobStorage contract (lib/store/blob-storage.ts), as one suite run against every backend:
 * the directory backend (FsStorage), MemoryStorage, and FaultyStorage (test/helpers) over each
 * of them with seeded delays and no faults (a wrapper must keep the contract). A new backend
 * (S3) joins by calling blobStorageSuite with a factory. Below the suite, FaultyStorage's own
 * promise: each injected fault is a clear one-line error and leaves no visible blob.
 * Backend-specific behaviour (the directory layout, O_DIRECT) is tested in
 * test/store/fs-storage.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError, ToolkitError } from '../../lib/errors/index.js';
import type { BlobKind, BlobStorage } from '../../lib/store/blob-storage.js';
import { FsStorage } from '../../lib/store/fs-storage.js';
import { MemoryStorage } from '../../lib/store/memory-storage.js';
import { alignedBuffer, DIRECT_ALIGN } from '../../lib/fs/direct-io.js';
import { type FaultOp, FaultyStorage } from '../helpers/faulty-storage.js';
import { S3Storage } from '../../lib/store/s3-storage.js';
import { PART_BYTES, SINGLE_PUT_BYTES } from '../../lib/store/s3-blob-writer.js';
import { s3TestSettings } from '../helpers/s3-store.js';
import { startCeph } from '../helpers/ceph-cluster.js';
import { isMissing, rejects } from '../helpers/blob-asserts.js';
import { PortStorage, portDescriptor } from '../../lib/store/port-storage.js';
import { wireStorage } from '../helpers/wire-storage.js';

export interface StorageUnderTest { storage: BlobStorage; cleanup(): Promise<void> }

const hexName = (seed: string) => Buffer.from(seed.padEnd(32, '0').slice(0, 32)).toString('hex');
const randName = () => randomBytes(32).toString('hex');

async function listAll(s: BlobStorage, kind: BlobKind): Promise<string[]> {
  const out: string[] = [];
  for await (const n of s.list(kind)) out.push(n);
  return out.sort();
}


export function blobStorageSuite(name: string, makeStorage: () => Promise<StorageUnderTest>): void {
  const s = suite<{ sut?: StorageUnderTest }>(`BlobStorage conformance: ${name}`, {});
  s.before.each(async (ctx) => { ctx.sut = await makeStorage(); });
  s.after.each(async (ctx) => {
    await ctx.sut!.storage.close();
    await ctx.sut!.cleanup();
  });

  s('put / get / size / exists', async ({ sut }) => {
    const st = sut!.storage;
    const data = randomBytes(5000);
    const n = randName();
    assert.is(await st.exists('pack', n), false);
    await st.put('pack', n, data);
    assert.is(await st.exists('pack', n), true);
    assert.ok((await st.get('pack', n)).equals(data));
    assert.is(await st.size('pack', n), 5000);
    // Kinds are separate namespaces.
    assert.is(await st.exists('snapshot', n), false);
    await st.put('snapshot', n, Buffer.from('snap'));
    assert.is((await st.get('snapshot', n)).toString(), 'snap');
    assert.ok((await st.get('pack', n)).equals(data));
    // Empty blobs are fine.
    const e = randName();
    await st.put('snapshot', e, Buffer.alloc(0));
    assert.is((await st.get('snapshot', e)).length, 0);
    assert.is(await st.size('snapshot', e), 0);
  });

  s('readRange reads exact ranges; past the end is FormatError TRUNCATED', async ({ sut }) => {
    const st = sut!.storage;
    const data = randomBytes(10_000);
    const n = randName();
    await st.put('pack', n, data);
    assert.ok((await st.readRange('pack', n, 0, 10)).equals(data.subarray(0, 10)));
    assert.ok((await st.readRange('pack', n, 1234, 4321)).equals(data.subarray(1234, 5555)));
    assert.ok((await st.readRange('pack', n, 9_990, 10)).equals(data.subarray(9_990)));
    assert.is((await st.readRange('pack', n, 10_000, 0)).length, 0);
    for (const [off, len] of [[9_995, 10], [10_000, 1], [20_000, 5]]) {
      await rejects(st.readRange('pack', n, off, len), (e) => {
        assert.instance(e, FormatError);
        assert.is((e as FormatError).code, 'TRUNCATED');
        assert.match((e as Error).message, /truncated/);
      });
    }
  });

  s('list returns every committed name of a kind, only that kind', async ({ sut }) => {
    const st = sut!.storage;
    assert.equal(await listAll(st, 'pack'), []);
    assert.equal(await listAll(st, 'snapshot'), []);
    const packs = Array.from({ length: 12 }, randName);
    for (const p of packs) await st.put('pack', p, Buffer.from(p));
    const snaps = [hexName('s1'), hexName('s2')];
    for (const p of snaps) await st.put('snapshot', p, Buffer.from(p));
    assert.equal(await listAll(st, 'pack'), [...packs].sort());
    assert.equal(await listAll(st, 'snapshot'), [...snaps].sort());
  });

  s('remove deletes; removing a missing blob is not an error', async ({ sut }) => {
    const st = sut!.storage;
    const n = randName(), m = randName();
    await st.put('pack', n, Buffer.from('one'));
    await st.put('pack', m, Buffer.from('two'));
    assert.is((await st.readRange('pack', n, 0, 3)).toString(), 'one'); // may cache a handle
    await st.remove('pack', n);
    assert.is(await st.exists('pack', n), false);
    assert.equal(await listAll(st, 'pack'), [m]);
    await rejects(st.get('pack', n), isMissing);
    await rejects(st.readRange('pack', n, 0, 3), isMissing);
    await st.remove('pack', n);
    await st.remove('snapshot', randName());
  });

  s('create + write + commit; overlapping writes land in call order', async ({ sut }) => {
    const st = sut!.storage;
    const w = await st.create('pack');
    assert.is(w.bytesWritten, 0);
    const a = randomBytes(100), b = randomBytes(70_000), c = Buffer.alloc(0), d = randomBytes(3);
    await w.write(a);
    await Promise.all([b, c, d].map((x) => w.write(x)));
    // Many small writes in flight at once, each where it was called.
    const many = Array.from({ length: 2500 }, (_, i) => Buffer.from([i & 0xff, i >> 8]));
    await Promise.all(many.map((x) => w.write(x)));
    await w.write(new Uint8Array([9, 9]));
    const want = Buffer.concat([a, b, d, ...many, Buffer.from([9, 9])]);
    assert.is(w.bytesWritten, want.length);
    const n = randName();
    assert.equal(await listAll(st, 'pack'), []); // not visible before commit
    await w.commit(n);
    assert.ok((await st.get('pack', n)).equals(want));
    assert.equal(await listAll(st, 'pack'), [n]);
  });

  s('create with the direct hint: aligned blocks, unaligned rest and overlapping writes read back in order', async ({ sut }) => {
    const st = sut!.storage;
    const w = await st.create('pack', { direct: true });
    const block = alignedBuffer(1 << 20);
    randomBytes(block.length).copy(block);
    const tail = randomBytes(1000), mid = randomBytes(5000), block2 = alignedBuffer(8192).fill(7);
    // A whole block at offset 0, an unaligned piece, two overlapping writes, then an aligned
    // buffer at an unaligned offset (which a direct backend must write some other way).
    await w.write(block);
    await w.write(tail);
    await Promise.all([w.write(mid), w.write(block.subarray(0, 10))]);
    await w.write(block2);
    const want = Buffer.concat([block, tail, mid, block.subarray(0, 10), block2]);
    assert.is(w.bytesWritten, want.length);
    const n = randName();
    await w.commit(n);
    assert.ok((await st.get('pack', n)).equals(want));
  });

  s('a write of several parts lands back to back: aligned parts, then a mix with unaligned ones', async ({ sut }) => {
    const st = sut!.storage;
    const w = await st.create('pack', { direct: true });
    const aligned = [1, 2, 3].map((i) => alignedBuffer(DIRECT_ALIGN * i).fill(i));
    const odd = randomBytes(777);
    await w.write(aligned);
    // An unaligned part in the middle: the parts after it are at unaligned positions too.
    await w.write([aligned[0], odd, aligned[1]]);
    await Promise.all([w.write([]), w.write([aligned[2]]), w.write([odd, odd])]);
    const want = Buffer.concat([...aligned, aligned[0], odd, aligned[1], aligned[2], odd, odd]);
    assert.is(w.bytesWritten, want.length);
    const n = randName();
    await w.commit(n);
    assert.ok((await st.get('pack', n)).equals(want));
  });

  s('abort leaves nothing listed; abort is idempotent and safe after commit failure', async ({ sut }) => {
    const st = sut!.storage;
    const w = await st.create('pack');
    await w.write(randomBytes(1000));
    await Promise.all([w.write(randomBytes(10)), w.write(randomBytes(20))]);
    await w.abort();
    await w.abort();
    assert.equal(await listAll(st, 'pack'), []);
    const w2 = await st.create('snapshot');
    await w2.abort();
    assert.equal(await listAll(st, 'snapshot'), []);
    // A commit to an invalid name fails and the writer can still be aborted.
    const w3 = await st.create('pack');
    await w3.write(Buffer.from('x'));
    await rejects(w3.commit('../../escape'), (e) => assert.instance(e, ToolkitError));
    await w3.abort();
    assert.equal(await listAll(st, 'pack'), []);
  });

  s('invalid names are rejected', async ({ sut }) => {
    const st = sut!.storage;
    const bad = ['', 'abc', '../../../../etc/passwd', 'ABCDEF0123456789', 'zz' + '0'.repeat(30), '0'.repeat(65), `${'a'.repeat(32)}/x`, 'a'.repeat(31) + '\0'];
    for (const n of bad) {
      for (const kind of ['pack', 'snapshot'] as const) {
        await rejects(st.put(kind, n, Buffer.from('x')), (e) => assert.instance(e, ToolkitError, `put ${kind} ${JSON.stringify(n)}`));
        await rejects(st.get(kind, n), (e) => assert.instance(e, ToolkitError, `get ${JSON.stringify(n)}`));
        await rejects(st.readRange(kind, n, 0, 1), (e) => assert.instance(e, ToolkitError, `readRange ${JSON.stringify(n)}`));
      }
    }
    assert.equal(await listAll(st, 'pack'), []);
    assert.equal(await listAll(st, 'snapshot'), []);
  });

  s('missing blob: get and readRange → NotFoundError MISSING_BLOB', async ({ sut }) => {
    const st = sut!.storage;
    const n = randName();
    await rejects(st.get('pack', n), isMissing);
    await rejects(st.readRange('pack', n, 0, 1), isMissing);
    await rejects(st.get('snapshot', n), isMissing);
    await rejects(st.readRange('snapshot', n, 0, 1), isMissing);
    // A failed open is not cached: the blob appearing later is readable.
    await st.put('pack', n, Buffer.from('late'));
    assert.is((await st.readRange('pack', n, 0, 4)).toString(), 'late');
  });

  s('missing blob: size → NotFoundError MISSING_BLOB', async ({ sut }) => {
    await rejects(sut!.storage.size('pack', randName()), isMissing);
  });

  s('concurrent range reads over more blobs than cached handles', async ({ sut }) => {
    const st = sut!.storage;
    const names = Array.from({ length: 90 }, randName);
    const datas = names.map(() => randomBytes(256));
    await Promise.all(names.map((n, i) => st.put('pack', n, datas[i])));
    for (let round = 0; round < 3; round++) {
      const got = await Promise.all(names.map((n, i) => st.readRange('pack', n, i % 200, 50).then((b) => [i, b] as const)));
      for (const [i, b] of got) assert.ok(b.equals(datas[i].subarray(i % 200, i % 200 + 50)), `blob ${i} round ${round}`);
    }
  });


  s('nothing is visible before commit; commit makes the whole blob visible at once', async ({ sut }) => {
    const st = sut!.storage;
    const n = randName();
    const w = await st.create('snapshot');
    await w.write(Buffer.from('half'));
    assert.is(await st.exists('snapshot', n), false);
    await rejects(st.get('snapshot', n), isMissing);
    await rejects(st.size('snapshot', n), isMissing);
    assert.equal(await listAll(st, 'snapshot'), []);
    await w.write(Buffer.from(' and the rest'));
    await w.commit(n);
    assert.is(await st.exists('snapshot', n), true);
    assert.is((await st.get('snapshot', n)).toString(), 'half and the rest');
    assert.is(await st.size('snapshot', n), 17);
  });

  s('writers of different blobs interleave without mixing', async ({ sut }) => {
    const st = sut!.storage;
    const ws = await Promise.all([0, 1, 2].map(() => st.create('pack')));
    const parts = ws.map((_, i) => Array.from({ length: 40 }, (_, k) => Buffer.alloc(100 + k, i * 64 + k)));
    await Promise.all(parts.flatMap((ps, i) => ps.map((p) => ws[i]!.write(p))));
    const names = ws.map(randName);
    await Promise.all(ws.map((w, i) => w.commit(names[i]!)));
    for (let i = 0; i < ws.length; i++) assert.ok((await st.get('pack', names[i]!)).equals(Buffer.concat(parts[i]!)), `blob ${i}`);
  });

  s('a commit over an existing name replaces it, for ranged readers too', async ({ sut }) => {
    const st = sut!.storage;
    const n = randName();
    await st.put('pack', n, Buffer.from('old bytes'));
    assert.is((await st.readRange('pack', n, 0, 3)).toString(), 'old'); // may cache a handle
    assert.is(st.readRangeSync?.('pack', n, 4, 5).toString() ?? 'bytes', 'bytes');
    const w = await st.create('pack');
    await w.write(Buffer.from('new BYTES'));
    await w.commit(n);
    assert.is((await st.readRange('pack', n, 0, 3)).toString(), 'new');
    assert.is(st.readRangeSync?.('pack', n, 4, 5).toString() ?? 'BYTES', 'BYTES');
    assert.is((await st.get('pack', n)).toString(), 'new BYTES');
  });

  s('the synchronous methods, where a backend has them, agree with the asynchronous ones', async ({ sut }) => {
    const st = sut!.storage;
    const data = randomBytes(3000);
    const n = randName();
    await st.put('pack', n, data);
    await st.put('snapshot', n, data.subarray(0, 10));
    if (st.readRangeSync) {
      assert.ok(st.readRangeSync('pack', n, 100, 200).equals(await st.readRange('pack', n, 100, 200)));
      try { st.readRangeSync('pack', n, 2999, 2); assert.unreachable('past the end'); } catch (e) {
        assert.instance(e, FormatError);
        assert.is((e as FormatError).code, 'TRUNCATED');
      }
      try { st.readRangeSync('pack', randName(), 0, 1); assert.unreachable('missing'); } catch (e) { isMissing(e); }
    }
    if (st.sizeSync) assert.is(st.sizeSync('pack', n), 3000);
    if (st.getSync) assert.ok(st.getSync('snapshot', n).equals(data.subarray(0, 10)));
    if (st.listSync) assert.equal([...st.listSync('pack')].sort(), await listAll(st, 'pack'));
  });

  s('a buffer read from a blob is the caller\'s: changing it changes no blob', async ({ sut }) => {
    const st = sut!.storage;
    const n = randName();
    await st.put('pack', n, Buffer.from('abcdef'));
    (await st.get('pack', n)).fill(0);
    (await st.readRange('pack', n, 0, 3)).fill(0);
    assert.is((await st.get('pack', n)).toString(), 'abcdef');
    // And a buffer written is the storage's once its write resolved.
    const b = Buffer.from('123456');
    const w = await st.create('pack');
    await w.write(b);
    b.fill(0);
    const m = randName();
    await w.commit(m);
    assert.is((await st.get('pack', m)).toString(), '123456');
  });

  s.run();
}

// --- The backends ----------------------------------------------------------------------------

// Started before the first suite is queued: uvu starts running queued suites at the first
// pause of the module, and a suite queued after an await would run alongside them.
const ceph = await startCeph();

const roots: string[] = [];
function fsRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'fx-conformance-'));
  roots.push(root);
  return root;
}
const removeRoot = (root: string) => async () => {
  // The contract's writers all committed or aborted: the directory backend's tmp/ is empty.
  const left = existsSync(join(root, 'tmp')) ? readdirSync(join(root, 'tmp')) : [];
  rmSync(root, { recursive: true, force: true });
  assert.equal(left, [], `${root}/tmp`);
};

blobStorageSuite('FsStorage', async () => {
  const root = fsRoot();
  return { storage: new FsStorage(root), cleanup: removeRoot(root) };
});

blobStorageSuite('MemoryStorage', async () => ({ storage: new MemoryStorage(), cleanup: async () => {} }));

let delaySeed = 1;
blobStorageSuite('FaultyStorage over MemoryStorage, seeded delays, no faults', async () => ({
  storage: new FaultyStorage(new MemoryStorage(), { delay: { seed: delaySeed++, maxMs: 2 } }), cleanup: async () => {},
}));

blobStorageSuite('FaultyStorage over FsStorage, seeded delays, no faults', async () => {
  const root = fsRoot();
  return { storage: new FaultyStorage(new FsStorage(root), { delay: { seed: delaySeed++, maxMs: 2 } }), cleanup: removeRoot(root) };
});

// The wire backend (formats/wire.md §7): SshStorage to the real server's blob session on a
// directory, over an in-memory pair; and PortStorage, what chunk workers use to reach a storage
// only the main thread has, here over a MessageChannel to FsStorage.
blobStorageSuite('SshStorage over the wire to FsStorage', async () => {
  const root = fsRoot();
  return { storage: (await wireStorage(root)).storage, cleanup: removeRoot(root) };
});

blobStorageSuite('PortStorage over a MessagePort to FsStorage', async () => {
  const root = fsRoot();
  const inner = new FsStorage(root);
  return { storage: new PortStorage(portDescriptor(inner).port), cleanup: async () => { await inner.close(); await removeRoot(root)(); } };
});

// The S3 backend on a real Ceph radosgw (test/helpers/ceph-cluster.ts), each test in a prefix of
// its own; afterwards nothing may be left under the prefix's tmp/ (no temporary object, no
// unfinished multipart upload). The cluster was started before any suite was queued.
if (typeof ceph === 'string') {
  console.log(`  (S3Storage conformance skipped: ${ceph})`);
} else {
  const settings = s3TestSettings(ceph);
  const bucket = 'conformance';
  const admin = new S3Storage(bucket, '', settings);
  // Made at the first test (no await at the module's top level once suites are queued).
  let made: Promise<unknown> | null = null;
  let n = 0;
  blobStorageSuite('S3Storage on Ceph radosgw', async () => {
    await (made ??= admin.client.send({ method: 'PUT', bucket }));
    const prefix = `t${++n}/store`;
    return {
      storage: new S3Storage(bucket, prefix, settings),
      cleanup: async () => {
        const left: string[] = [];
        for await (const o of admin.listKeys(`${prefix}/tmp/`)) left.push(o.key);
        const uploads = (await admin.client.send({ method: 'GET', bucket, query: [['uploads', ''], ['prefix', `${prefix}/`]] })).body.toString();
        assert.equal(left, [], `${prefix}/tmp`);
        assert.not.match(uploads, /<Upload>/, 'an unfinished multipart upload is left');
      },
    };
  });
  const multi = suite('S3Storage multipart on Ceph radosgw');
  multi('a blob of up to SINGLE_PUT_BYTES is one PUT; the part buffers it used serve the next blob without mixing their bytes', async () => {
    const st = new S3Storage(bucket, 'single', settings);
    const names: string[] = [];
    const blobs = [randomBytes(SINGLE_PUT_BYTES), randomBytes(PART_BYTES + 777)];
    for (const data of blobs) {
      const w = await st.create('pack');
      for (let at = 0; at < data.length; at += 1 << 20) await w.write(data.subarray(at, Math.min(data.length, at + (1 << 20))));
      const before = st.client.requests;
      const name = randName();
      await w.commit(name);
      assert.is(st.client.requests - before, 1, 'requests to commit');
      names.push(name);
    }
    for (const [i, name] of names.entries()) assert.ok((await st.get('pack', name)).equals(blobs[i]!), `blob ${i}`);
    await st.close();
  });
  multi('a blob of several parts is uploaded in parts, committed whole, and leaves no temporary', async () => {
    const st = new S3Storage(bucket, 'multi', settings);
    const data = randomBytes(SINGLE_PUT_BYTES + PART_BYTES + 12345);
    const w = await st.create('pack');
    // Writes of the pack writer's size, overlapping, as it issues them.
    const writes: Promise<void>[] = [];
    for (let at = 0; at < data.length; at += 1 << 20) writes.push(w.write(data.subarray(at, Math.min(data.length, at + (1 << 20)))));
    await Promise.all(writes);
    const name = randName();
    assert.is(await st.exists('pack', name), false);
    await w.commit(name);
    assert.ok((await st.get('pack', name)).equals(data));
    for (const edge of [PART_BYTES, SINGLE_PUT_BYTES, SINGLE_PUT_BYTES + PART_BYTES]) {
      assert.ok((await st.readRange('pack', name, edge - 10, 20)).equals(data.subarray(edge - 10, edge + 10)), `bytes around ${edge}`);
    }
    const left: string[] = [];
    for await (const o of st.listKeys('tmp/')) left.push(o.key);
    assert.equal(left, []);
    // An aborted multipart blob leaves no upload behind.
    const w2 = await st.create('pack');
    await w2.write(data);
    await w2.abort();
    const uploads = (await st.client.send({ method: 'GET', bucket, query: [['uploads', ''], ['prefix', 'multi/']] })).body.toString();
    assert.not.match(uploads, /<Upload>/);
    assert.equal(await listAll(st, 'pack'), [name]);
    await st.close();
  });
  multi.after(async () => { await admin.close(); ceph.stop(); });
  multi.run();
}

// --- FaultyStorage: each fault is one clear error and leaves nothing visible -----------------

const faults = suite('FaultyStorage faults');
faults.after(() => {
  for (const r of roots) assert.is(existsSync(r), false, `a suite left ${r} behind`);
});

/** A new FaultyStorage over each backend, with what must be empty after a failed write. */
function backends(): Array<{ name: string; inner: () => { storage: BlobStorage; tmpEmpty(): boolean; cleanup(): void } }> {
  return [
    { name: 'MemoryStorage', inner: () => ({ storage: new MemoryStorage(), tmpEmpty: () => true, cleanup: () => {} }) },
    { name: 'FsStorage', inner: () => {
      const root = mkdtempSync(join(tmpdir(), 'fx-faulty-'));
      return { storage: new FsStorage(root), tmpEmpty: () => !existsSync(join(root, 'tmp')) || readdirSync(join(root, 'tmp')).length === 0,
        cleanup: () => rmSync(root, { recursive: true, force: true }) };
    } },
  ];
}

/** Asserts `e` is the one-line IO error of an injected `op`. */
function isInjected(e: unknown, op: FaultOp, syscall: string): void {
  assert.instance(e, ToolkitError, String(e));
  assert.is((e as ToolkitError).code, 'IO');
  assert.is((e as ToolkitError).data.syscall, syscall);
  assert.is((e as ToolkitError).data.errno, 'EIO');
  assert.not.match((e as Error).message, /\n/);
  assert.match((e as Error).message, `[injected: ${op} #`);
}

for (const b of backends()) {
  for (const [op, syscall] of [['write', 'write'], ['fsync', 'fsync'], ['rename', 'rename']] as const) {
    faults(`${b.name}: a failed ${op} is an IO error naming ${syscall}; after abort nothing is visible`, async () => {
      const inner = b.inner();
      try {
        // The second of three writes, or the first commit.
        const st = new FaultyStorage(inner.storage, { faults: [{ op, nth: op === 'write' ? 2 : 1, kind: 'pack' }] });
        const n = randName();
        const w = await st.create('pack');
        let failed: unknown = null;
        try {
          for (const part of ['a', 'b', 'c']) await w.write(Buffer.from(part));
          await w.commit(n);
        } catch (e) {
          failed = e;
          await w.abort();
        }
        isInjected(failed, op, syscall);
        assert.is(await st.exists('pack', n), false);
        assert.equal(await listAll(st, 'pack'), []);
        assert.ok(inner.tmpEmpty(), 'abort left a temporary blob');
        assert.equal(st.injected.length, 1);
        // One fault only: the next blob is written.
        await st.put('pack', n, Buffer.from('ok'));
        assert.is((await st.get('pack', n)).toString(), 'ok');
      } finally {
        await inner.storage.close();
        inner.cleanup();
      }
    });
  }

  faults(`${b.name}: a writer whose write failed refuses to commit (fsync reports the write-back error)`, async () => {
    const inner = b.inner();
    try {
      const st = new FaultyStorage(inner.storage, { faults: [{ op: 'write', nth: 1 }] });
      const w = await st.create('snapshot');
      await rejects(w.write(Buffer.from('lost')), (e) => isInjected(e, 'write', 'write'));
      await w.write(Buffer.from('kept'));
      const n = randName();
      await rejects(w.commit(n), (e) => isInjected(e, 'write', 'write'));
      await w.abort();
      assert.equal(await listAll(st, 'snapshot'), []);
      assert.ok(inner.tmpEmpty());
    } finally {
      await inner.storage.close();
      inner.cleanup();
    }
  });

  faults(`${b.name}: put through a fault leaves nothing, temporary or visible`, async () => {
    const inner = b.inner();
    try {
      for (const op of ['write', 'fsync', 'rename'] as const) {
        const st = new FaultyStorage(inner.storage, { faults: [{ op, nth: 1 }] });
        const n = randName();
        await rejects(st.put('snapshot', n, Buffer.from('record')), (e) => isInjected(e, op, op));
        assert.is(await st.exists('snapshot', n), false);
        assert.ok(inner.tmpEmpty(), `${op}: a temporary blob is left`);
      }
    } finally {
      await inner.storage.close();
      inner.cleanup();
    }
  });

  faults(`${b.name}: a failed read is IO, a short read is TRUNCATED; the blob is unchanged`, async () => {
    const inner = b.inner();
    try {
      const st = new FaultyStorage(inner.storage);
      const n = randName();
      const data = randomBytes(1000);
      await st.put('pack', n, data);
      st.arm({ faults: [{ op: 'read', nth: 1 }, { op: 'short-read', nth: 2 }, { op: 'short-read', nth: 3 }, { op: 'short-read', nth: 4 }] });
      await rejects(st.readRange('pack', n, 10, 100), (e) => isInjected(e, 'read', 'read'));
      const truncated = (e: unknown) => {
        assert.instance(e, FormatError, String(e));
        assert.is((e as FormatError).code, 'TRUNCATED');
        assert.match((e as Error).message, /truncated \(wanted 100 bytes at offset 10, the read ended after 50\)/);
      };
      await rejects(st.readRange('pack', n, 10, 100), truncated);
      if (st.readRangeSync) {
        try { st.readRangeSync('pack', n, 10, 100); assert.unreachable('short read'); } catch (e) { truncated(e); }
      } else {
        await rejects(st.readRange('pack', n, 10, 100), truncated);
      }
      await rejects(st.get('pack', n), (e) => assert.is((e as FormatError).code, 'TRUNCATED'));
      assert.ok((await st.readRange('pack', n, 10, 100)).equals(data.subarray(10, 110)));
      assert.ok((await st.get('pack', n)).equals(data));
      assert.is(st.injected.length, 4);
    } finally {
      await inner.storage.close();
      inner.cleanup();
    }
  });

  faults(`${b.name}: a failed remove is IO and the blob stays`, async () => {
    const inner = b.inner();
    try {
      const st = new FaultyStorage(inner.storage, { faults: [{ op: 'remove', nth: 1, kind: 'snapshot' }] });
      const n = randName();
      await st.put('snapshot', n, Buffer.from('x'));
      await rejects(st.remove('snapshot', n), (e) => isInjected(e, 'remove', 'unlink'));
      assert.is(await st.exists('snapshot', n), true);
      await st.remove('snapshot', n);
      assert.is(await st.exists('snapshot', n), false);
    } finally {
      await inner.storage.close();
      inner.cleanup();
    }
  });

  faults(`${b.name}: seeded faults are the same for the same seed, and every blob is whole or absent`, async () => {
    const runs: string[][] = [];
    for (let round = 0; round < 2; round++) {
      const inner = b.inner();
      try {
        const st = new FaultyStorage(inner.storage, { seeded: { seed: 42, rate: 0.2 } });
        const want = new Map<string, Buffer>();
        for (let i = 0; i < 30; i++) {
          const n = hexName(`blob${i}`);
          const parts = [Buffer.alloc(10, i), Buffer.alloc(20, i + 1)];
          const w = await st.create('pack');
          try {
            for (const p of parts) await w.write(p);
            await w.commit(n);
            want.set(n, Buffer.concat(parts));
          } catch (e) {
            assert.instance(e, ToolkitError);
            await w.abort();
          }
        }
        st.disarm();
        assert.equal(await listAll(st, 'pack'), [...want.keys()].sort());
        for (const [n, d] of want) assert.ok((await st.get('pack', n)).equals(d), n);
        assert.ok(inner.tmpEmpty());
        assert.ok(st.injected.length > 0 && want.size > 0, `${st.injected.length} faults, ${want.size} blobs`);
        runs.push(st.injected.map((l) => l.replace(/ .*/, '')));
      } finally {
        await inner.storage.close();
        inner.cleanup();
      }
    }
    assert.equal(runs[0], runs[1]);
  });
}

faults('the fault counter counts per kind when a fault names one', async () => {
  const st = new FaultyStorage(new MemoryStorage(), { faults: [{ op: 'write', nth: 2, kind: 'snapshot' }] });
  await st.put('pack', randName(), Buffer.from('p1'));
  await st.put('snapshot', randName(), Buffer.from('s1'));
  await st.put('pack', randName(), Buffer.from('p2'));
  await rejects(st.put('snapshot', randName(), Buffer.from('s2')), (e) => isInjected(e, 'write', 'write'));
  assert.equal(st.counts, { write: 4, 'write:pack': 2, 'write:snapshot': 2, fsync: 3, 'fsync:pack': 2, 'fsync:snapshot': 1, rename: 3, 'rename:pack': 2, 'rename:snapshot': 1 });
});

faults.run();
