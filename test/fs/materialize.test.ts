/**
 * lib/fs/materialize.ts on real temporary directories, with a content source of bytes held in
 * memory: a regular file, a sparse file (holes stay holes), a hard-link group, a symlink (never
 * followed where a directory goes), special files, refusal of paths outside the destination,
 * and a failure in the middle of writing (nothing under the real name, no temporary left); a new
 * directory under a temporary name, written inside at final names and renamed into place.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ContentSource, dirCreateMode, type EntryMeta, Materializer } from '../../lib/fs/materialize.js';
import { native, nativeLoadError } from '../../lib/native/load.js';
import { tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const skip = (name: string, why: string) => console.log(`  skip (${name}): ${why}`);
const b = (s: string) => Buffer.from(s);
const t = tempDir('materialize-');
test.after(() => t.cleanup());

let n = 0;
/** A fresh destination directory and a materializer for it. */
function dest(): { root: string; m: Materializer; warnings: string[] } {
  const root = join(t.path, `d${n++}`);
  mkdirSync(root);
  const warnings: string[] = [];
  return { root, m: new Materializer({ root: b(root), owner: false, onWarn: (code, msg) => warnings.push(`${code} ${msg}`) }), warnings };
}

function meta(over: Partial<EntryMeta> = {}): EntryMeta {
  return {
    name: b('x'), type: 'file', mode: 0o100640, uid: 0, gid: 0, size: 0, mtimeNs: 1_600_000_000_000_000_000n,
    atimeNs: 1_600_000_000_000_000_000n, ctimeNs: 0n, dev: 1n, ino: 1n, nlink: 1, rdev: 0, ...over,
  } as EntryMeta;
}

/** Content from a Buffer: `data` is the concatenated data of the extents, written at their offsets. */
function bytes(data: Buffer, extents?: Array<[number, number]>, opts: { failAfter?: number; calls?: number[] } = {}): ContentSource {
  return {
    async fill(fd) {
      opts.calls?.push(1);
      let o = 0;
      for (const [pos, len] of extents ?? [[0, data.length]]) {
        if (opts.failAfter !== undefined && o + len > opts.failAfter) {
          writeSync(fd, data, o, opts.failAfter - o, pos);
          throw new Error('source failed');
        }
        writeSync(fd, data, o, len, pos);
        o += len;
      }
    },
  };
}

test('a regular file: content under the real name, then its metadata', async () => {
  const { root, m } = dest();
  const data = seededBytes(100_000, 1);
  const path = b(join(root, 'f'));
  assert.is(await m.file(path, meta({ size: data.length }), bytes(data)), 'written');
  assert.ok(readFileSync(path).equals(data));
  await m.applyMeta(path, meta({ size: data.length }));
  const st = statSync(path);
  assert.is(st.mode & 0o7777, 0o640);
  assert.is(st.mtimeMs, 1_600_000_000_000);
  assert.equal(readdirSync(root), ['f'], 'no temporary left');
});

test('sparse extents: data at its offsets, holes read as zeros and take no blocks, size from the metadata', async () => {
  const { root, m } = dest();
  const size = 8 << 20, a = seededBytes(4096, 2), c = seededBytes(4096, 3);
  const path = b(join(root, 'sparse'));
  await m.file(path, meta({ size }), bytes(Buffer.concat([a, c]), [[0, 4096], [4 << 20, 4096]]));
  const got = readFileSync(path);
  assert.is(got.length, size, 'truncated to size (a trailing hole)');
  assert.ok(got.subarray(0, 4096).equals(a));
  assert.ok(got.subarray(4 << 20, (4 << 20) + 4096).equals(c));
  assert.ok(got.subarray(4096, 4 << 20).every((x) => x === 0));
  const st = statSync(path);
  assert.ok(st.blocks * 512 < 1 << 20, `holes stay holes (${st.blocks} blocks)`);
});

test('a source that tells the length it wrote: the file is truncated to size exactly when that length differs', async () => {
  const { root, m } = dest();
  const data = seededBytes(4096, 4);
  const told = (length: number): ContentSource => ({ async fill(fd) { writeSync(fd, data, 0, data.length, 0); return length; } });
  // A trailing hole: told 4096 for a file of 1 MiB, extended to its size.
  await m.file(b(join(root, 'short')), meta({ size: 1 << 20 }), told(4096));
  assert.is(statSync(join(root, 'short')).size, 1 << 20);
  // Told the size: left as written (the same bytes either way, without an fstat).
  await m.file(b(join(root, 'exact')), meta({ size: 4096 }), told(4096));
  assert.ok(readFileSync(join(root, 'exact')).equals(data));
});

test('a hard-link group: the first member is written, the others are links to it; a failed first is written again', async () => {
  const { root, m } = dest();
  mkdirSync(join(root, 'sub'));
  const data = seededBytes(5000, 4);
  const calls: number[] = [];
  const group = meta({ size: data.length, nlink: 3, dev: 7n, ino: 42n });
  const paths = [join(root, 'one'), join(root, 'sub', 'two'), join(root, 'three')].map(b);
  const r = await Promise.all(paths.map((p) => m.file(p, group, bytes(data, undefined, { calls }))));
  assert.equal(r, ['written', 'linked', 'linked']);
  assert.is(calls.length, 1, 'the data was written once');
  const ino = statSync(paths[0]).ino;
  for (const p of paths) assert.is(statSync(p).ino, ino);
  assert.is(statSync(paths[0]).nlink, 3);
  // Another group whose first member fails: the next member writes the data itself.
  const other = meta({ size: data.length, nlink: 2, dev: 7n, ino: 43n });
  const bad = m.file(b(join(root, 'bad')), other, bytes(data, undefined, { failAfter: 10 }));
  const good = m.file(b(join(root, 'good')), other, bytes(data));
  assert.is(await bad.then(() => 'ok', (e: Error) => e.message), 'source failed');
  assert.is(await good, 'written');
  assert.ok(readFileSync(join(root, 'good')).equals(data));
  assert.not.ok(existsSync(join(root, 'bad')));
});

test('a symlink is made, and one where a directory goes is replaced, never followed', async () => {
  const { root, m } = dest();
  await m.symlink(b(join(root, 'link')), b('../elsewhere'));
  assert.is(readlinkSync(join(root, 'link')), '../elsewhere');
  // A symlink to a directory outside the destination where the snapshot has a directory.
  const outside = join(t.path, `outside${n}`);
  mkdirSync(outside);
  symlinkSync(outside, join(root, 'dir'));
  assert.is(m.makeDir(b(join(root, 'dir'))), true, 'made anew');
  assert.ok(lstatSync(join(root, 'dir')).isDirectory());
  await m.file(b(join(root, 'dir', 'f')), meta({ size: 3 }), bytes(b('abc')));
  assert.equal(readdirSync(outside), [], 'nothing written through the link');
  assert.is(m.makeDir(b(join(root, 'dir'))), false, 'an existing directory is kept');
  // A symlink replaces a file that was there.
  writeFileSync(join(root, 'was-file'), 'old');
  await m.symlink(b(join(root, 'was-file')), b('target'));
  assert.is(readlinkSync(join(root, 'was-file')), 'target');
});

test('special files: a FIFO; a character device when the process may make one', async () => {
  const { root, m } = dest();
  await m.special(b(join(root, 'fifo')), { type: 'fifo', mode: 0o10644, rdev: 0 });
  assert.ok(lstatSync(join(root, 'fifo')).isFIFO());
  if (!native) return skip('chardev', `native addon not loaded (${nativeLoadError})`);
  const nul = statSync('/dev/null');
  try {
    await m.special(b(join(root, 'null')), { type: 'chardev', mode: 0o20666, rdev: nul.rdev });
  } catch (err) {
    if (process.getuid?.() !== 0 || /EPERM|permission/i.test((err as Error).message)) return skip('chardev', `cannot make device nodes here: ${(err as Error).message}`);
    throw err;
  }
  const st = lstatSync(join(root, 'null'));
  assert.ok(st.isCharacterDevice());
  assert.is(st.rdev, nul.rdev);
});

test('a directory is made private (0700) unless it keeps this user and group: then with its own bits (and u+rwx to fill it)', () => {
  const { root, m } = dest();
  const uid = process.geteuid!(), gid = process.getegid!();
  assert.is(dirCreateMode({ uid, gid, mode: 0o40755 }), 0o755);
  assert.is(dirCreateMode({ uid, gid, mode: 0o42555 }), 0o755, 'no setgid at mkdir; owner can fill it');
  assert.is(dirCreateMode({ uid: uid + 1, gid, mode: 0o40755 }), 0o700, 'another owner: private until chowned');
  assert.is(dirCreateMode({ uid, gid: gid + 1, mode: 0o40770 }), 0o700, 'another group: private until chowned');
  const old = process.umask(0o022);
  try {
    assert.ok(m.makeDir(b(join(root, 'own')), dirCreateMode({ uid, gid, mode: 0o40775 })));
    assert.is(statSync(join(root, 'own')).mode & 0o7777, 0o755, 'less the umask');
    assert.ok(m.makeDir(b(join(root, 'default'))));
    assert.is(statSync(join(root, 'default')).mode & 0o7777, 0o700);
  } finally {
    process.umask(old);
  }
});

test('a path outside the destination is refused before anything is made', async () => {
  const { root, m } = dest();
  const bad = [
    join(root, '..', 'escaped'), `${root}/a/../../escaped`, `${root}/./x`, `${root}//x`, `${root}/x/`,
    `${root}-sibling/x`, root, '/tmp/escaped-materialize', `${root}/..`,
  ];
  for (const p of bad) {
    for (const make of [
      () => m.file(b(p), meta({ size: 1 }), bytes(b('x'))),
      () => m.symlink(b(p), b('t')),
      () => m.special(b(p), { type: 'fifo', mode: 0o10644, rdev: 0 }),
      async () => m.makeDir(b(p)),
    ]) {
      const err = await make().then(() => null, (e: unknown) => e);
      assert.is((err as { code?: string } | null)?.code, 'FS', `${p} refused`);
      assert.match((err as Error).message, /not inside the destination/);
    }
  }
  assert.not.ok(existsSync(join(t.path, 'escaped')));
  assert.not.ok(existsSync('/tmp/escaped-materialize'));
  assert.equal(readdirSync(root), []);
  // Names that only look like '.' or '..' are fine.
  await m.file(b(`${root}/..x`), meta({ size: 1 }), bytes(b('y')));
  await m.file(b(`${root}/.x`), meta({ size: 1 }), bytes(b('y')));
  assert.equal(readdirSync(root).sort(), ['..x', '.x']);
  // '/' as the destination: every absolute path but '/' itself is inside.
  const slash = new Materializer({ root: b('/'), owner: false, onWarn: () => {} });
  assert.is(slash.makeDir(b(root)), false);
  assert.is(await slash.symlink(b('/'), b('x')).then(() => 'made', (e: { code?: string }) => e.code), 'FS');
});

test('a failure in the middle of writing leaves nothing under the real name and no temporary', async () => {
  const { root, m } = dest();
  const data = seededBytes(50_000, 5);
  const path = b(join(root, 'f'));
  const err = await m.file(path, meta({ size: data.length }), bytes(data, undefined, { failAfter: 20_000 })).then(() => null, (e: Error) => e);
  assert.is(err?.message, 'source failed');
  assert.equal(readdirSync(root), [], 'no file, no temporary');
  // A file already under the name stays as it was.
  writeFileSync(path, 'previous');
  await m.file(path, meta({ size: data.length }), bytes(data, undefined, { failAfter: 100 })).catch(() => {});
  assert.is(readFileSync(path, 'utf8'), 'previous');
  assert.equal(readdirSync(root), ['f']);
});

test('a new directory under a temporary name: files at their names inside (metadata on the open file, a failed one removed), hard links followed when it is published', async () => {
  const { root, m } = dest();
  const a = b(join(root, 'a')), c = b(join(root, 'c'));
  const ta = m.makeTempDir(a)!, tc = m.makeTempDir(c)!;
  assert.ok(ta && tc && !ta.equals(a), 'made under a temporary name');
  const data = seededBytes(30_000, 6);
  const f = meta({ size: data.length, mode: 0o100604, mtimeNs: 1_600_000_000_123_456_789n });
  assert.is(await m.file(Buffer.concat([ta, b('/f')]), f, bytes(data), undefined, { fresh: true, meta: true }), 'written');
  const st = statSync(join(ta.toString(), 'f'), { bigint: true });
  assert.is(Number(st.mode & 0o7777n), 0o604, 'mode set on the open file');
  if (native) assert.is(st.mtimeNs, 1_600_000_000_123_456_789n, 'times to the ns on the open file');
  // A failure: nothing left at the name, inside a directory that will become real.
  const bad = await m.file(Buffer.concat([ta, b('/bad')]), f, bytes(data, undefined, { failAfter: 100 }), undefined, { fresh: true }).catch((e: Error) => e.message);
  assert.is(bad, 'source failed');
  assert.equal(readdirSync(ta.toString()), ['f']);
  // A hard-link group's first member inside `a`; `a` is published before the next member.
  const group = meta({ size: data.length, nlink: 2, dev: 9n, ino: 9n });
  await m.file(Buffer.concat([ta, b('/h1')]), group, bytes(data), undefined, { fresh: true, meta: true });
  m.publishDir(ta, a);
  assert.is(m.makeTempDir(a), null, 'something is at the final name now');
  assert.is(await m.file(Buffer.concat([tc, b('/h2')]), group, bytes(data), undefined, { fresh: true }), 'linked');
  m.publishDir(tc, c);
  assert.equal(readdirSync(root).sort(), ['a', 'c']);
  assert.is(statSync(join(root, 'c', 'h2')).ino, statSync(join(root, 'a', 'h1')).ino);
  // Never onto something another process put there meanwhile.
  const e = b(join(root, 'e'));
  const te = m.makeTempDir(e)!;
  mkdirSync(join(root, 'e'));
  assert.throws(() => m.publishDir(te, e), /cannot move .* into place as .*\/e/);
  assert.ok(existsSync(te.toString()), 'left under its temporary name');
});

test.run();
