// scanDirSync: the native one-call scan gives exactly the entries and metadata of readdir +
// captureMetaSync (the fallback), errors per entry, and a clear error for the directory itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '../../lib/errors/index.js';
import { captureMetaSync, errnoOf, joinPath, listDirSync, newScanWalk, scanDir, scanDirSync, type ScannedDir, type ScanWalk } from '../../lib/fs/index.js';
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

// Scanning ahead (native/src/scan_ahead.cc): a walk that passes its number gets its listings
// from the addon's thread when that thread got there first.

/** Every field of every entry of a scan but the atime (listing a directory may set its own). */
function scanView(s: ScannedDir): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < s.count; i++) {
    out.push([s.name(i).toString('hex'), s.type(i), s.mode(i), s.rawSize(i), s.nlink(i), String(s.ino(i)), Buffer.from(s.timeBytes.subarray(i * 40 + 8, i * 40 + 24)).toString('hex')]);
  }
  return out;
}

function makeTree(root: string, depth: number, fanout: number): void {
  mkdirSync(root, { recursive: true });
  for (let i = 0; i < fanout; i++) {
    writeFileSync(join(root, `f${i}`), 'x'.repeat(i));
    if (depth > 0) makeTree(join(root, `d${i}`), depth - 1, fanout);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Walks the tree at `d` depth first with `walk`, checking each listing against a plain scan; returns the directories seen. */
function walkChecked(d: Buffer, walk: ScanWalk): number {
  const got = scanDir(d, false, walk);
  assert.equal(scanView(got), scanView(scanDir(d)), d.toString());
  let dirs = 1;
  for (let i = 0; i < got.count; i++) if (got.type(i) === 'dir') dirs += walkChecked(got.entryPath(i), walk);
  return dirs;
}

test('a walk scanning ahead sees exactly what plain scans see, in every directory', () => {
  const root = join(dir, 'ahead-tree');
  makeTree(root, 3, 4);
  assert.is(walkChecked(Buffer.from(root), newScanWalk()), 1 + 4 + 16 + 64);
});

test('a listing made ahead is handed only to its own walk, and only while fresh', async () => {
  if (!native) { console.log('  skipped: no native addon (no scanning ahead)'); return; }
  const root = join(dir, 'ahead-fresh');
  const child = join(root, 'c');
  mkdirSync(child, { recursive: true });
  // Taking the root queues c; once the thread has scanned it, a file added to c is missing
  // from c's listing for that walk (which shows the thread really ran), and present for a new
  // walk and for a plain scan. The thread runs when it gets a core: try a few times.
  let seenAhead = false;
  for (let k = 0; k < 20 && !seenAhead; k++) {
    const walk = newScanWalk();
    scanDir(Buffer.from(root), false, walk);
    await sleep(20 + 10 * k);
    const name = `late-${k}`;
    writeFileSync(join(child, name), '');
    const has = (s: ScannedDir) => Array.from({ length: s.count }, (_, i) => s.name(i).toString()).includes(name);
    seenAhead = !has(scanDir(Buffer.from(child), false, walk));
    assert.ok(has(scanDir(Buffer.from(child), false, newScanWalk())), 'a new walk sees the new file');
    assert.ok(has(scanDir(Buffer.from(child))), 'a plain scan sees the new file');
  }
  assert.ok(seenAhead, 'the scan-ahead thread never ran ahead of the walk');
  // Older than a second: dropped, the walk scans again.
  const walk = newScanWalk();
  scanDir(Buffer.from(root), false, walk);
  await sleep(1200);
  writeFileSync(join(child, 'stale-check'), '');
  const again = scanDir(Buffer.from(child), false, walk);
  assert.ok(Array.from({ length: again.count }, (_, i) => again.name(i).toString()).includes('stale-check'));
});

// Walks started ahead (native scanAhead, fxcp's launcher): the walker that begins at the same
// root with the same option takes one over, once, within a second, and sees what it saw.
test('a walk started ahead is taken over by the walker of its root and options, once, and lists what plain scans list', async () => {
  if (!native) { console.log('  skipped: no native addon (no scanning ahead)'); return; }
  const root = join(dir, 'started-ahead');
  makeTree(root, 2, 4);
  const r = Buffer.from(root);
  const started = native.scanAhead(r, false);
  assert.ok(started >= 0x80000000, `a number of its own: ${started}`);
  assert.is(newScanWalk(Buffer.from(join(root, 'd0')), false).id < 0x80000000, true, 'another root: a walk of its own');
  assert.is(newScanWalk(r, true).id < 0x80000000, true, 'other options: a walk of its own');
  const walk = newScanWalk(r, false);
  assert.is(walk.id, started);
  assert.is(newScanWalk(r, false).id < 0x80000000, true, 'taken over once only');
  // What it hands over (made while the test slept, as a rule) is what plain scans see.
  await sleep(50);
  assert.is(walkChecked(r, walk), 1 + 4 + 16);
});

test('a walk started ahead and left unclaimed for a second is not handed over', async () => {
  if (!native) { console.log('  skipped: no native addon (no scanning ahead)'); return; }
  const root = Buffer.from(join(dir, 'started-stale'));
  mkdirSync(join(root.toString(), 'c'), { recursive: true });
  const started = native.scanAhead(root, false);
  assert.ok(started !== 0);
  await sleep(1100);
  const walk = newScanWalk(root, false);
  assert.ok(walk.id !== started && walk.id < 0x80000000, `a walk of its own: ${walk.id}`);
  // A file made now is in its listing: nothing older than a second is handed out.
  writeFileSync(join(root.toString(), 'c', 'new'), '');
  scanDir(root, false, walk);
  const c = scanDir(Buffer.from(join(root.toString(), 'c')), false, walk);
  assert.equal(Array.from({ length: c.count }, (_, i) => c.name(i).toString()), ['new']);
});

test('scanning ahead never enters another file system (the walk may exclude a hung mount)', async () => {
  if (!native) { console.log('  skipped: no native addon (no scanning ahead)'); return; }
  if (!isRoot) { console.log('  skipped: mounting a tmpfs needs root'); return; }
  const root = join(dir, 'ahead-mount');
  const same = join(root, 'c');
  const other = join(root, 'm');
  mkdirSync(same, { recursive: true });
  mkdirSync(other);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'fx-scan-ahead', other], { encoding: 'utf8' });
  if (mounted.status !== 0) { console.log(`  skipped: cannot mount a tmpfs (${(mounted.stderr || '').trim()})`); return; }
  try {
    // As in the freshness test: a file added after the root was taken is missing from a
    // listing made ahead. c (same file system) shows the thread ran; m (a mount) must never.
    let seenAhead = false;
    const names = (s: ScannedDir) => Array.from({ length: s.count }, (_, i) => s.name(i).toString());
    for (let k = 0; k < 20 && !seenAhead; k++) {
      const walk = newScanWalk();
      scanDir(Buffer.from(root), false, walk);
      await sleep(20 + 10 * k);
      writeFileSync(join(same, `late-${k}`), '');
      writeFileSync(join(other, `late-${k}`), '');
      seenAhead = !names(scanDir(Buffer.from(same), false, walk)).includes(`late-${k}`);
      assert.ok(names(scanDir(Buffer.from(other), false, walk)).includes(`late-${k}`), 'the mount was listed ahead');
    }
    assert.ok(seenAhead, 'the scan-ahead thread never ran ahead of the walk');
  } finally {
    spawnSync('umount', [other]);
  }
});

test('scanning ahead: a directory gone by the time the walk gets there is a NotFoundError', () => {
  const root = join(dir, 'ahead-gone');
  mkdirSync(join(root, 'a', 'b'), { recursive: true });
  const walk = newScanWalk();
  scanDir(Buffer.from(root), false, walk);
  rmSync(join(root, 'a'), { recursive: true });
  // A scan made ahead (before the removal) may still be handed out: the walk sees the tree as
  // it was a moment ago, as a slower walk would have. A new walk sees it gone.
  assert.throws(() => scanDir(Buffer.from(join(root, 'a')), false, newScanWalk()),
    (e: Error) => e instanceof NotFoundError && e.message.includes(join(root, 'a')));
});

test('each walk fills a buffer of its own: one walk\'s scans leave another\'s untouched', () => {
  if (!native) { console.log('  skipped: no native addon (the portable scan has no buffer)'); return; }
  const d = Buffer.from(join(dir, 'own-buffers'));
  mkdirSync(d, { recursive: true });
  for (let i = 0; i < 50; i++) writeFileSync(join(d.toString(), `f${i}`), '');
  const a = newScanWalk(), b = newScanWalk();
  assert.is.not(a.id, b.id);
  const scanned = scanDir(d, false, a);
  assert.is(scanned.count, 50);
  assert.ok(a.scratch.length > 0, 'the walk\'s buffer was used');
  assert.is(b.scratch.length, 0, 'the other walk\'s buffer was not');
  // The scan keeps its own copy: the walk's next scan may overwrite the buffer.
  const names = Array.from({ length: scanned.count }, (_, i) => scanned.name(i).toString()).sort();
  scanDir(Buffer.from(dir), false, a);
  assert.equal(Array.from({ length: scanned.count }, (_, i) => scanned.name(i).toString()).sort(), names);
});

test.run();
