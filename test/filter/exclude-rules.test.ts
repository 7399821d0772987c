// Exclude patterns (rsync-style rules as documented in lib/filter/exclude-rules.ts), table-driven.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../lib/errors/index.js';
import { compileExcludes } from '../../lib/filter/exclude-rules.js';

type Row = [path: string, isDir: boolean, excluded: boolean];
const TABLE: Array<[pattern: string, rows: Row[]]> = [
  ['*.tmp', [
    ['a.tmp', false, true], ['x/y/z/a.tmp', false, true], ['dir.tmp', true, true], ['.tmp', false, true],
    ['a.tmp.keep', false, false], ['a.tmp/b', false, false], ['atmp', false, false], ['x/a.tmpx', false, false],
  ]],
  ['/cache', [
    ['cache', true, true], ['cache', false, true], ['a/cache', true, false], ['cache2', true, false], ['x/y/cache', false, false],
  ]],
  ['cache', [
    ['cache', true, true], ['a/cache', true, true], ['a/b/cache', false, true], ['cachex', false, false], ['a/cachex', true, false],
  ]],
  ['build/', [
    ['build', true, true], ['src/build', true, true], ['build', false, false], ['src/build', false, false], ['builds', true, false],
  ]],
  ['/out/', [
    ['out', true, true], ['out', false, false], ['a/out', true, false],
  ]],
  ['a/*/c', [
    ['a/b/c', false, true], ['a/xyz/c', true, true], ['a/b/d/c', false, false], ['a/c', false, false], ['a/b/cc', false, false],
    ['b/b/c', false, false],
  ]],
  ['**/x', [
    ['a/x', false, true], ['a/b/c/x', true, true], ['a/xx', false, false], ['x/a', false, false],
  ]],
  ['/logs/**', [
    ['logs/a', false, true], ['logs/a/b/c.log', false, true], ['other/logs/a', false, false],
  ]],
  ['a?c', [
    ['abc', false, true], ['d/a.c', false, true], ['ac', false, false], ['abbc', false, false], ['a/c', false, false],
  ]],
  ['/a?c', [
    ['abc', false, true], ['a/c', false, false], ['a/c', true, false],
  ]],
  ['x/a?c', [
    ['x/abc', false, true], ['x/a/c', false, false],
  ]],
  ['/d/*', [
    ['d/e', false, true], ['d/.hidden', false, true], ['d/e/f', false, false], ['d', true, false],
  ]],
  ['.*', [
    ['.git', true, true], ['src/.env', false, true], ['src/env', false, false],
  ]],
  ['[ab]*.log', [
    ['a1.log', false, true], ['x/b.log', false, true], ['c.log', false, false],
  ]],
];

test('table: each pattern excludes exactly the expected paths', () => {
  let checked = 0;
  for (const [pattern, rows] of TABLE) {
    const ex = compileExcludes([pattern]);
    for (const [path, isDir, want] of rows) {
      assert.is(ex(path, isDir), want, `pattern '${pattern}' on ${isDir ? 'dir' : 'file'} '${path}'`);
      checked++;
    }
  }
  assert.ok(checked > 50);
});

test('several patterns: any match excludes', () => {
  const ex = compileExcludes(['*.o', '/tmp/', 'node_modules/']);
  assert.is(ex('src/main.o', false), true);
  assert.is(ex('tmp', true), true);
  assert.is(ex('tmp', false), false);
  assert.is(ex('web/node_modules', true), true);
  assert.is(ex('src/main.c', false), false);
});

test('no patterns: nothing excluded', () => {
  const ex = compileExcludes([]);
  assert.is(ex('anything', false), false);
  assert.is(ex('a/b/c', true), false);
});

test('empty patterns are a UsageError', () => {
  for (const p of ['', '/']) {
    assert.throws(() => compileExcludes([p]), (e: unknown) => e instanceof UsageError && (e as UsageError).code === 'USAGE', `'${p}'`);
  }
});

test('negation and extglob syntax are literal, not special', () => {
  const neg = compileExcludes(['!keep']);
  assert.is(neg('other', false), false);
  assert.is(neg('!keep', false), true);
});

test.run();
