/**
 * Issue 21: what `fxcp -a` keeps (mode with setuid, setgid and sticky bits, ns mtimes, symlinks
 * as symlinks and never followed, hard links across directories, xattrs, ACLs, empty
 * directories, fifos, sockets, and as root devices and owners; a directory's mtime set after
 * its contents), checked entry by entry against the source and beside real `rsync -aHAX` on
 * the same tree; and what `-r` alone does not keep.
 */
import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildRichTree, compareCopy, have, listTree, run } from '../helpers/copy-tree.js';
import { fxcp, isRoot, tempDir } from '../helpers/run-cli.js';

const t = tempDir('copy-archive-');
const src = join(t.path, 'src');
const skipped = buildRichTree(src, isRoot);
for (const s of skipped) console.log(`  skip (part of the fixture): ${s}`);

test.after(() => t.cleanup());

/** An existing empty destination directory (a contents copy into a missing DEST is tested in copy-paths). */
function fresh(name: string): string {
  const p = join(t.path, name);
  mkdirSync(p);
  return p;
}

test('-a copies every entry with its type, mode, owner, ns mtime, xattrs, ACLs and hard-link groups', () => {
  const dst = fresh('a1');
  const r = fxcp(['-a', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.equal(compareCopy(src, dst), []);
});

test('-a keeps setuid, setgid and sticky bits, and ns mtimes of files, symlinks and directories', () => {
  const dst = fresh('a2');
  assert.is(fxcp(['-a', `${src}/`, dst]).code, 0);
  const d = listTree(dst);
  assert.is(d.get('a.txt')!.mode, '4755');
  assert.is(d.get('d/e')!.mode, '2750');
  assert.is(d.get('empty')!.mode, '1777');
  assert.is(d.get('a.txt')!.mtimeNs, 1500000000999999999n);
  assert.is(d.get('d/e/c.bin')!.mtimeNs, 1700000000123456789n);
  assert.is(d.get('rel-link')!.mtimeNs, 1400000000424242424n);
  // A directory's time is set after what is inside it is written.
  assert.is(d.get('x/y/z')!.mtimeNs, 1600000002200000000n);
  assert.is(d.get('d')!.mtimeNs, 1600000006600000000n);
  assert.is(d.get('.')!.mtimeNs, 1600000008800000000n);
});

test('-a copies symlinks as symlinks, never followed: dangling, absolute, out of the tree, a loop', () => {
  const dst = fresh('a3');
  assert.is(fxcp(['-a', `${src}/`, dst]).code, 0);
  for (const [name, target] of [['rel-link', 'a.txt'], ['abs-link', '/etc/hostname'], ['dangling', 'no/such/target'],
    ['d/out-link', '../../outside'], ['loop-a', 'loop-b'], ['loop-b', 'loop-a']]) {
    assert.ok(lstatSync(join(dst, name)).isSymbolicLink(), name);
    assert.is(readlinkSync(join(dst, name)), target, name);
  }
});

test('-a keeps hard links within the copy, across directories (one inode at the destination)', () => {
  const dst = fresh('a4');
  assert.is(fxcp(['-a', `${src}/`, dst]).code, 0);
  const b = lstatSync(join(dst, 'd/b.txt')), link = lstatSync(join(dst, 'x/y/b-link.txt'));
  assert.is(b.ino, link.ino);
  assert.is(b.nlink, 2);
  assert.is(lstatSync(join(dst, 'a.txt')).ino, lstatSync(join(dst, 'a-link.txt')).ino);
  assert.is.not(lstatSync(join(dst, 'a.txt')).ino, b.ino);
});

test('-a keeps user xattrs and POSIX ACLs (access and default), as getfattr and getfacl see them', () => {
  if (!have('getfacl') || !have('getfattr')) { console.log('  skip: getfacl/getfattr not installed'); return; }
  if (skipped.some((s) => s.startsWith('xattrs') || s.startsWith('ACLs'))) { console.log('  skip: this file system takes no user xattrs or ACLs'); return; }
  const dst = fresh('a5');
  assert.is(fxcp(['-a', `${src}/`, dst]).code, 0);
  const facl = (root: string, r: string) => run('getfacl', ['-p', '--omit-header', join(root, r)]);
  assert.is(facl(dst, 'd/b.txt'), facl(src, 'd/b.txt'));
  assert.match(facl(dst, 'd/b.txt'), 'user:1234:rw-');
  assert.is(facl(dst, 'd/e'), facl(src, 'd/e'));
  assert.match(facl(dst, 'd/e'), 'default:group:5678:r-x');
  assert.match(run('getfattr', ['-n', 'user.colour', '--only-values', join(dst, 'a.txt')]), 'blue');
});

test('-a makes fifos, sockets and (as root) devices, and gives owners (as root)', () => {
  const dst = fresh('a6');
  assert.is(fxcp(['-a', `${src}/`, dst]).code, 0);
  assert.ok(lstatSync(join(dst, 'fifo')).isFIFO());
  assert.ok(lstatSync(join(dst, 'sock')).isSocket());
  assert.ok(lstatSync(join(dst, 'empty')).isDirectory());
  if (!isRoot) { console.log('  skip (devices and owners): needs root'); return; }
  const dev = lstatSync(join(dst, 'null-dev'));
  assert.ok(dev.isCharacterDevice());
  assert.is(dev.rdev, lstatSync('/dev/null').rdev);
  assert.is(`${lstatSync(join(dst, 'd/b.txt')).uid}:${lstatSync(join(dst, 'd/b.txt')).gid}`, '1234:5678');
  assert.is(`${lstatSync(join(dst, 'rel-link')).uid}:${lstatSync(join(dst, 'rel-link')).gid}`, '4321:8765');
  assert.is(lstatSync(join(dst, 'x/y')).uid, 1234);
});

test('fxcp -a and rsync -aHAX make the same tree from the same source', () => {
  if (!have('rsync')) { console.log('  skip: rsync not installed'); return; }
  const ours = fresh('a7'), theirs = join(t.path, 'r7');
  assert.is(fxcp(['-a', `${src}/`, ours]).code, 0);
  run('rsync', ['-aHAX', `${src}/`, theirs]);
  assert.equal(compareCopy(theirs, ours), []);
});

test('-r alone: files and directories with data only; symlinks, fifos and sockets skipped with a warning; no times kept', () => {
  const dst = fresh('r1');
  const r = fxcp(['-r', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  const d = listTree(dst), s = listTree(src);
  for (const [rel, e] of s) {
    if (e.type === 'file' || e.type === 'dir') {
      assert.ok(d.has(rel), `${rel} copied`);
      assert.is(d.get(rel)!.hash, e.hash, rel);
    } else {
      assert.not.ok(d.has(rel), `${rel} (a ${e.type}) not copied by -r`);
      if (rel !== 'null-dev' || isRoot) assert.match(r.stderr, rel, `the warning names ${rel}`);
    }
  }
  assert.match(r.stderr, 'skipping non-regular file');
  // No times, no set-id bits, no hard links, no xattrs.
  assert.is.not(d.get('a.txt')!.mtimeNs, s.get('a.txt')!.mtimeNs);
  assert.is.not(d.get('d/e/c.bin')!.mtimeNs, s.get('d/e/c.bin')!.mtimeNs);
  assert.is(d.get('a.txt')!.mode, '755');
  assert.is(d.get('a.txt')!.xattrs, '');
  assert.is(d.get('a.txt')!.linkGroup, null);
  if (isRoot) assert.is(d.get('d/b.txt')!.uid, 0);
});

test.run();
