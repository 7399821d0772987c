/**
 * Issue 21: a second `fxcp -a` over an existing copy writes only what differs. Nothing changed:
 * nothing written (no -i line, no --json write record, every inode the same). A new mtime:
 * that file alone rewritten. Same size and mtime with other data: not seen by the quick check,
 * seen by -c. A mode alone: `.f...p.....`, no data written. --inplace keeps the inode (a hard
 * link to it sees the new data); without it the file is replaced by a new inode. Type changes:
 * file to directory, directory to file (an empty one replaced, a full one only under
 * --delete), symlink to file, file to symlink.
 */
import { chmodSync, linkSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareCopy, listTree, touchAt, writeTree } from '../helpers/copy-tree.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';

const t = tempDir('copy-update-');
test.after(() => t.cleanup());

let n = 0;
/** A source tree and its fresh -a copy. */
function copied(): { src: string; dst: string } {
  const src = join(t.path, `s${n}`), dst = join(t.path, `d${n++}`);
  writeTree(src, { 'f': 'aaaa', 'd/g': 'gggg', 'd/e/h': 'h'.repeat(10000), 'k': 'kkk', 'empty/': '' });
  touchAt(join(src, 'f'), '1700000000.111111111');
  mkdirSync(dst);
  const r = fxcp(['-a', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  return { src, dst };
}

const inodes = (root: string) => new Map([...listTree(root)].map(([p, e]) => [p, e.ino]));
const jsonLines = (s: string) => s.trim().split('\n').map((l) => JSON.parse(l));

test('a re-run with nothing changed writes nothing: no -i line, no --json action, every inode and ctime the same', () => {
  const { src, dst } = copied();
  const before = listTree(dst);
  let r = fxcp(['-ai', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '');
  r = fxcp(['-a', '--json', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  const recs = jsonLines(r.stdout);
  assert.is(recs.length, 1, r.stdout);
  const s = recs[0].summary;
  assert.is(s.written, 0);
  assert.is(s.bytesWritten, 0);
  assert.is(s.unchanged, 4);
  const after = listTree(dst);
  for (const [p, e] of before) {
    assert.is(after.get(p)!.ino, e.ino, p);
    assert.is(after.get(p)!.ctimeNs, e.ctimeNs, `${p}: not even its attributes were set again`);
  }
});

test('a new mtime on one file rewrites that file only', () => {
  const { src, dst } = copied();
  const before = inodes(dst);
  touchAt(join(src, 'd/g'), '1700000001.000000002');
  const r = fxcp(['-ai', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '>f..t...... d/g\n');
  const after = inodes(dst);
  for (const [p, ino] of before) if (p !== 'd/g') assert.is(after.get(p), ino, p);
  assert.is.not(after.get('d/g'), before.get('d/g'), 'a new file renamed into place');
  assert.equal(compareCopy(src, dst), []);
});

test('same size and mtime, other data: left alone by the quick check, rewritten under -c', () => {
  const { src, dst } = copied();
  writeFileSync(join(src, 'f'), 'bbbb');
  touchAt(join(src, 'f'), '1700000000.111111111');
  let r = fxcp(['-ai', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '');
  assert.is(readFileSync(join(dst, 'f'), 'utf8'), 'aaaa');
  r = fxcp(['-aic', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '>fc........ f\n');
  assert.is(readFileSync(join(dst, 'f'), 'utf8'), 'bbbb');
  assert.equal(compareCopy(src, dst), []);
  // -c with nothing different writes nothing.
  r = fxcp(['-aic', `${src}/`, dst]);
  assert.is(r.stdout, '');
});

test('a mode change alone: .f...p....., no data written, the inode kept', () => {
  const { src, dst } = copied();
  const ino = lstatSync(join(dst, 'd/g')).ino;
  chmodSync(join(src, 'd/g'), 0o600);
  const r = fxcp(['-ai', '--json', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  const recs = jsonLines(r.stdout);
  assert.equal(recs.slice(0, -1).map((x) => [x.action, x.itemize, x.path]), [['attrs', '.f...p.....', 'd/g']]);
  assert.is(recs[recs.length - 1].summary.bytesWritten, 0);
  assert.is(lstatSync(join(dst, 'd/g')).ino, ino);
  assert.is(lstatSync(join(dst, 'd/g')).mode & 0o7777, 0o600);
  assert.is(fxcp(['-ai', `${src}/`, dst]).stdout, '');
});

test('--inplace writes into the existing inode (a hard link to it sees the new data); without it a new inode replaces it', () => {
  const { src, dst } = copied();
  linkSync(join(dst, 'k'), join(t.path, `outside-link-${n}`));
  const ino = lstatSync(join(dst, 'k')).ino;
  writeFileSync(join(src, 'k'), 'new data, longer than before');
  let r = fxcp(['-a', '--inplace', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.is(lstatSync(join(dst, 'k')).ino, ino);
  assert.is(readFileSync(join(t.path, `outside-link-${n}`), 'utf8'), 'new data, longer than before');
  writeFileSync(join(src, 'k'), 'short');
  r = fxcp(['-a', '--inplace', `${src}/`, dst]);
  assert.is(readFileSync(join(dst, 'k'), 'utf8'), 'short', 'truncated to the new size');
  assert.is(lstatSync(join(dst, 'k')).ino, ino);
  writeFileSync(join(src, 'k'), 'replaced');
  r = fxcp(['-a', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.is.not(lstatSync(join(dst, 'k')).ino, ino);
  assert.is(readFileSync(join(t.path, `outside-link-${n}`), 'utf8'), 'short', 'the old inode is left as it was');
  assert.equal(compareCopy(src, dst), []);
});

test('type changes: file to directory, symlink to file, file to symlink, empty directory to file', () => {
  const { src, dst } = copied();
  unlinkSync(join(src, 'f'));
  writeTree(src, { 'f/inside': 'now a directory' });
  unlinkSync(join(src, 'k'));
  symlinkSync('d/g', join(src, 'k'));
  rmSync(join(src, 'empty'), { recursive: true });
  writeFileSync(join(src, 'empty'), 'now a file');
  const r = fxcp(['-ai', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(lstatSync(join(dst, 'f')).isDirectory());
  assert.is(readlinkSync(join(dst, 'k')), 'd/g');
  assert.ok(lstatSync(join(dst, 'empty')).isFile());
  assert.equal(compareCopy(src, dst), []);
  // And back: symlink to file, directory (not empty) to file needs --delete.
  unlinkSync(join(src, 'k'));
  writeFileSync(join(src, 'k'), 'a file again');
  rmSync(join(src, 'f'), { recursive: true });
  writeFileSync(join(src, 'f'), 'a file again');
  const plain = fxcp(['-a', `${src}/`, dst]);
  assert.is(plain.code, 1, 'a full directory in the way is a problem without --delete');
  assert.match(plain.stderr, 'f: ');
  assert.match(plain.stderr, 'not empty');
  assert.ok(lstatSync(join(dst, 'f')).isDirectory(), 'kept without --delete');
  assert.ok(lstatSync(join(dst, 'k')).isFile(), 'the other entries still copied');
  const del = fxcp(['-a', '--delete', `${src}/`, dst]);
  assert.is(del.code, 0, del.stderr);
  assert.equal(compareCopy(src, dst), []);
});

test('-r re-run: compares size and mtime of its own copies (-r keeps no times, so it rewrites), never touches modes', () => {
  const { src } = copied();
  const dst = join(t.path, `r${n}`);
  mkdirSync(dst);
  assert.is(fxcp(['-r', `${src}/`, dst]).code, 0);
  chmodSync(join(dst, 'k'), 0o600);
  const r = fxcp(['-r', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.is(lstatSync(join(dst, 'k')).mode & 0o777, 0o600, 'a replaced file keeps its permission bits without -a');
});

test.run();
