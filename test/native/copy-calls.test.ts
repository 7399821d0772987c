// The addon's copy calls on real file systems: FICLONE and FICLONERANGE (loop-mounted XFS),
// copy_file_range with offsets (sync and async; EXDEV across file systems), sendfile at offsets
// (across file systems), fallocate's three
// modes, statx against Node's own stat, renameat2 RENAME_NOREPLACE; each with its errors shaped
// like Node's (code, errno, syscall, path). Skips with the reason without the addon or root.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { native, nativeLoadError, type NativeBinding } from '../../lib/native/load.js';
import { mountTestFs, type TestFs } from '../helpers/loop-fs.js';

let dir = '';
let xfs: TestFs | { skip: string } = { skip: 'not mounted' };
let tmpfs: TestFs | { skip: string } = { skip: 'not mounted' };
test.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foxing-copy-calls-'));
  if (native) { xfs = mountTestFs('xfs'); tmpfs = mountTestFs('tmpfs'); }
});
test.after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  if (!('skip' in xfs)) xfs.cleanup();
  if (!('skip' in tmpfs)) tmpfs.cleanup();
});

function need(label: string): NativeBinding | null {
  if (native === null) console.log(`  skip ${label}: addon not loaded (${nativeLoadError})`);
  return native;
}

function mounted(label: string, m: TestFs | { skip: string }): TestFs | null {
  if ('skip' in m) { console.log(`  skip ${label}: ${m.skip}`); return null; }
  return m;
}

function errorOf(fn: () => unknown): NodeJS.ErrnoException {
  try { fn(); } catch (e) { return e as NodeJS.ErrnoException; }
  throw new Error('expected an error');
}

async function rejectionOf(p: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  try { await p; } catch (e) { return e as NodeJS.ErrnoException; }
  throw new Error('expected a rejection');
}

/** Runs fn with the two files open (src read-only, dst created empty for writing). */
function withFiles<T>(src: string, dst: string, fn: (s: number, d: number) => T): T {
  const s = fs.openSync(src, 'r');
  const d = fs.openSync(dst, 'w+');
  try { return fn(s, d); } finally { fs.closeSync(s); fs.closeSync(d); }
}

/** How many extents of `file` filefrag marks shared (reflinked). */
function sharedExtents(file: string): number {
  const r = spawnSync('filefrag', ['-v', file], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => /\bshared\b/.test(l)).length;
}

test('ficlone: the clone has the content and shares the extents (XFS); EOPNOTSUPP on ext4; EBADF', () => {
  const n = need('ficlone'); if (!n) return;
  const data = randomBytes(3 << 20);
  const ext = path.join(dir, 'a');
  fs.writeFileSync(ext, data);
  const e = errorOf(() => withFiles(ext, path.join(dir, 'a.clone'), (s, d) => n.ficlone(d, s)));
  assert.is(e.code, 'ENOTSUP');
  assert.is(e.syscall, 'ioctl FICLONE');
  assert.is(e.errno, -95);
  assert.match(e.message, /^ENOTSUP: .*, ioctl FICLONE$/);
  assert.is(errorOf(() => n.ficlone(999999, 999998)).code, 'EBADF');
  assert.throws(() => n.ficlone(-1, 0), /out of range/);
  const x = mounted('ficlone on XFS', xfs); if (!x) return;
  const src = path.join(x.mountPoint, 'a');
  fs.writeFileSync(src, data);
  withFiles(src, path.join(x.mountPoint, 'a.clone'), (s, d) => n.ficlone(d, s));
  assert.ok(fs.readFileSync(path.join(x.mountPoint, 'a.clone')).equals(data));
  assert.ok(sharedExtents(path.join(x.mountPoint, 'a.clone')) > 0, 'filefrag shows shared extents');
  // Across file systems: EXDEV.
  assert.is(errorOf(() => withFiles(ext, path.join(x.mountPoint, 'b'), (s, d) => n.ficlone(d, s))).code, 'EXDEV');
});

test('ficloneAsync resolves on XFS and rejects with a Node-shaped error on ext4', async () => {
  const n = need('ficloneAsync'); if (!n) return;
  const ext = path.join(dir, 'c');
  fs.writeFileSync(ext, randomBytes(10000));
  const s = fs.openSync(ext, 'r');
  const d = fs.openSync(path.join(dir, 'c.clone'), 'w+');
  try {
    const e = await rejectionOf(n.ficloneAsync(d, s));
    assert.is(e.code, 'ENOTSUP');
    assert.is(e.syscall, 'ioctl FICLONE');
  } finally { fs.closeSync(s); fs.closeSync(d); }
  const x = mounted('ficloneAsync on XFS', xfs); if (!x) return;
  const data = randomBytes(200000);
  fs.writeFileSync(path.join(x.mountPoint, 'c'), data);
  const s2 = fs.openSync(path.join(x.mountPoint, 'c'), 'r');
  const d2 = fs.openSync(path.join(x.mountPoint, 'c.clone'), 'w+');
  try { await n.ficloneAsync(d2, s2); } finally { fs.closeSync(s2); fs.closeSync(d2); }
  assert.ok(fs.readFileSync(path.join(x.mountPoint, 'c.clone')).equals(data));
});

test('ficloneRange: an aligned range lands at its offset; a misaligned one is EINVAL (XFS)', () => {
  const n = need('ficloneRange'); if (!n) return;
  const x = mounted('ficloneRange on XFS', xfs); if (!x) return;
  const data = randomBytes(64 << 10);
  const src = path.join(x.mountPoint, 'r');
  fs.writeFileSync(src, data);
  const dst = path.join(x.mountPoint, 'r.part');
  withFiles(src, dst, (s, d) => {
    n.ficloneRange(s, 8192, 16384, d, 4096);
    const e = errorOf(() => n.ficloneRange(s, 100, 4096, d, 0));
    assert.is(e.code, 'EINVAL');
    assert.is(e.syscall, 'ioctl FICLONERANGE');
  });
  const got = fs.readFileSync(dst);
  assert.is(got.length, 4096 + 16384);
  assert.ok(got.subarray(0, 4096).equals(Buffer.alloc(4096)), 'before the range: a hole');
  assert.ok(got.subarray(4096).equals(data.subarray(8192, 8192 + 16384)));
});

test('copyFileRange: explicit offsets, positions untouched, 0 at the end, EXDEV across file systems, EBADF', () => {
  const n = need('copyFileRange'); if (!n) return;
  const data = randomBytes(300000);
  const src = path.join(dir, 'cfr');
  fs.writeFileSync(src, data);
  const dst = path.join(dir, 'cfr.out');
  withFiles(src, dst, (s, d) => {
    assert.is(n.copyFileRange(s, 1000, d, 5000, 20000), 20000);
    assert.is(n.copyFileRange(s, data.length, d, 0, 10), 0, '0 at the source end');
    assert.is(n.copyFileRange(s, data.length - 7, d, 30000, 100), 7, 'short count at the end');
    // The fds' positions did not move: a plain read starts at 0.
    const b = Buffer.alloc(4);
    assert.is(fs.readSync(s, b, 0, 4, null), 4);
    assert.ok(b.equals(data.subarray(0, 4)));
    assert.is(errorOf(() => n.copyFileRange(s, 0, 999999, 0, 10)).code, 'EBADF');
    assert.throws(() => n.copyFileRange(s, -1, d, 0, 10), /must be >= 0/);
  });
  const got = fs.readFileSync(dst);
  assert.ok(got.subarray(5000, 25000).equals(data.subarray(1000, 21000)));
  assert.ok(got.subarray(30000, 30007).equals(data.subarray(data.length - 7)));
  const t = mounted('copyFileRange across file systems', tmpfs); if (!t) return;
  const e = errorOf(() => withFiles(src, path.join(t.mountPoint, 'x'), (s, d) => n.copyFileRange(s, 0, d, 0, 10)));
  assert.is(e.code, 'EXDEV');
  assert.is(e.syscall, 'copy_file_range');
});

test('copyFileRangeAsync copies on the thread pool and rejects like the sync call', async () => {
  const n = need('copyFileRangeAsync'); if (!n) return;
  const data = randomBytes(2 << 20);
  const src = path.join(dir, 'acfr');
  fs.writeFileSync(src, data);
  const s = fs.openSync(src, 'r');
  const d = fs.openSync(path.join(dir, 'acfr.out'), 'w+');
  try {
    let at = 0;
    while (at < data.length) at += await n.copyFileRangeAsync(s, at, d, at, data.length - at);
    assert.ok(fs.readFileSync(path.join(dir, 'acfr.out')).equals(data));
    const e = await rejectionOf(n.copyFileRangeAsync(s, 0, 999999, 0, 1));
    assert.is(e.code, 'EBADF');
    assert.is(e.syscall, 'copy_file_range');
  } finally { fs.closeSync(s); fs.closeSync(d); }
});

test('sendFile: at explicit offsets, across file systems, sync and async; 0 at the end; EBADF', async () => {
  const n = need('sendFile'); if (!n) return;
  const data = randomBytes(300000);
  const src = path.join(dir, 'sf');
  fs.writeFileSync(src, data);
  const t = mounted('sendFile across file systems', tmpfs);
  const dst = path.join(t ? t.mountPoint : dir, 'sf.out');
  const s = fs.openSync(src, 'r');
  const d = fs.openSync(dst, 'w+');
  try {
    assert.is(n.sendFile(s, 1000, d, 5000, 20000), 20000);
    assert.is(await n.sendFileAsync(s, 100000, d, 50000, 10000), 10000);
    assert.is(n.sendFile(s, data.length, d, 0, 10), 0, '0 at the source end');
    const b = Buffer.alloc(4);
    assert.is(fs.readSync(s, b, 0, 4, null), 4, 'the source position is untouched');
    assert.ok(b.equals(data.subarray(0, 4)));
    const e = errorOf(() => n.sendFile(s, 0, 999999, 0, 10));
    assert.is(e.code, 'EBADF');
    assert.is((await rejectionOf(n.sendFileAsync(999999, 0, d, 0, 10))).syscall, 'sendfile');
  } finally { fs.closeSync(s); fs.closeSync(d); }
  const got = fs.readFileSync(dst);
  assert.is(got.length, 60000);
  assert.ok(got.subarray(0, 5000).equals(Buffer.alloc(5000)));
  assert.ok(got.subarray(5000, 25000).equals(data.subarray(1000, 21000)));
  assert.ok(got.subarray(50000, 60000).equals(data.subarray(100000, 110000)));
});

test('fallocate: allocate grows the size, keep-size does not, punch-hole frees blocks and reads zeros', () => {
  const n = need('fallocate'); if (!n) return;
  const f = path.join(dir, 'fa');
  const fd = fs.openSync(f, 'w+');
  try {
    n.fallocate(fd, 'keep-size', 0, 1 << 20);
    let st = fs.fstatSync(fd);
    assert.is(st.size, 0);
    assert.ok(st.blocks * 512 >= 1 << 20, `keep-size reserved ${st.blocks} blocks`);
    n.fallocate(fd, 'allocate', 0, 2 << 20);
    assert.is(fs.fstatSync(fd).size, 2 << 20);
    fs.writeSync(fd, Buffer.alloc(2 << 20, 0xab), 0, 2 << 20, 0);
    fs.fsyncSync(fd);
    const before = fs.fstatSync(fd).blocks;
    n.fallocate(fd, 'punch-hole', 1 << 20, 512 << 10);
    st = fs.fstatSync(fd);
    assert.is(st.size, 2 << 20, 'size kept');
    assert.is(before - st.blocks, (512 << 10) / 512, 'the punched range is freed');
    const b = Buffer.alloc(512 << 10);
    fs.readSync(fd, b, 0, b.length, 1 << 20);
    assert.ok(b.equals(Buffer.alloc(512 << 10)));
    assert.is(n.seekHole(fd, 0), 1 << 20, 'the hole is seen by SEEK_HOLE');
    assert.throws(() => (n.fallocate as (...a: unknown[]) => void)(fd, 'zero', 0, 1), /must be 'allocate'/);
    assert.is(errorOf(() => n.fallocate(fd, 'allocate', 0, 0)).code, 'EINVAL');
  } finally { fs.closeSync(fd); }
  const e = errorOf(() => n.fallocate(999999, 'allocate', 0, 1));
  assert.is(e.code, 'EBADF');
  assert.is(e.syscall, 'fallocate');
});

test('statx agrees with Node\'s bigint stat, by path and by fd; follows symlinks only when asked; ENOENT names the path', () => {
  const n = need('statx'); if (!n) return;
  const f = path.join(dir, 'sx');
  fs.writeFileSync(f, 'statx');
  fs.symlinkSync(f, path.join(dir, 'sx.link'));
  const st = fs.statSync(f, { bigint: true });
  const sx = n.statx(Buffer.from(f));
  assert.is(sx.dev, st.dev);
  assert.is(sx.ino, st.ino);
  assert.is(sx.size, 5);
  assert.is(sx.mode, Number(st.mode));
  assert.is(sx.nlink, 1);
  assert.is(sx.mtimeNs, st.mtimeNs);
  assert.is(sx.ctimeNs, st.ctimeNs);
  assert.is(sx.blocks, Number(st.blocks));
  assert.is(typeof sx.mntId, 'bigint', 'mount id (Linux >= 5.8)');
  if (sx.btimeNs !== null) assert.is(sx.btimeNs, st.birthtimeNs);
  const fd = fs.openSync(f, 'r');
  try { assert.is(n.statx(fd).ino, st.ino); } finally { fs.closeSync(fd); }
  const link = n.statx(path.join(dir, 'sx.link'));
  assert.is(link.mode & 0o170000, 0o120000, 'the link itself');
  assert.is(n.statx(path.join(dir, 'sx.link'), true).ino, st.ino, 'followed');
  const e = errorOf(() => n.statx(path.join(dir, 'missing')));
  assert.is(e.code, 'ENOENT');
  assert.is(e.syscall, 'statx');
  assert.is(e.path, path.join(dir, 'missing'));
  const x = mounted('statx on XFS (btime)', xfs); if (!x) return;
  fs.writeFileSync(path.join(x.mountPoint, 'b'), '');
  const bx = n.statx(path.join(x.mountPoint, 'b'));
  assert.is(typeof bx.btimeNs, 'bigint', 'XFS records birth times');
  assert.is(bx.devMajor, 7, 'a loop device (major 7)');
});

test('renameNoReplace: renames; refuses with EEXIST leaving both names; ENOENT', () => {
  const n = need('renameNoReplace'); if (!n) return;
  const a = path.join(dir, 'rn-a');
  const b = path.join(dir, 'rn-b');
  fs.writeFileSync(a, 'A');
  n.renameNoReplace(Buffer.from(a), Buffer.from(b));
  assert.not.ok(fs.existsSync(a));
  assert.is(fs.readFileSync(b, 'utf8'), 'A');
  fs.writeFileSync(a, 'A2');
  const e = errorOf(() => n.renameNoReplace(a, b));
  assert.is(e.code, 'EEXIST');
  assert.is(e.syscall, 'renameat2');
  assert.is(e.path, a);
  assert.is((e as { dest?: string }).dest, b);
  assert.match(e.message, /-> '.*rn-b'/);
  assert.is(fs.readFileSync(a, 'utf8'), 'A2');
  assert.is(fs.readFileSync(b, 'utf8'), 'A');
  assert.is(errorOf(() => n.renameNoReplace(path.join(dir, 'none'), path.join(dir, 'none2'))).code, 'ENOENT');
});

test.run();
