// scanDirSync: the native one-call scan gives exactly the entries and metadata of readdir +
// captureMetaSync (the fallback), errors per entry, and a clear error for the directory itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '../../lib/errors/index.js';
import { captureMetaSync, errnoOf, joinPath, listDirSync, scanDir, scanDirSync } from '../../lib/fs/index.js';
import { native } from '../../lib/native/load.js';
import { isRoot } from '../helpers/run-cli.js';

let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-scandir-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

test('same names, order and metadata as readdir + lstat, for every entry type', () => {
  const d = Buffer.from(join(dir, 'mix'));
  mkdirSync(d);
  const names = ['b', 'B', 'a', 'é', 'sub', 'link', 'long-'.repeat(40)].map((n) => Buffer.from(n));
  names.push(Buffer.from([0x66, 0xff, 0x6f]));
  for (const n of names) {
    const p = joinPath(d, n);
    if (n.toString() === 'sub') mkdirSync(p, 0o750);
    else if (n.toString() === 'link') symlinkSync('target/that/is/long', p);
    else writeFileSync(p, n);
  }
  // Many entries: more than one getdents64 buffer.
  for (let i = 0; i < 1500; i++) writeFileSync(joinPath(d, Buffer.from(`many-${i}`)), '');
  const scanned = scanDirSync(d, { xattrs: false });
  const want = listDirSync(d);
  assert.is(scanned.length, want.length);
  scanned.forEach((s, i) => {
    assert.ok(s.name.equals(want[i]!), `entry ${i}`);
    assert.ok(s.path.equals(joinPath(d, want[i]!)));
    const again = captureMetaSync(s.path, want[i]!, { xattrs: false });
    // Reading a symlink's target may update its atime: compare what the second read did not change.
    if (again.type === 'symlink') again.atimeNs = s.meta!.atimeNs;
    assert.equal({ ...s.meta, name: s.meta!.name.toString('hex') }, { ...again, name: again.name.toString('hex') }, `meta of ${s.name.toString()}`);
  });
  const link = scanned.find((s) => s.name.toString() === 'link')!;
  assert.is(link.meta!.type, 'symlink');
  assert.is(link.meta!.linkTarget!.toString(), 'target/that/is/long');
  if (!native) console.log('  (no native addon: this compared the fallback with itself)');
});

// The native scan fills arrays reused from call to call, grown when a directory does not fit
// (by entry count or by the names' total length): nothing of a larger earlier directory may
// show through in a smaller later one.
test('directories larger and smaller than the last one scan exactly', () => {
  const make = (name: string, count: number, nameLength: number) => {
    const d = Buffer.from(join(dir, name));
    mkdirSync(d);
    for (let i = 0; i < count; i++) writeFileSync(joinPath(d, Buffer.from(String(i).padStart(nameLength, 'n'))), String(i));
    return d;
  };
  const longNames = make('long-names', 120, 250); // 30 KB of names, few entries
  const small = make('small', 3, 4);
  const many = make('many', 700, 8);
  for (const d of [small, longNames, small, many, small, longNames]) {
    const scanned = scanDirSync(d, { xattrs: false });
    const want = listDirSync(d);
    assert.is(scanned.length, want.length);
    scanned.forEach((s, i) => {
      assert.ok(s.name.equals(want[i]!), `${d}: entry ${i}`);
      assert.is(s.meta!.size, String(Number(want[i]!.toString().replace(/^n+/, '') || 0)).length);
    });
  }
});

test('xattrs are captured when asked', () => {
  if (!native) { console.log('  skipped: no native addon (no xattrs)'); return; }
  const d = Buffer.from(join(dir, 'x'));
  mkdirSync(d);
  const f = joinPath(d, Buffer.from('f'));
  writeFileSync(f, 'x');
  try { native.xattrSet(f, 'user.fx', Buffer.from('v')); } catch (e) { console.log(`  skipped: ${(e as Error).message}`); return; }
  const [s] = scanDirSync(d, { xattrs: true });
  assert.equal(s!.meta!.xattrs, [['user.fx', Buffer.from('v')]]);
  assert.is(scanDirSync(d, { xattrs: false })[0]!.meta!.xattrs, undefined);
  // Asked for, the scan sizes each entry's xattr name list (a snapshot with no parent skips
  // reading the xattrs of entries that have none); otherwise it says it does not know.
  writeFileSync(joinPath(d, Buffer.from('g')), 'y');
  symlinkSync('f', joinPath(d, Buffer.from('l')));
  const sized = scanDir(d, true);
  assert.equal([0, 1, 2].map((i) => sized.name(i).toString()), ['f', 'g', 'l']);
  assert.is(sized.xattrBytes(0), Buffer.byteLength('user.fx\0'));
  assert.is(sized.xattrBytes(1), 0);
  assert.is(sized.xattrBytes(2), 0);
  assert.is(scanDir(d).xattrBytes(0), -1);
});

test('a missing directory is a NotFoundError naming it; an unreadable one an error naming it', () => {
  try {
    scanDirSync(Buffer.from(join(dir, 'nope')), { xattrs: false });
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, NotFoundError);
    assert.is(errnoOf(e), 'ENOENT');
    assert.match((e as Error).message, 'nope');
  }
  const file = join(dir, 'plain');
  writeFileSync(file, '');
  assert.throws(() => scanDirSync(Buffer.from(file), { xattrs: false }), (e: unknown) => errnoOf(e) === 'ENOTDIR');
  if (isRoot) { console.log('  (root: the permission case is not testable)'); return; }
  const locked = join(dir, 'locked');
  mkdirSync(locked, 0o000);
  try {
    assert.throws(() => scanDirSync(Buffer.from(locked), { xattrs: false }), (e: unknown) => errnoOf(e) === 'EACCES' && String(e).includes('locked'));
  } finally { chmodSync(locked, 0o700); }
});

test('an entry that cannot be stat\'ed comes back with its error; the others still come back', () => {
  // A directory its reader may list (r) but not search (no x): every lstat fails with EACCES.
  // Root passes permission checks, so as root the scan runs in a child that drops to nobody.
  const d = join(dir, 'noexec');
  mkdirSync(d);
  writeFileSync(join(d, 'a'), '');
  writeFileSync(join(d, 'b'), '');
  chmodSync(d, 0o704);
  chmodSync(dir, 0o711);
  try {
    const script = `
      ${isRoot ? 'process.setgid(65534); process.setuid(65534);' : ''}
      const { scanDirSync, errnoOf } = await import(${JSON.stringify(new URL('../../lib/fs/index.js', import.meta.url).href)});
      const r = scanDirSync(Buffer.from(${JSON.stringify(d)}), { xattrs: false });
      console.log(JSON.stringify(r.map((s) => [s.name.toString(), s.meta === undefined, errnoOf(s.error), String(s.error)])));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as Array<[string, boolean, string, string]>;
    assert.equal(got.map((g) => g.slice(0, 3)), [['a', true, 'EACCES'], ['b', true, 'EACCES']]);
    for (const g of got) assert.match(g[3], join(d, g[0]));
  } finally {
    chmodSync(d, 0o700);
    chmodSync(dir, 0o700);
  }
});

test.run();
