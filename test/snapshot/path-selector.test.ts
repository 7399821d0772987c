// Selective restore globs: selects / mayContain, table-driven.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../lib/errors/index.js';
import { compileSelector, SELECT_ALL } from '../../lib/snapshot/path-selector.js';

type Row = [rel: string, selects: boolean, mayContain: boolean];
const TABLE: Array<[patterns: string[], rows: Row[]]> = [
  [['data/*.db'], [
    ['data/a.db', true, false], ['data/.x.db', true, false], ['data', false, true], ['data/sub', false, false],
    ['data/sub/a.db', false, false], ['other', false, false], ['a.db', false, false], ['datax', false, false],
  ]],
  [['a/**/z'], [
    ['a/z', true, true], ['a/b/z', true, true], ['a/b/c/d/z', true, true], ['a', false, true], ['a/b', false, true],
    ['a/b/c', false, true], ['b', false, false], ['b/a/z', false, false], ['a/b/zz', false, true],
  ]],
  [['dir'], [
    ['dir', true, false], ['dirx', false, false], ['x', false, false], ['x/dir', false, false],
  ]],
  [['./x/'], [
    ['x', true, false], ['y', false, false], ['y/x', false, false],
  ]],
  [['/abs/path.txt'], [
    ['abs/path.txt', true, false], ['abs', false, true], ['abs/other', false, false],
  ]],
  [['a/?', 'b/c/*'], [
    ['a/1', true, false], ['a/12', false, false], ['a', false, true], ['b', false, true], ['b/c', false, true], ['b/c/d', true, false],
    ['b/d', false, false],
  ]],
  [['**'], [
    ['x', true, true], ['x/y/z', true, true],
  ]],
];

test('table: selects and mayContain', () => {
  let checked = 0;
  for (const [patterns, rows] of TABLE) {
    const sel = compileSelector(patterns);
    for (const [rel, selects, may] of rows) {
      assert.is(sel.selects(rel), selects, `${JSON.stringify(patterns)} selects('${rel}')`);
      assert.is(sel.mayContain(rel), may, `${JSON.stringify(patterns)} mayContain('${rel}')`);
      checked++;
    }
  }
  assert.ok(checked > 30);
});

test('the empty list (and patterns that clean to nothing) select everything', () => {
  for (const patterns of [[], ['./'], ['/'], ['.//']]) {
    const sel = compileSelector(patterns);
    assert.is(sel, SELECT_ALL, JSON.stringify(patterns));
    assert.is(sel.selects('anything/at/all'), true);
    assert.is(sel.mayContain('x'), true);
  }
});

test('leading ./ and trailing / are stripped, but a leading dot in a name is kept', () => {
  const sel = compileSelector(['.hidden']);
  assert.is(sel.selects('.hidden'), true);
  assert.is(sel.selects('hidden'), false);
  const sel2 = compileSelector(['./dir/sub///']);
  assert.is(sel2.selects('dir/sub'), true);
  assert.is(sel2.mayContain('dir'), true);
});

test('childNames: the names a literal selection can reach in each directory, null for globs', () => {
  const sel = compileSelector(['a/b/c.txt', 'a/d', './e/']);
  assert.equal(sel.childNames(''), ['a', 'a', 'e']);
  assert.equal(sel.childNames('a'), ['b', 'd']);
  assert.equal(sel.childNames('a/b'), ['c.txt']);
  assert.equal(sel.childNames('x'), []);
  assert.is(sel.childNames('a/d'), null, 'a directory selected whole');
  assert.is(sel.childNames('e/f'), null, 'below a directory selected whole');
  assert.is(compileSelector(['a/b', 'c/*.db']).childNames(''), null);
  assert.is(SELECT_ALL.childNames(''), null);
});

test('childNames agrees with selects and mayContain for every row of literal patterns', () => {
  let checked = 0;
  for (const [patterns, rows] of TABLE) {
    const sel = compileSelector(patterns);
    for (const [rel, selects, may] of rows) {
      const cut = rel.lastIndexOf('/');
      const names = sel.childNames(cut < 0 ? '' : rel.slice(0, cut));
      if (names === null || !(selects || may)) continue;
      assert.ok(names.includes(rel.slice(cut + 1)), `${JSON.stringify(patterns)}: '${rel}' is reachable but not named`);
      checked++;
    }
  }
  assert.ok(checked >= 4);
});

test('wildmatch globs: classes and escapes work, "**" inside a component is "*", braces are literal', () => {
  const sel = compileSelector(['d/[!x]?.db', 'a**', 'lit\\*', '{a,b}.txt']);
  assert.is(sel.selects('d/ab.db'), true);
  assert.is(sel.selects('d/xb.db'), false);
  assert.is(sel.selects('abc'), true);
  assert.is(sel.selects('a/b'), false, "a '**' inside a component does not cross '/'");
  assert.is(sel.selects('lit*'), true);
  assert.is(sel.selects('litx'), false);
  assert.is(sel.selects('{a,b}.txt'), true);
  assert.is(sel.selects('b.txt'), false);
  assert.is(sel.mayContain('d'), true);
  assert.throws(() => compileSelector([`x${'/**'.repeat(9)}`]), (e: unknown) => e instanceof UsageError);
});

test.run();
