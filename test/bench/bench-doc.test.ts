// docs/BENCHMARKS.md merging: a run replaces only its own blocks; hand-written text and the other
// suites' results survive, in a stable order with one heading per suite. (The harness itself is not
// part of `npm test`; this is the piece that could silently destroy recorded results.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BEGIN, END, mergeDoc } from '../../lib/bench/bench-doc.js';

const block = (k: string, body: string): string => `<!-- bench:block ${k} -->\n${body}\n<!-- bench:block-end ${k} -->`;

function withDoc(text: string | null, fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'bench-doc-'));
  try {
    const p = join(dir, 'BENCHMARKS.md');
    if (text !== null) writeFileSync(p, text);
    fn(p);
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

const EXISTING = [
  '# Benchmarks', '', 'Intro by hand.', '', BEGIN, '',
  block('header', '## Machine\n\nold header'), '', '## Results', '',
  block('set:mixed@1', '### mixed (factor 1)\n\nold mixed table'), '',
  block('memory', '## Memory test\n\nmemory table'), '', END, '', '## Notes', '', 'Hand-written notes | with pipes.', '',
].join('\n');

test('new suite blocks are added between the snap sets and the memory test, keeping everything else', () => {
  withDoc(EXISTING, (p) => {
    mergeDoc(p, null, new Map([
      ['lifecycle:prune1000@0.05', '### prune'], ['archive:series@1', '### series archive'],
      ['archive:mixed@1', '### mixed archive'], ['lifecycle:check@1', '### check'],
    ]));
    const doc = readFileSync(p, 'utf8');
    assert.ok(doc.startsWith('# Benchmarks\n\nIntro by hand.\n'));
    assert.ok(doc.endsWith('## Notes\n\nHand-written notes | with pipes.\n'));
    assert.ok(doc.includes(block('set:mixed@1', '### mixed (factor 1)\n\nold mixed table')));
    assert.ok(doc.includes('old header'));
    const order = ['## Machine', '## Results', 'old mixed table', '## Archives', '### mixed archive', '### series archive',
      '## Lifecycle', '### check', '### prune', '## Memory test', END, '## Notes'].map((s) => doc.indexOf(s));
    assert.ok(order.every((x) => x >= 0), `missing piece: ${order}`);
    assert.equal([...order].sort((a, b) => a - b), order);
    for (const h of ['## Results', '## Archives', '## Lifecycle']) assert.is(doc.split(`\n${h}\n`).length, 2, h);
  });
});

test('a second run replaces its blocks instead of adding copies, and the header only when given', () => {
  withDoc(EXISTING, (p) => {
    mergeDoc(p, null, new Map([['archive:mixed@1', '### mixed archive v1']]));
    mergeDoc(p, '## Machine\n\nnew header', new Map([['archive:mixed@1', '### mixed archive v2'], ['set:mixed@1', '### mixed (factor 1)\n\nnew']]));
    const doc = readFileSync(p, 'utf8');
    assert.not.ok(doc.includes('mixed archive v1'));
    assert.is(doc.split('<!-- bench:block archive:mixed@1 -->').length, 2);
    assert.ok(doc.includes('new header') && !doc.includes('old header'));
    assert.ok(doc.includes('### mixed (factor 1)\n\nnew') && !doc.includes('old mixed table'));
    assert.ok(doc.includes('memory table'));
  });
});

test('the start-up block gets its own heading, between the snap sets and the archives', () => {
  withDoc(EXISTING, (p) => {
    mergeDoc(p, null, new Map([['archive:mixed@1', '### mixed archive'], ['startup:small@0.01', '### Start-up of small commands']]));
    mergeDoc(p, null, new Map([['startup:small@0.01', '### Start-up of small commands, again']]));
    const doc = readFileSync(p, 'utf8');
    const order = ['old mixed table', '## Start-up', '### Start-up of small commands, again', '## Archives', '## Memory test'].map((s) => doc.indexOf(s));
    assert.ok(order.every((x) => x >= 0), `missing piece: ${order}`);
    assert.equal([...order].sort((a, b) => a - b), order);
    assert.is(doc.split('\n## Start-up\n').length, 2);
    assert.is(doc.split('<!-- bench:block startup:small@0.01 -->').length, 2);
  });
});

test('blocks of other factors are kept side by side, ordered by factor', () => {
  withDoc(EXISTING, (p) => {
    mergeDoc(p, null, new Map([['archive:mixed@1', 'A1'], ['archive:mixed@0.1', 'A01']]));
    const doc = readFileSync(p, 'utf8');
    assert.ok(doc.indexOf('A01') < doc.indexOf('A1\n'));
  });
});

test('a missing file starts from the template with the markers', () => {
  withDoc(null, (p) => {
    mergeDoc(p, '## Machine\n\nh', new Map([['lifecycle:check@1', '### check']]));
    const doc = readFileSync(p, 'utf8');
    assert.ok(doc.startsWith('# Benchmarks'));
    assert.ok(doc.indexOf(BEGIN) < doc.indexOf('### check') && doc.indexOf('### check') < doc.indexOf(END));
  });
});

test.run();
