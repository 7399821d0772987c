// The scope API a walker uses (filter-scope.ts): raw-byte names, inheritance, anchoring, sides.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../lib/errors/index.js';
import { compileFilterArgs, type FilterArg } from '../../lib/filter/filter-args.js';
import { FilterScope, parentDirsOf, type MergeReader } from '../../lib/filter/filter-scope.js';

const B = (s: string | number[]): Buffer => (typeof s === 'string' ? Buffer.from(s) : Buffer.from(s));
const none = () => { throw new Error('no files here'); };

function rules(args: Array<[FilterArg['option'], string]>, deleteExcluded = false) {
  return compileFilterArgs(args.map(([option, value]) => ({ option, value })), { readFile: none, deleteExcluded });
}

/** A reader over an in-memory map: merge file name -> content, per directory. */
function files(map: Record<string, string>): MergeReader {
  return (name) => (name.toString() in map ? Buffer.from(map[name.toString()]) : null);
}

test('names that are not UTF-8 neither throw nor mis-match ASCII patterns', () => {
  const bad = B([0x66, 0xff, 0xfe, 0x2e, 0x6f]); // "f\xff\xfe.o"
  const root = FilterScope.root(rules([['exclude', '*.o'], ['exclude', 'f?x']]));
  assert.is(root.transfer(bad, false), false, '*.o matches the bytes before .o');
  assert.is(root.transfer(B([0x66, 0xff, 0x78]), false), false, "'?' is one byte");
  assert.is(root.transfer(B([0x66, 0xc3, 0xa9, 0x78]), false), true, "'?' does not match a two-byte character");
  assert.is(root.transfer(B([0xff]), true), true);
  const sub = root.enter(B([0xc3, 0x28]), null);
  assert.is(sub.transfer(B('a.c'), false), true);
  assert.is(sub.transfer(B('a.o'), false), false);
});

test('a UTF-8 pattern matches the same name as bytes', () => {
  const root = FilterScope.root(rules([['exclude', 'café*']]));
  assert.is(root.transfer(B('café.txt'), false), false);
  assert.is(root.transfer(B('cafe.txt'), false), true);
});

test('anchoring follows the transfer root: SRC/ and SRC give /x and /SRC/x', () => {
  const r = rules([['exclude', '/top/x'], ['exclude', '/x']]);
  const slash = FilterScope.root(r);
  assert.is(slash.transfer(B('x'), false), false);
  assert.is(slash.enter(B('top'), null).transfer(B('x'), false), false);
  assert.is(slash.enter(B('a'), null).transfer(B('x'), false), true);
});

test('dir-merge: local rules first, then inherited; n stops inheritance; anchors at the file', () => {
  const r = rules([['filter', ': .f']]);
  const root = FilterScope.root(r, { readMerge: files({ '.f': '+ keep.tmp\n- *.tmp\n- /local\n' }) });
  assert.is(root.transfer(B('a.tmp'), false), false);
  assert.is(root.transfer(B('keep.tmp'), false), true);
  assert.is(root.transfer(B('local'), false), false);
  const inner = root.enter(B('inner'), files({ '.f': '- keep.tmp\n' }));
  assert.is(inner.transfer(B('keep.tmp'), false), false, 'the inner file comes first');
  assert.is(inner.transfer(B('b.tmp'), false), false, 'inherited');
  assert.is(inner.transfer(B('local'), false), true, "'/local' anchors at the outer file's directory");
  const noInherit = FilterScope.root(rules([['filter', ':n .f']]), { readMerge: files({ '.f': '- *.tmp\n' }) });
  assert.is(noInherit.transfer(B('a.tmp'), false), false);
  assert.is(noInherit.enter(B('d'), null).transfer(B('a.tmp'), false), true);
  const cleared = root.enter(B('c'), files({ '.f': '!\n- x\n' }));
  assert.is(cleared.transfer(B('a.tmp'), false), true, "'!' drops the inherited rules");
  assert.is(cleared.transfer(B('x'), false), false);
});

test('a dir-merge file with a bad rule or a nested dir-merge is a UsageError naming it', () => {
  const r = rules([['filter', ': .f']]);
  assert.throws(() => FilterScope.root(r, { readMerge: files({ '.f': 'bogus x\n' }) }), (e: unknown) => e instanceof UsageError && /\.f/.test((e as Error).message));
  assert.throws(() => FilterScope.root(r).enter(B('d'), files({ '.f': ': .g\n' })), (e: unknown) => e instanceof UsageError && /d\/\.f/.test((e as Error).message));
});

test('protects: excluded and P entries kept, R and + at risk, H ignored; --delete-excluded drops plain excludes', () => {
  const r = rules([['filter', 'R extra.o'], ['exclude', '*.o'], ['filter', 'P *.bak'], ['filter', 'H *.log'], ['filter', 'Pp *.tmp']]);
  const root = FilterScope.root(r);
  assert.is(root.protects(B('a.o'), false), true);
  assert.is(root.protects(B('extra.o'), false), false);
  assert.is(root.protects(B('a.bak'), false), true);
  assert.is(root.protects(B('a.log'), false), false);
  assert.is(root.transfer(B('a.log'), false), false);
  assert.is(root.transfer(B('a.bak'), false), true, 'P is receiver-side only');
  assert.is(root.protects(B('a.tmp'), false), true);
  assert.is(root.protects(B('a.tmp'), false, { deleting: true }), false, 'perishable inside a deleted directory');
  const de = FilterScope.root(rules([['exclude', '*.o'], ['filter', 'P *.bak']], true));
  assert.is(de.protects(B('a.o'), false), false);
  assert.is(de.transfer(B('a.o'), false), false);
  assert.is(de.protects(B('a.bak'), false), true);
});

test('parent directories for -F: read at the first directory, anchored at their own place', () => {
  assert.equal(parentDirsOf('/t/in/src', '/t/in/src'), [
    { dir: '/', pathToRoot: 't/in/src' }, { dir: '/t', pathToRoot: 'in/src' }, { dir: '/t/in', pathToRoot: 'src' },
  ]);
  assert.equal(parentDirsOf('/t/in/src', '/t/in').map((d) => d.pathToRoot), ['t/in', 'in', '']);
  const r = rules([['F', '']]);
  const parentDirs = [{ pathToRoot: B('src'), readMerge: files({ '.rsync-filter': '- /src/top\n- *.jpg\n' }) }];
  const root = FilterScope.root(r, { readMerge: files({}), parentDirs });
  assert.is(root.transfer(B('top'), false), false);
  assert.is(root.transfer(B('a.jpg'), false), false);
  assert.is(root.enter(B('d'), null).transfer(B('top'), false), true);
  const noslash = FilterScope.root(r, { parentDirs: [{ pathToRoot: B(''), readMerge: files({ '.rsync-filter': '- /src/top\n' }) }] });
  assert.is(noslash.transfer(B('src'), true), true);
  assert.is(noslash.enter(B('src'), files({})).transfer(B('top'), false), false);
});

test('the / modifier matches the absolute path of the transfer root', () => {
  const r = rules([['filter', '-/ /data/src/docs/*.md']]);
  const root = FilterScope.root(r, { absRoot: B('/data/src') });
  assert.is(root.enter(B('docs'), null).transfer(B('a.md'), false), false);
  assert.is(FilterScope.root(r, { absRoot: B('/other') }).enter(B('docs'), null).transfer(B('a.md'), false), true);
});

test.run();
