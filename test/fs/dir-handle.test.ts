// Directory handles (lib/fs/dir-handle.ts) and the writer's rules under them
// (lib/fs/materialize.ts): a handle path reaches the directory from Node's calls, a symlink in
// a directory's place is refused, paths below a handle of the destination are inside it
// (with the same refusals of '..' and empty components), and a pinned handle outlives its
// directory's walk.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DirHandle, handleFd } from '../../lib/fs/dir-handle.js';
import { Materializer } from '../../lib/fs/materialize.js';

let dir = '';
test.before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foxing-dir-handle-')); });
test.after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

test('handleFd reads the descriptor of /proc/self/fd/N and paths below it, -1 otherwise', () => {
  assert.is(handleFd(Buffer.from('/proc/self/fd/12')), 12);
  assert.is(handleFd(Buffer.from('/proc/self/fd/7/a/b')), 7);
  for (const p of ['/proc/self/fd/', '/proc/self/fd/x', '/proc/self/fd/12x/a', '/proc/self/fdx/1', '/tmp/a', '']) assert.is(handleFd(Buffer.from(p)), -1, p);
});

test('a handle path names the directory to every call; a symlink is refused, not followed', () => {
  fs.mkdirSync(path.join(dir, 'd'));
  fs.writeFileSync(path.join(dir, 'd', 'f'), 'x');
  fs.symlinkSync('d', path.join(dir, 'link'));
  const h = DirHandle.open(Buffer.from(path.join(dir, 'd')));
  try {
    assert.is(fs.readFileSync(Buffer.from(`${h.path}/f`), 'utf8'), 'x');
    fs.writeFileSync(Buffer.from(`${h.path}/g`), 'y');
    assert.is(fs.readFileSync(path.join(dir, 'd', 'g'), 'utf8'), 'y');
  } finally { h.close(); }
  assert.throws(() => DirHandle.open(Buffer.from(path.join(dir, 'link'))), (e: Error) => /cannot open directory .*link/.test(e.message));
});

test('the writer takes paths below its handles as inside the destination, and keeps a pinned one open', async () => {
  const root = path.join(dir, 'dest');
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  const out = new Materializer({ root: Buffer.from(root), owner: false, onWarn: () => {} });
  const h = out.enterHandle(Buffer.from(path.join(root, 'sub')));
  const inside = (p: string) => { try { out.assertInside(Buffer.from(p)); return true; } catch { return false; } };
  assert.ok(inside(`${h.path}/a`));
  assert.ok(inside(`${h.path}/a/b`));
  assert.not.ok(inside(`${h.path}/../x`));
  assert.not.ok(inside(`${h.path}//x`));
  assert.not.ok(inside(`${h.path}`));
  assert.not.ok(inside('/proc/self/fd/0/x'), 'a descriptor that is not a handle of this writer');
  out.makeDir(Buffer.from(`${h.path}/made`));
  assert.ok(fs.statSync(path.join(root, 'sub', 'made')).isDirectory());
  out.pin(Buffer.from(`${h.path}/made`));
  out.leaveHandle(h);
  assert.ok(inside(`${h.path}/a`), 'pinned: still open and still inside');
  assert.ok(fs.statSync(Buffer.from(`${h.path}/made`)).isDirectory());
  const other = out.enterHandle(Buffer.from(path.join(root, 'sub', 'made')));
  out.leaveHandle(other);
  assert.not.ok(inside(`${other.path}/a`), 'left: no longer a handle of this writer');
});

test.run();
