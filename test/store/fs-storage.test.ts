// BlobStorage conformance suite, run against FsStorage. Another backend passes the same suite:
// import { blobStorageSuite } and call it with a factory for that backend.
import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { constants, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError, NotFoundError, ToolkitError } from '../../lib/errors/index.js';
import type { BlobKind, BlobStorage } from '../../lib/store/blob-storage.js';
import { FsStorage } from '../../lib/store/fs-storage.js';
import { alignedBuffer, DIRECT_ALIGN, directOpenFlag } from '../../lib/fs/direct-io.js';
import { native } from '../../lib/native/load.js';

export interface StorageUnderTest { storage: BlobStorage; cleanup(): Promise<void> }

const hexName = (seed: string) => Buffer.from(seed.padEnd(32, '0').slice(0, 32)).toString('hex');
const randName = () => randomBytes(32).toString('hex');

async function listAll(s: BlobStorage, kind: BlobKind): Promise<string[]> {
  const out: string[] = [];
  for await (const n of s.list(kind)) out.push(n);
  return out.sort();
}

async function rejects(p: Promise<unknown>, check: (e: unknown) => void): Promise<void> {
  try {
    await p;
  } catch (e) {
    check(e);
    return;
  }
  assert.unreachable('expected a rejection');
}

const isMissing = (e: unknown) => {
  assert.instance(e, NotFoundError, `expected NotFoundError, got ${String(e)}`);
  assert.is((e as NotFoundError).code, 'MISSING_BLOB');
};

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

  s.run();
}

// --- FsStorage -------------------------------------------------------------------------------

const roots: string[] = [];
blobStorageSuite('FsStorage', async () => {
  const root = mkdtempSync(join(tmpdir(), 'fx-fsstorage-'));
  roots.push(root);
  return { storage: new FsStorage(root), cleanup: async () => rmSync(root, { recursive: true, force: true }) };
});

let root = '';
test.before(() => { root = mkdtempSync(join(tmpdir(), 'fx-fsstorage-layout-')); });
test.after(() => {
  rmSync(root, { recursive: true, force: true });
  for (const r of roots) assert.is(existsSync(r), false, `suite left ${r} behind`);
});

test('FsStorage layout: fan-out pack dirs, .snap files, read-only blobs, tmp/ emptied', async () => {
  const st = new FsStorage(root);
  const p = 'ab' + '1'.repeat(62), q = 'cd' + '2'.repeat(62), sn = '0123456789abcdef';
  await st.put('pack', p, Buffer.from('P'));
  await st.put('snapshot', sn, Buffer.from('S'));
  const w = await st.create('pack');
  await w.write(Buffer.from('Q'));
  assert.is(readdirSync(join(root, 'tmp')).length, 1);
  await w.commit(q);
  const aborted = await st.create('pack');
  await aborted.write(Buffer.from('junk'));
  await aborted.abort();
  assert.is(readFileSync(join(root, 'packs', 'ab', `${p}.pack`), 'utf8'), 'P');
  assert.is(readFileSync(join(root, 'packs', 'cd', `${q}.pack`), 'utf8'), 'Q');
  assert.is(readFileSync(join(root, 'snapshots', `${sn}.snap`), 'utf8'), 'S');
  assert.is(statSync(join(root, 'packs', 'ab', `${p}.pack`)).mode & 0o777, 0o444);
  assert.equal(readdirSync(join(root, 'tmp')), []);
  assert.is(st.describe('pack', p), join(root, 'packs', 'ab', `${p}.pack`));
  await rejects(st.get('pack', q.replace('2', '3')), (e) => {
    isMissing(e);
    assert.match((e as Error).message, join(root, 'packs', 'cd'));
  });
  // Foreign files in the layout are not listed.
  writeFileSync(join(root, 'packs', 'ab', 'notes.txt'), 'x');
  writeFileSync(join(root, 'snapshots', 'notes.txt'), 'x');
  const names: string[] = [];
  for await (const n of st.list('pack')) names.push(n);
  assert.equal(names, [p, q]);
  const snaps: string[] = [];
  for await (const n of st.list('snapshot')) snaps.push(n);
  assert.equal(snaps, [sn]);
  await st.close();
});

/** The open-file flags of this process's descriptors on `path` (from /proc/self/fdinfo). */
function openFlags(path: string): number[] {
  const out: number[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target = '';
    try { target = readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    if (target !== path) continue;
    const m = /flags:\s*([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (m) out.push(parseInt(m[1]!, 8));
  }
  return out;
}

/** Runs `fn` with FOXING_DIRECT_PACKS set to `value` (direct writes are the default; '0' turns them off). */
async function withDirectPacks(value: string | undefined, fn: () => Promise<void>): Promise<void> {
  const old = process.env.FOXING_DIRECT_PACKS;
  if (value === undefined) delete process.env.FOXING_DIRECT_PACKS; else process.env.FOXING_DIRECT_PACKS = value;
  try { await fn(); } finally {
    if (old === undefined) delete process.env.FOXING_DIRECT_PACKS; else process.env.FOXING_DIRECT_PACKS = old;
  }
}

test('FsStorage writes packs buffered with FOXING_DIRECT_PACKS=0', () => withDirectPacks('0', async () => {
  const st = new FsStorage(root);
  const w = await st.create('pack', { direct: true });
  const tmp = join(root, 'tmp', readdirSync(join(root, 'tmp'))[0]!);
  assert.equal(openFlags(tmp).map((f) => f & (constants.O_DIRECT ?? 0)), [0]);
  await w.abort();
  await st.close();
}));

// Writes may overlap: each takes its place when called, whatever order they complete in.
test('FsStorage blob writes in flight together land in call order', () => withDirectPacks(undefined, async () => {
  const st = new FsStorage(root);
  const w = await st.create('pack', { direct: true });
  const parts = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => alignedBuffer(DIRECT_ALIGN * (i % 3 + 1)).fill(i));
  const tail = Buffer.from('unaligned tail');
  await Promise.all([...parts.map((p) => w.write(p)), w.write(tail)]);
  const name = 'ef' + '8'.repeat(62);
  await w.commit(name);
  assert.ok(readFileSync(join(root, 'packs', 'ef', `${name}.pack`)).equals(Buffer.concat([...parts, tail])));
  await st.close();
}));

test('FsStorage direct pack writes: O_DIRECT descriptor on the temporary file, read-only after commit', () => withDirectPacks(undefined, async () => {
  if (directOpenFlag() === 0) { console.log('  skipped: no native addon (buffers cannot be aligned)'); return; }
  const st = new FsStorage(root);
  const w = await st.create('pack', { direct: true });
  const tmp = join(root, 'tmp', readdirSync(join(root, 'tmp'))[0]!);
  const flags = openFlags(tmp);
  assert.is(flags.length, 2, 'a direct and a buffered descriptor');
  assert.is(flags.filter((f) => (f & directOpenFlag()) !== 0).length, 1);
  const block = alignedBuffer(DIRECT_ALIGN * 4).fill(1);
  await w.write(block);
  await w.write(Buffer.from('rest'));
  const name = 'ee' + '5'.repeat(62);
  await w.commit(name);
  const path = join(root, 'packs', 'ee', `${name}.pack`);
  assert.ok(readFileSync(path).equals(Buffer.concat([block, Buffer.from('rest')])));
  assert.is(statSync(path).mode & 0o777, 0o444);
  assert.equal(openFlags(tmp), []);
  await st.close();
}));

// Before Linux 6.6 tmpfs refuses O_DIRECT at open (the buffered fallback); later kernels accept it.
test('FsStorage direct pack writes on tmpfs: direct or buffered, the bytes are the same', () => withDirectPacks(undefined, async () => {
  if (directOpenFlag() === 0) { console.log('  skipped: no native addon'); return; }
  if (!existsSync('/dev/shm') || !statfsIsTmpfs('/dev/shm')) { console.log('  skipped: no tmpfs at /dev/shm'); return; }
  const shmRoot = mkdtempSync('/dev/shm/fx-direct-');
  try {
    const st = new FsStorage(shmRoot);
    const data = alignedBuffer(DIRECT_ALIGN * 2).fill(3);
    await st.put('pack', 'ab' + '6'.repeat(62), data);
    const w = await st.create('pack', { direct: true });
    await w.write(data);
    await w.commit('ab' + '7'.repeat(62));
    assert.ok((await st.get('pack', 'ab' + '7'.repeat(62))).equals(data));
    assert.equal(readdirSync(join(shmRoot, 'tmp')), []);
    console.log(`  tmpfs here ${(st as unknown as { directRefused: boolean }).directRefused ? 'refused O_DIRECT: buffered fallback' : 'accepted O_DIRECT'}`);
    await st.close();
  } finally {
    rmSync(shmRoot, { recursive: true, force: true });
  }
}));

function statfsIsTmpfs(path: string): boolean {
  const TMPFS_MAGIC = 0x01021994;
  return statfsSync(path).type === TMPFS_MAGIC;
}

test.run();
