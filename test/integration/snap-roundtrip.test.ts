/**
 * End to end: `fxcp snap create` then `fxcp snap restore` with the real binary, on a tree with
 * every kind of entry, compared entry by entry (content, mode, owner, ns mtimes, symlinks,
 * hard links, empty dirs, xattrs and ACLs, fifos, holes).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, linkSync, mkdirSync, openSync, symlinkSync, truncateSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { native } from '../../lib/native/load.js';
import { allocated, compareTrees } from '../helpers/tree-compare.js';
import { fxcp, fxcpJson, haveCommand, isRoot, tempDir } from '../helpers/run-cli.js';

function makeTree(src: string): void {
  mkdirSync(join(src, 'docs/deep/er'), { recursive: true });
  mkdirSync(join(src, 'empty'));
  mkdirSync(join(src, 'data'));
  writeFileSync(join(src, 'docs/readme.txt'), 'hello\n'.repeat(1000));
  writeFileSync(join(src, 'docs/deep/er/notes.md'), '# notes\n');
  writeFileSync(join(src, 'data/a.db'), Buffer.alloc(300_000, 7));
  writeFileSync(join(src, 'data/b.db'), Buffer.from(Array.from({ length: 500_000 }, (_, i) => (i * 2654435761) >>> 24)));
  writeFileSync(join(src, 'data/c.log'), 'log line\n'.repeat(10));
  writeFileSync(join(src, 'empty-file'), '');
  writeFileSync(join(src, 'setuid-bin'), '#!/bin/sh\n');
  chmodSync(join(src, 'setuid-bin'), 0o4755);
  writeFileSync(join(src, 'private'), 'secret');
  chmodSync(join(src, 'private'), 0o600);
  symlinkSync('docs/readme.txt', join(src, 'link-to-readme'));
  symlinkSync('/nonexistent/target', join(src, 'dangling'));
  linkSync(join(src, 'docs/readme.txt'), join(src, 'hardlink-to-readme'));
  // A name that is not valid UTF-8 (raw bytes), which must survive the round trip.
  const bad = Buffer.concat([Buffer.from(src + '/'), Buffer.from([0x62, 0xff, 0x64])]);
  writeFileSync(bad, 'non-utf8 name');
  if (haveCommand('mkfifo')) spawnSync('mkfifo', [join(src, 'pipe')]);
  // A sparse file: 64 MiB apparent, 2 small extents.
  const fd = openSync(join(src, 'sparse.img'), 'w');
  writeSync(fd, Buffer.alloc(8192, 1), 0, 8192, 1 << 20);
  writeSync(fd, Buffer.alloc(4096, 2), 0, 4096, 40 << 20);
  closeSync(fd);
  truncateSync(join(src, 'sparse.img'), 64 << 20);
  if (native) {
    try { native.xattrSet(join(src, 'docs/readme.txt'), 'user.origin', Buffer.from('test-suite')); } catch { /* fs without user xattrs */ }
  }
  if (haveCommand('setfacl')) spawnSync('setfacl', ['-m', 'u:nobody:r', join(src, 'private')]);
  utimesSync(join(src, 'docs/deep/er/notes.md'), 1_000_000_000.123456, 1_500_000_000.987654);
}

test('snapshot and full restore reproduce the tree exactly', () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store'), out = join(t.path, 'out');
    makeTree(src);
    const created = fxcpJson(['snap', 'create', src, store, '--tag', 'first']);
    assert.is(created.snapshot.tags[0], 'first');
    assert.ok(created.stats.files >= 9, `files: ${created.stats.files}`);
    const restored = fxcp(['snap', 'restore', store, '-o', out]);
    assert.is(restored.code, 0, restored.stderr);
    const diffs = compareTrees(src, out);
    assert.equal(diffs, [], diffs.join('\n'));
    // Holes stay holes.
    assert.ok(allocated(join(out, 'sparse.img')) < 4 << 20, `sparse.img allocates ${allocated(join(out, 'sparse.img'))} bytes`);
  } finally {
    t.cleanup();
  }
});

test('a second snapshot reuses unchanged files without reading them and older snapshots still restore', () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    makeTree(src);
    const first = fxcpJson(['snap', 'create', src, store]);
    const copy1 = join(t.path, 'copy1');
    spawnSync('cp', ['-a', src, copy1]);
    writeFileSync(join(src, 'data/c.log'), 'changed\n');
    writeFileSync(join(src, 'new.txt'), 'new file');
    const second = fxcpJson(['snap', 'create', src, store]);
    assert.is(second.snapshot.parent, first.snapshot.id);
    assert.ok(second.stats.reusedFiles >= first.stats.files - 2, `reused ${second.stats.reusedFiles}`);
    assert.ok(second.stats.readBytes < 100, `read ${second.stats.readBytes} bytes`);
    const list = fxcpJson(['snap', 'list', store]);
    assert.is(list.snapshots.length, 2);
    const out1 = join(t.path, 'out1');
    const r = fxcp(['snap', 'restore', store, '-o', out1, '--snapshot', first.snapshot.id.slice(0, 10)]);
    assert.is(r.code, 0, r.stderr);
    assert.equal(compareTrees(copy1, out1, { rootMeta: false }), []);
    const forced = fxcpJson(['snap', 'create', src, store, '--force-rehash']);
    assert.is(forced.stats.reusedFiles, 0);
    // Only trees may change (cp -a above updated atimes); no file data is new.
    assert.ok(forced.stats.newBytes < 16384, `rehash added ${forced.stats.newBytes} bytes`);
  } finally {
    t.cleanup();
  }
});

test('an xattr set on an unchanged file between snapshots is recorded (ctime moves)', () => {
  if (!native) { console.log('  skip: xattrs need the native addon'); return; }
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store'), out = join(t.path, 'out');
    mkdirSync(src);
    writeFileSync(join(src, 'f.txt'), 'same content');
    fxcpJson(['snap', 'create', src, store]);
    try { native.xattrSet(join(src, 'f.txt'), 'user.later', Buffer.from('added after the first snapshot')); } catch {
      console.log('  skip: this file system has no user xattrs'); return;
    }
    const second = fxcpJson(['snap', 'create', src, store]);
    assert.is(second.stats.reusedFiles, 0, 'a ctime change means the file is read again');
    fxcpJson(['snap', 'restore', store, '-o', out]);
    assert.is(native.xattrGet(join(out, 'f.txt'), 'user.later').toString(), 'added after the first snapshot');
  } finally {
    t.cleanup();
  }
});

test('selective restore by glob restores only matching files, with their parents', () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store'), out = join(t.path, 'out');
    makeTree(src);
    fxcpJson(['snap', 'create', src, store]);
    const r = fxcpJson(['snap', 'restore', store, '-o', out, '--latest', '--file', 'data/*.db']);
    assert.is(r.files, 2);
    assert.equal(compareTrees(join(src, 'data/a.db'), join(out, 'data/a.db')), []);
    assert.equal(compareTrees(join(src, 'data/b.db'), join(out, 'data/b.db')), []);
    const none = fxcp(['snap', 'restore', store, '-o', join(t.path, 'none'), '--file', 'nope/*']);
    assert.is(none.code, 2);
    assert.match(none.stderr, /no entry .* matches/);
  } finally {
    t.cleanup();
  }
});

test('--exclude leaves matching paths out', () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store'), out = join(t.path, 'out');
    makeTree(src);
    fxcpJson(['snap', 'create', src, store, '--exclude', '*.log', '--exclude', '/docs/deep/']);
    fxcpJson(['snap', 'restore', store, '-o', out]);
    const has = (p: string) => spawnSync('test', ['-e', join(out, p)]).status === 0;
    assert.not.ok(has('data/c.log'));
    assert.not.ok(has('docs/deep'));
    assert.ok(has('docs/readme.txt'));
  } finally {
    t.cleanup();
  }
});

test('a store inside the source is left out of its own snapshots', () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), out = join(t.path, 'out');
    makeTree(src);
    const store = join(src, 'backup', 'store');
    const r = fxcp(['snap', 'create', src, store]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /backup\/store: is the store itself; left out of the snapshot/);
    fxcp(['snap', 'create', src, store]);
    fxcpJson(['snap', 'restore', store, '-o', out]);
    assert.ok(spawnSync('test', ['-d', join(out, 'backup')]).status === 0, 'the directory holding the store is kept');
    assert.ok(spawnSync('test', ['-e', join(out, 'backup', 'store')]).status !== 0, 'the store itself is not in the snapshot');
  } finally {
    t.cleanup();
  }
});

test('a 10 GB sparse file with 1 MB of data snapshots and restores sparse', () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store'), out = join(t.path, 'out');
    mkdirSync(src);
    const f = join(src, 'huge.img');
    const fd = openSync(f, 'w');
    for (let i = 0; i < 16; i++) writeSync(fd, Buffer.alloc(65536, i + 1), 0, 65536, i * 600_000_000);
    closeSync(fd);
    truncateSync(f, 10_000_000_000);
    if (allocated(f) > 64 << 20) { console.log('  skip: this filesystem does not keep holes'); return; }
    const c = fxcpJson(['snap', 'create', src, store]);
    assert.is(c.stats.bytes, 10_000_000_000);
    assert.ok(c.stats.readBytes <= 2 << 20, `read ${c.stats.readBytes}`);
    fxcpJson(['snap', 'restore', store, '-o', out]);
    assert.ok(allocated(join(out, 'huge.img')) < 64 << 20, 'restored file is sparse');
    const cmp = spawnSync('cmp', [f, join(out, 'huge.img')]);
    assert.is(cmp.status, 0, 'restored bytes are identical');
  } finally {
    t.cleanup();
  }
});

test('owner and group are restored when running as root', () => {
  if (!isRoot) { console.log('  skip: not root, ownership cannot be restored'); return; }
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store'), out = join(t.path, 'out');
    mkdirSync(src);
    writeFileSync(join(src, 'owned'), 'x');
    spawnSync('chown', ['65534:65534', join(src, 'owned')]);
    fxcpJson(['snap', 'create', src, store]);
    fxcpJson(['snap', 'restore', store, '-o', out]);
    assert.equal(compareTrees(src, out), []);
  } finally {
    t.cleanup();
  }
});

test.run();
