// captureMeta: each entry type, hard links, raw names, xattrs (native) and the fallback warning.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '../../lib/errors/index.js';
import { native, nativeLoadError } from '../../lib/native/load.js';
import type { Warn } from '../../lib/errors/index.js';
import { captureMeta, entryTypeOf, joinPath, listDir } from '../../lib/fs/index.js';

let dir = '';
let d = Buffer.alloc(0);
const skip = (name: string, why: string) => console.log(`  skip (${name}): ${why}`);
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const cap = (name: string | Buffer, xattrs = false, onWarn?: Warn) => {
  const n = typeof name === 'string' ? Buffer.from(name) : name;
  return captureMeta(joinPath(d, n), n, { xattrs, onWarn });
};

test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-capture-')); d = Buffer.from(dir); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

test('regular file: type, mode, size, ns times, identity', async () => {
  writeFileSync(join(dir, 'f'), 'hello');
  chmodSync(join(dir, 'f'), 0o4751);
  const m = await cap('f');
  assert.is(m.type, 'file');
  assert.ok(m.name.equals(Buffer.from('f')));
  assert.is(m.mode, 0o4751);
  assert.is(m.size, 5);
  assert.is(m.nlink, 1);
  assert.is(m.uid, process.getuid!());
  assert.is(typeof m.mtimeNs, 'bigint');
  assert.ok(m.mtimeNs > 1_500_000_000_000_000_000n, 'mtime in ns');
  assert.is(typeof m.ino, 'bigint');
  assert.is(m.rdev, 0);
  assert.is(m.linkTarget, undefined);
  assert.is(m.xattrs, undefined);
});

test('directory', async () => {
  mkdirSync(join(dir, 'sub'), { mode: 0o1777 });
  chmodSync(join(dir, 'sub'), 0o1777);
  const m = await cap('sub');
  assert.is(m.type, 'dir');
  assert.is(m.mode, 0o1777);
  assert.is(m.size, 0);
});

test('symlink: not followed, target bytes, size is target length', async () => {
  const target = Buffer.from([0x2e, 0x2f, 0x6e, 0xfe]); // './n\xfe', dangling, not UTF-8
  symlinkSync(target, joinPath(d, Buffer.from('ln')));
  const m = await cap('ln');
  assert.is(m.type, 'symlink');
  assert.ok(m.linkTarget!.equals(target));
  assert.is(m.size, 4);
});

test('fifo made by mkfifo', async () => {
  if (!has('mkfifo')) return skip('fifo', 'mkfifo not installed');
  assert.is(spawnSync('mkfifo', [join(dir, 'p')]).status, 0);
  const m = await cap('p');
  assert.is(m.type, 'fifo');
  assert.is(m.size, 0);
});

test('socket', async () => {
  const server = createServer();
  await new Promise<void>((res) => server.listen(join(dir, 'sock'), res));
  try {
    const m = await cap('sock');
    assert.is(m.type, 'socket');
  } finally {
    await new Promise<void>((res) => server.close(() => res()));
  }
});

test('character device (/dev/null)', async () => {
  const m = await captureMeta(Buffer.from('/dev/null'), Buffer.from('null'), { xattrs: false });
  assert.is(m.type, 'chardev');
  assert.is(m.rdev, (1 << 8) | 3); // major 1, minor 3 in the old-style encoding
});

test('hard-linked pair: same dev and ino, nlink 2', async () => {
  writeFileSync(join(dir, 'h1'), 'x');
  linkSync(join(dir, 'h1'), join(dir, 'h2'));
  const [a, b] = await Promise.all([cap('h1'), cap('h2')]);
  assert.is(a.ino, b.ino);
  assert.is(a.dev, b.dev);
  assert.is(a.nlink, 2);
  assert.is(b.nlink, 2);
});

test('non-UTF-8 name round trip through listDir and captureMeta', async () => {
  const sub = joinPath(d, Buffer.from('raw'));
  mkdirSync(sub);
  const name = Buffer.from([0x66, 0xff, 0x6f]);
  writeFileSync(joinPath(sub, name), 'data');
  const names = await listDir(sub);
  assert.is(names.length, 1);
  assert.ok(names[0].equals(name));
  const m = await captureMeta(joinPath(sub, names[0]), names[0], { xattrs: false });
  assert.ok(m.name.equals(name));
  assert.is(m.size, 4);
});

test('missing entry: NotFoundError naming the path', async () => {
  try {
    await cap('gone');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, NotFoundError);
    assert.match((e as Error).message, 'gone');
  }
});

test('xattrs: captured sorted with native; none and one warning without', async () => {
  writeFileSync(join(dir, 'x'), '');
  if (!has('setfattr')) return skip('xattrs', 'setfattr (attr) not installed');
  const set = (n: string, v: string) => spawnSync('setfattr', ['-n', n, '-v', v, join(dir, 'x')], { encoding: 'utf8' });
  const r = set('user.zeta', 'z');
  if (r.status !== 0) return skip('xattrs', `setfattr failed (no user xattrs here?): ${r.stderr.trim()}`);
  set('user.alpha', '0x00ff01');
  const warnings: string[] = [];
  const onWarn: Warn = (code) => warnings.push(code);
  const none = await cap('x', false, onWarn);
  assert.is(none.xattrs, undefined, 'xattrs: false captures none');
  const m = await cap('x', true, onWarn);
  if (!native) {
    assert.is(m.xattrs, undefined);
    await cap('x', true, onWarn);
    assert.equal(warnings, ['NATIVE_FALLBACK'], 'warned once');
    return skip('xattrs values', `native addon not loaded (${nativeLoadError})`);
  }
  assert.equal(warnings, []);
  assert.equal(m.xattrs!.map(([n]) => n), ['user.alpha', 'user.zeta']);
  assert.ok(m.xattrs![0][1].equals(Buffer.from([0x00, 0xff, 0x01])));
  assert.ok(m.xattrs![1][1].equals(Buffer.from('z')));
  // A file without xattrs has none, not an empty list.
  writeFileSync(join(dir, 'plain'), '');
  assert.is((await cap('plain', true, onWarn)).xattrs, undefined);
});

test('entryTypeOf rejects unknown types', () => {
  assert.is(entryTypeOf(0o100644), 'file');
  assert.is(entryTypeOf(0o160000), null);
});

test.run();
