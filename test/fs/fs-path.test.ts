// Byte paths: joining, display, relative paths. Pure, no file system.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { displayPath, isUtf8Path, joinPath, relPath, relPathString, splitPath, toBuffer } from '../../lib/fs/index.js';

const b = (s: string) => Buffer.from(s);

test('joinPath adds one slash, keeps raw bytes', () => {
  assert.equal(joinPath(b('/a'), b('x')).toString(), '/a/x');
  assert.equal(joinPath(b('/a/'), b('x')).toString(), '/a/x');
  assert.equal(joinPath(b('/'), b('x')).toString(), '/x');
  assert.equal(joinPath(b(''), b('x')).toString(), 'x');
  const odd = Buffer.from([0x66, 0xff, 0x6f]);
  assert.ok(joinPath(b('/d'), odd).equals(Buffer.from([0x2f, 0x64, 0x2f, 0x66, 0xff, 0x6f])));
});

test('toBuffer encodes strings as UTF-8 and passes Buffers through', () => {
  const buf = b('x');
  assert.is(toBuffer(buf), buf);
  assert.ok(toBuffer('é').equals(Buffer.from([0xc3, 0xa9])));
});

test('displayPath is lossy UTF-8', () => {
  assert.is(displayPath(Buffer.from([0x66, 0xff, 0x6f])), 'f\ufffdo');
  assert.is(displayPath('plain'), 'plain');
  assert.ok(isUtf8Path(b('/é/x')));
  assert.not.ok(isUtf8Path(Buffer.from([0x66, 0xff, 0x6f])));
});

test('relPath and relPathString work on whole components', () => {
  assert.is(relPath('/a/b', '/a/b/c/d')!.toString(), 'c/d');
  assert.is(relPath('/a/b/', '/a/b/c')!.toString(), 'c');
  assert.is(relPath('/a/b', '/a/b')!.length, 0);
  assert.is(relPath('/a/b', '/a/bc'), null);
  assert.is(relPath('/a/b', '/a'), null);
  assert.is(relPath('/', '/x/y')!.toString(), 'x/y');
  assert.is(relPathString('/a', '/a'), '.');
  assert.is(relPathString('/a', '/a/x'), 'x');
  assert.is(relPathString('/a', '/elsewhere'), '/elsewhere');
});

test('splitPath', () => {
  const s = (p: string) => splitPath(b(p)).map((x) => x.toString());
  assert.equal(s('/a/b'), ['/a', 'b']);
  assert.equal(s('/a'), ['/', 'a']);
  assert.equal(s('a'), ['.', 'a']);
  assert.equal(s('/a/b/'), ['/a', 'b']);
});

test.run();
