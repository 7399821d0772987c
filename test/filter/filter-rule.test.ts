// The rule grammar (filter-rule.ts) and the command-line options (filter-args.ts), table-driven.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../lib/errors/index.js';
import { compileFilterArgs } from '../../lib/filter/filter-args.js';
import { isSlot } from '../../lib/filter/filter-list.js';
import { fileTokens, parseRules, PLAIN, type ParseContext, type ParsedRule } from '../../lib/filter/filter-rule.js';

const FILTER: ParseContext = { oldPrefixes: false, deleteExcluded: false, origin: '--filter' };
const OLD: ParseContext = { oldPrefixes: true, deleteExcluded: false, origin: '--exclude' };

type Want = Partial<ParsedRule>;
const TABLE: Array<[text: string, ctx: ParseContext, want: Want]> = [
  ['- *.o', FILTER, { type: 'exclude', pattern: '*.o' }],
  ['+ *.c', FILTER, { type: 'include', pattern: '*.c' }],
  ['-  two', FILTER, { type: 'exclude', pattern: ' two' }],
  ['-_*.tmp', FILTER, { type: 'exclude', pattern: '*.tmp' }],
  ['exclude *.md', FILTER, { type: 'exclude', pattern: '*.md' }],
  ['include_x', FILTER, { type: 'include', pattern: 'x' }],
  ['exclude,! */', FILTER, { type: 'exclude', negate: true, pattern: '*/' }],
  ['-! */', FILTER, { type: 'exclude', negate: true, pattern: '*/' }],
  ['-,! x', FILTER, { type: 'exclude', negate: true, pattern: 'x' }],
  ['H *.log', FILTER, { type: 'exclude', sender: true, receiver: false, pattern: '*.log' }],
  ['hide x', FILTER, { type: 'exclude', sender: true }],
  ['S x', FILTER, { type: 'include', sender: true, receiver: false }],
  ['show x', FILTER, { type: 'include', sender: true }],
  ['P *.bak', FILTER, { type: 'exclude', receiver: true, sender: false }],
  ['protect x', FILTER, { type: 'exclude', receiver: true }],
  ['R x', FILTER, { type: 'include', receiver: true }],
  ['risk x', FILTER, { type: 'include', receiver: true }],
  ['Pp *.bak', FILTER, { type: 'exclude', receiver: true, perishable: true }],
  ['-s x', FILTER, { type: 'exclude', sender: true, receiver: false }],
  ['-r x', FILTER, { type: 'exclude', sender: false, receiver: true }],
  ['-/ /abs/x', FILTER, { type: 'exclude', absPath: true, pattern: '/abs/x' }],
  ['. rules', FILTER, { type: 'merge', pattern: 'rules' }],
  ['merge rules', FILTER, { type: 'merge', pattern: 'rules' }],
  ['.-w f', FILTER, { type: 'merge', noPrefixes: '-', wordSplit: true, pattern: 'f' }],
  ['.+ f', FILTER, { type: 'merge', noPrefixes: '+', pattern: 'f' }],
  [': .rsync-filter', FILTER, { type: 'dir-merge', pattern: '.rsync-filter' }],
  [':en .f', FILTER, { type: 'dir-merge', excludeSelf: true, noInherit: true, pattern: '.f' }],
  ['dir-merge,- .excl', FILTER, { type: 'dir-merge', noPrefixes: '-', pattern: '.excl' }],
  ['!', FILTER, { type: 'clear' }],
  ['clear', FILTER, { type: 'clear' }],
  ['*.o', OLD, { type: 'exclude', pattern: '*.o' }],
  ['- *.o', OLD, { type: 'exclude', pattern: '*.o' }],
  ['+ *.c', OLD, { type: 'include', pattern: '*.c' }],
  ['-x', OLD, { type: 'exclude', pattern: '-x' }],
  ['!', OLD, { type: 'clear' }],
  ['!keep', OLD, { type: 'exclude', pattern: '!keep' }],
  ['P x', OLD, { type: 'exclude', pattern: 'P x' }],
];

test('table: one rule each', () => {
  for (const [text, ctx, want] of TABLE) {
    const rules = parseRules(text, PLAIN, ctx);
    assert.is(rules.length, 1, text);
    for (const [k, v] of Object.entries(want)) assert.equal(rules[0][k as keyof ParsedRule], v, `'${text}' ${k}`);
  }
});

test('bad rules are UsageErrors naming the rule', () => {
  for (const text of ['x foo', 'excludes foo', '-', '- ', '-e foo', '-n foo', '.! f', 'P,s x', '! x', '-C', '-x foo', 'foo']) {
    assert.throws(() => parseRules(text, PLAIN, FILTER), (e: unknown) => e instanceof UsageError && (e as Error).message.includes(text), text);
  }
});

test('--delete-excluded makes plain +/- rules sender-side, not P/R/H/S or merges', () => {
  const ctx = { ...FILTER, deleteExcluded: true };
  const side = (t: string) => { const r = parseRules(t, PLAIN, ctx)[0]; return [r.sender, r.receiver]; };
  assert.equal(side('- x'), [true, false]);
  assert.equal(side('+ x'), [true, false]);
  assert.equal(side('P x'), [false, true]);
  assert.equal(side('-r x'), [false, true]);
  assert.equal(side(': .f'), [false, false]);
});

test('merge-file templates: bare patterns, word splitting, inherited sides and flags', () => {
  const words = parseRules('*.tmp', { ...PLAIN, noPrefixes: '+', include: true, wordSplit: true }, FILTER);
  assert.equal(words.map((r) => [r.type, r.pattern]), [['include', '*.tmp']]);
  const two = parseRules('  a  b ', { ...PLAIN, noPrefixes: '-', wordSplit: true }, FILTER);
  assert.equal(two.map((r) => r.pattern), ['a', 'b']);
  const sided = parseRules('- x', { ...PLAIN, receiver: true }, FILTER);
  assert.equal([sided[0].sender, sided[0].receiver], [false, true]);
  assert.throws(() => parseRules('H x', { ...PLAIN, receiver: true }, FILTER), (e: unknown) => e instanceof UsageError);
});

test('fileTokens: lines end at \\n or \\r; comments and blank lines skipped unless word-split', () => {
  assert.equal(fileTokens(Buffer.from('# c\n; c\n\na\r\nb c\n'), false), ['a', 'b c']);
  assert.equal(fileTokens(Buffer.from('# c\na  b\n'), true), ['#', 'c', 'a', 'b']);
  assert.equal(fileTokens(Buffer.from([0xff, 0x0a, 0x61]), false), ['\xff', 'a']);
});

test('compileFilterArgs: order kept, -F once and twice, clear, missing files named', () => {
  const files: Record<string, string> = { '/r/ex': '*.o\n+ keep.c\n', '/r/m': '- *.tmp\n: .inner\n' };
  const readFile = (p: string): Buffer => {
    if (!(p in files)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    return Buffer.from(files[p]);
  };
  const r = compileFilterArgs([
    { option: 'exclude', value: 'a' }, { option: 'include', value: 'b' }, { option: 'exclude-from', value: '/r/ex' },
    { option: 'filter', value: '. /r/m' }, { option: 'F', value: '' }, { option: 'F', value: '' }, { option: 'F', value: '' },
  ], { readFile });
  const shape = r.list.map((e) => (isSlot(e) ? `:${e.fileName}${e.scanParents ? '/' : ''}` : `${e.include ? '+' : '-'}${e.body}`));
  assert.equal(shape, ['-a', '+b', '-*.o', '+keep.c', '-*.tmp', ':.inner', ':.rsync-filter/', '-.rsync-filter']);
  const cleared = compileFilterArgs([{ option: 'exclude', value: 'a' }, { option: 'filter', value: '!' }, { option: 'exclude', value: 'b' }], { readFile });
  assert.is(cleared.list.length, 1);
  for (const option of ['exclude-from', 'include-from'] as const) {
    assert.throws(() => compileFilterArgs([{ option, value: '/r/none' }], { readFile }),
      (e: unknown) => e instanceof UsageError && /\/r\/none/.test((e as Error).message) && /ENOENT/.test((e as Error).message), option);
  }
  assert.throws(() => compileFilterArgs([{ option: 'filter', value: 'merge /r/gone' }], { readFile }),
    (e: unknown) => e instanceof UsageError && (e as Error).message.includes('/r/gone'));
  assert.throws(() => compileFilterArgs([{ option: 'filter', value: ': sub/.f' }], { readFile }), (e: unknown) => e instanceof UsageError);
});

test('a dir-merge file named twice is read once (rsync ignores the second)', () => {
  const r = compileFilterArgs([{ option: 'filter', value: ': .f' }, { option: 'filter', value: ':n .f' }], { readFile: () => Buffer.alloc(0) });
  assert.is(r.slots.length, 1);
  assert.is(r.slots[0].noInherit, false);
});

test.run();
