// The chart files beside BENCHMARKS.md (lib/bench/bench-charts.ts): `--charts-only`, run as the
// harness's own command line, draws every chart from the tables already written and links each
// from its block, and doing it again changes nothing; a run of one suite redraws its own charts and
// leaves every other suite's chart file untouched; a block that no longer reads as a chart loses
// its link and its file.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chartFile, writeDoc } from '../../lib/bench/bench-charts.js';
import { BEGIN, blocksOf, END, wrapBlock } from '../../lib/bench/bench-doc.js';
import { tempDir } from '../helpers/run-cli.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const HARNESS = join(ROOT, 'build', 'lib', 'bench', 'run-bench.js');
const REAL = blocksOf(readFileSync(join(ROOT, 'docs', 'BENCHMARKS.md'), 'utf8'));
const KEYS = ['set:mixed@1', 'real:real@1', 'startup:small@0.01'];

/** A BENCHMARKS.md holding three blocks of the real one (with any chart link taken out). */
function sampleDoc(dir: string): string {
  const body = KEYS.map((k) => wrapBlock(k, REAL.get(k)!.replace(/^!\[.*\]\(bench-.*\.svg\)\n\n/m, ''))).join('\n\n');
  const path = join(dir, 'BENCHMARKS.md');
  writeFileSync(path, `# Benchmarks\n\nBy hand.\n\n${BEGIN}\n\n${body}\n\n${END}\n\n## Notes\n\nBy hand too.\n`);
  return path;
}
const charts = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.svg')).sort();
const harness = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [HARNESS, ...args], { encoding: 'utf8' });
const noLog = (): void => {};

test('--charts-only draws and links every chart from the tables already there, and a second time changes nothing', () => {
  const t = tempDir('bench-charts-');
  try {
    const doc = sampleDoc(t.path);
    const r = harness('--charts-only', '--out', doc);
    assert.is(r.status, 0, String(r.stderr));
    assert.equal(charts(t.path), ['bench-real-real-1.svg', 'bench-set-mixed-1.svg'], 'the start-up table has no peers: no chart');
    const text = readFileSync(doc, 'utf8');
    const blocks = blocksOf(text);
    assert.match(blocks.get('set:mixed@1')!, /\n\n!\[Chart: mixed \(factor 1\)\]\(bench-set-mixed-1\.svg\)\n\n\| workload \|/);
    assert.match(blocks.get('real:real@1')!, /!\[Chart: Real files[^\]]*\]\(bench-real-real-1\.svg\)/);
    assert.not.match(blocks.get('startup:small@0.01')!, /\.svg\)/);
    assert.ok(text.startsWith('# Benchmarks\n\nBy hand.\n') && text.endsWith('## Notes\n\nBy hand too.\n'));
    const svgs = charts(t.path).map((f) => readFileSync(join(t.path, f), 'utf8'));
    assert.match(svgs[1]!, /backup initial/);
    assert.is(harness('--charts-only', '--out', doc).status, 0);
    assert.is(readFileSync(doc, 'utf8'), text, 'one link per block, not one more per run');
    assert.equal(charts(t.path).map((f) => readFileSync(join(t.path, f), 'utf8')), svgs);
  } finally { t.cleanup(); }
});

test('--charts-only without an existing --out file stops with exit 2 and writes nothing', () => {
  const t = tempDir('bench-charts-');
  try {
    const r = harness('--charts-only', '--out', join(t.path, 'none.md'));
    assert.is(r.status, 2);
    assert.match(String(r.stderr), /--charts-only needs an existing --out file .*none\.md/);
    assert.equal(readdirSync(t.path), []);
  } finally { t.cleanup(); }
});

test('a run of one suite redraws its charts and leaves the other suites\' chart files alone', () => {
  const t = tempDir('bench-charts-');
  try {
    const doc = sampleDoc(t.path);
    writeDoc(doc, null, blocksOf(readFileSync(doc, 'utf8')), noLog);
    const real = join(t.path, chartFile('real:real@1'));
    const before = readFileSync(real, 'utf8');
    utimesSync(real, new Date(2000, 0, 1), new Date(2000, 0, 1));
    // The snap suite measures mixed again: fxcp's first snapshot now takes 6.44 s.
    const remeasured = REAL.get('set:mixed@1')!.replace(/^!\[.*\n\n/m, '').replace(/\| backup initial \| [0-9.]+ s/, '| backup initial | 6.44 s');
    writeDoc(doc, '## Machine\n\nnew header', new Map([['set:mixed@1', remeasured]]), noLog);
    assert.match(readFileSync(join(t.path, chartFile('set:mixed@1')), 'utf8'), /backup initial: fxcp 6\.44 s/);
    assert.is(readFileSync(real, 'utf8'), before);
    assert.is(statSync(real).mtime.getFullYear(), 2000, 'the real suite\'s chart was not even rewritten');
    assert.match(blocksOf(readFileSync(doc, 'utf8')).get('real:real@1')!, /\(bench-real-real-1\.svg\)/, 'its link stays');
    assert.match(blocksOf(readFileSync(doc, 'utf8')).get('set:mixed@1')!, /\(bench-set-mixed-1\.svg\)/, 'the new block is linked');
  } finally { t.cleanup(); }
});

test('a re-measured block that no longer reads as a chart loses its link and its chart file', () => {
  const t = tempDir('bench-charts-');
  try {
    const doc = sampleDoc(t.path);
    writeDoc(doc, null, blocksOf(readFileSync(doc, 'utf8')), noLog);
    const lines: string[] = [];
    writeDoc(doc, null, new Map([['set:mixed@1', '### mixed (factor 1)\n\nfailed: every tool failed']]), (m) => lines.push(m));
    assert.not.ok(existsSync(join(t.path, chartFile('set:mixed@1'))));
    assert.ok(existsSync(join(t.path, chartFile('real:real@1'))));
    assert.not.match(readFileSync(doc, 'utf8'), /bench-set-mixed-1\.svg/);
    assert.match(lines.join('\n'), /set:mixed@1: no chart: its table does not read as one.*\nremoved .*bench-set-mixed-1\.svg/);
  } finally { t.cleanup(); }
});

test.run();
