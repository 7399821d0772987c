// FsStorage's own behaviour: the directory layout, O_DIRECT writes. The BlobStorage contract it
// shares with every backend is test/conformance/blob-storage.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { constants, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsStorage } from '../../lib/store/fs-storage.js';
import { alignedBuffer, DIRECT_ALIGN, directOpenFlag } from '../../lib/fs/direct-io.js';
import { isMissing, rejects } from '../helpers/blob-asserts.js';


let root = '';
test.before(() => { root = mkdtempSync(join(tmpdir(), 'fx-fsstorage-layout-')); });
test.after(() => { rmSync(root, { recursive: true, force: true }); });

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

test('FsStorage writes packs buffered with directPacks: false (the CLI\'s FOXING_DIRECT_PACKS=0), and workers get that in its descriptor', async () => {
  const st = new FsStorage(root, { directPacks: false });
  assert.equal(st.descriptor, { kind: 'dir', root, directPacks: false });
  const w = await st.create('pack', { direct: true });
  const tmp = join(root, 'tmp', readdirSync(join(root, 'tmp'))[0]!);
  assert.equal(openFlags(tmp).map((f) => f & (constants.O_DIRECT ?? 0)), [0]);
  await w.abort();
  await st.close();
});

// Writes may overlap: each takes its place when called, whatever order they complete in.
test('FsStorage blob writes in flight together land in call order', async () => {
  const st = new FsStorage(root);
  const w = await st.create('pack', { direct: true });
  const parts = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => alignedBuffer(DIRECT_ALIGN * (i % 3 + 1)).fill(i));
  const tail = Buffer.from('unaligned tail');
  await Promise.all([...parts.map((p) => w.write(p)), w.write(tail)]);
  const name = 'ef' + '8'.repeat(62);
  await w.commit(name);
  assert.ok(readFileSync(join(root, 'packs', 'ef', `${name}.pack`)).equals(Buffer.concat([...parts, tail])));
  await st.close();
});

test('FsStorage direct pack writes: O_DIRECT descriptor on the temporary file, read-only after commit', async () => {
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
});

// Before Linux 6.6 tmpfs refuses O_DIRECT at open (the buffered fallback); later kernels accept it.
test('FsStorage direct pack writes on tmpfs: direct or buffered, the bytes are the same', async () => {
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
});

function statfsIsTmpfs(path: string): boolean {
  const TMPFS_MAGIC = 0x01021994;
  return statfsSync(path).type === TMPFS_MAGIC;
}

test.run();
