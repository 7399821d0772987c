// rsync's wildmatch, table-driven (cases after rsync's own wildtest, read as rsync's C code decides them).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hasWildcards, trailingElements, wildmatch, wildmatchAt } from '../../lib/filter/wildmatch.js';

const TABLE: Array<[pattern: string, text: string, match: boolean]> = [
  // literals and '?'
  ['foo', 'foo', true], ['foo', 'bar', false], ['', '', true], ['???', 'foo', true], ['??', 'foo', false],
  ['?', '/', false], ['a?c', 'a/c', false],
  // '*' stays in one component, '**' crosses
  ['*', 'foo', true], ['*', '', true], ['f*', 'foo', true], ['*f', 'foo', false], ['*foo*', 'foo', true],
  ['*ob*a*r*', 'foobazbar', true], ['*', 'a/b', false], ['a/*', 'a/b', true], ['a/*', 'a/b/c', false],
  ['**', 'a/b/c', true], ['a/**', 'a/b/c', true], ['a/**', 'a/', true], ['a/**/c', 'a/b/c', true],
  ['a/**/c', 'a/x/y/c', true], ['a/**/c', 'a/c', false], ['**/c', '/c', true], ['**/c', 'c', false],
  ['a**c', 'a/b/c', true], ['***', 'x/y', true], ['a/***', 'a/', true], ['*/*/c', 'a/b/c', true], ['*/c', 'a/b/c', false],
  ['foo*bar', 'foo/bar', false], ['foo**bar', 'foo/baz/bar', true],
  ['-*-*-*-*-*-*-12-*-*-*-m-*-*-*', '-adobe-courier-bold-o-normal--12-120-75-75-m-70-iso8859-1', true],
  ['-*-*-*-*-*-*-12-*-*-*-m-*-*-*', '-adobe-courier-bold-o-normal--12-120-75-75-X-70-iso8859-1', false],
  ['XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*', 'XXX/adobe/courier/bold/o/normal//12/120/75/75/m/70/iso8859/1', true],
  ['**/*a*b*g*n*t', 'abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txt', true],
  ['**/*a*b*g*n*t', 'abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txtz', false],
  // classes
  ['[a-c]', 'b', true], ['[a-c]', 'd', false], ['[!a-c]', 'd', true], ['[!a-c]', 'b', false], ['[^a-c]', 'd', true],
  ['[]]', ']', true], ['[]-]', '-', true], ['[a-]', '-', true], ['[!]]', 'a', true], ['[!]]', ']', false],
  ['[\\]]', ']', true], ['[\\-]', '-', true], ['[a\\-z]', 'm', false], ['[[:alpha:]]', 'q', true],
  ['[[:alpha:]]', '1', false], ['[[:digit:][:upper:]]', 'Z', true], ['[[:digit:][:upper:]]', 'z', false],
  ['[[:space:]]', '\t', true], ['[[:xdigit:]]', 'F', true], ['[[:xdigit:]]', 'g', false], ['[[:punct:]]', '!', true],
  ['[[:alpha:]]', '\xe9', false], ['[[:foo:]]', 'f', false], ['[[:alpha:]', 'a', false], ['[a', 'a', false],
  ['[[:]', ':', true], ['[!/]', '/', false], ['a[/]b', 'a/b', false], ['[ab]*.log', 'b1.log', true],
  // backslash escapes
  ['\\*', '*', true], ['\\*', 'a', false], ['\\?', '?', true], ['br\\[ack\\]et', 'br[ack]et', true], ['foo\\', 'foo', false],
  ['\\a', 'a', true],
  // bytes (latin1 strings) are compared one by one
  ['caf?', 'caf\xc3\xa9', false], ['caf??', 'caf\xc3\xa9', true], ['*\xff', 'a\xff', true],
];

test('table: wildmatch', () => {
  for (const [p, t, want] of TABLE) assert.is(wildmatch(p, t), want, `'${p}' ~ '${t}'`);
  assert.ok(TABLE.length > 70);
});

test('wildmatchAt: 0 whole text, N trailing elements, -1 after any slash', () => {
  assert.is(wildmatchAt('b/c', 'a/b/c', 2), true);
  assert.is(wildmatchAt('b/c', 'a/b/c', 0), false);
  assert.is(wildmatchAt('a/b/c', 'b/c', 3), false, 'fewer elements than asked');
  assert.is(wildmatchAt('x/**', 'a/x/y', -1), true);
  assert.is(wildmatchAt('x/**', 'a/x/y', 0), false);
  assert.is(wildmatchAt('x/*', 'a/x/y/z', -1), false);
  assert.equal([trailingElements('a/b/c', 1), trailingElements('a/b/c', 3), trailingElements('a/b/c', 4)], [4, 0, -1]);
});

test('a pathological pattern still answers quickly enough to finish (no exponential backtracking)', () => {
  const text = `${'a/'.repeat(30)}b`;
  assert.is(wildmatch(`${'*a'.repeat(20)}*c`, 'a'.repeat(40)), false);
  assert.is(wildmatch(`**${'/*'.repeat(10)}/c`, text), false);
});

test('hasWildcards: only * ? [ make a pattern a glob', () => {
  assert.equal(['a*', 'a?', 'a[b]', 'a\\b', 'a{b,c}', 'plain'].map(hasWildcards), [true, true, true, false, false, false]);
});

test.run();
