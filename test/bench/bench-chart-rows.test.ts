// The chart figures read back from a block's tables (lib/bench/bench-chart-rows.ts): the tables
// the snap and copy suites render give back the figures they were rendered from, the other suites'
// layouts are read from their blocks in docs/BENCHMARKS.md (so a suite whose table changes shape
// fails here instead of silently losing its chart), and each suite's targets land where they should.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Measure } from '../../lib/bench/bench-measure.js';
import { bytesOf, CHARTED_KINDS, chartOfBlock, secondsOf, tablesOf } from '../../lib/bench/bench-chart-rows.js';
import { blocksOf } from '../../lib/bench/bench-doc.js';
import { renderCopyFs } from '../../lib/bench/copy-report.js';
import type { ChartRow } from '../../lib/bench/ratio-chart.js';
import { renderSet } from '../../lib/bench/snap-report.js';

const DOC = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'docs', 'BENCHMARKS.md');
const ok = (secs: number, rssMiB = 100): Measure => ({ state: 'ok', secs, min: secs, max: secs, rssKiB: rssMiB * 1024 });
const rowOf = (rows: ChartRow[], label: RegExp): ChartRow => {
  const r = rows.find((x) => label.test(x.label));
  assert.ok(r, `no row ${label} in ${rows.map((x) => x.label).join(', ')}`);
  return r!;
};
const MiB = 1024 * 1024;

test('cells: times and sizes with their units, nothing from other cells', () => {
  assert.is(secondsOf('0.66 s (0.62–0.67)'), 0.66);
  assert.is(secondsOf('615 ms'), 0.615);
  assert.is(secondsOf('2.7 MiB (1.43x)'), undefined);
  assert.is(secondsOf('—'), undefined);
  assert.is(bytesOf('1.50 GiB'), 1.5 * 1024 ** 3);
  assert.is(bytesOf('180.0 KiB'), 180 * 1024);
  assert.is(bytesOf('0 B'), 0);
  assert.is(bytesOf('0.66 s'), undefined);
  const [t] = tablesOf('text\n\n| a | b |\n|---|---|\n| `tar \\| zstd` | 1 s |\n\nmore');
  assert.equal(t, { header: ['a', 'b'], rows: [['`tar | zstd`', '1 s']] });
});

test('a snap table gives back the figures it was rendered from, with its ratios and issue 2\'s targets', () => {
  const res = {
    set: 'mixed', factor: 1, runs: 3, warmup: 1, date: '2026-12-05T00:00:00Z', series: false,
    input: { files: 10, bytes: 2 * 1024 * MiB, median: null }, restoreFile: { rel: 'a/b', size: 64000 },
    m: {
      initial: { fxcp: ok(3.2, 226), restic: ok(12.8, 139), borg: ok(11.2, 78), tar: ok(9), ref: ok(2.8) },
      second: { fxcp: ok(0.2, 63), restic: ok(1.2, 73), borg: ok(0.6, 78), tar: ok(9), ref: ok(0.2) },
      restore: { fxcp: ok(0.05, 53), restic: ok(0.72, 62), borg: ok(0.29, 78), tar: ok(2), ref: ok(0.03) },
      restoreAll: { fxcp: ok(5.4, 224), restic: ok(12.4, 96), borg: ok(17, 79), tar: ok(12), ref: ok(8) },
    },
    stored: { fxcp: 1536 * MiB, restic: 1570 * MiB, borg: 1530 * MiB, tar: 1540 * MiB, ref: 2048 * MiB }, added: {}, notes: [],
    directSecond: { fxcp: ok(0.166), restic: ok(1.19), borg: ok(0.635) },
    direct: { ours: ok(0.046), node: ok(0.023) },
  } as unknown as Parameters<typeof renderSet>[0];
  const md = renderSet(res, new Set(['fxcp', 'restic', 'borg', 'tar', 'ref']) as Parameters<typeof renderSet>[1]);
  const c = chartOfBlock('set:mixed@1', md)!;
  assert.ok(c, md);
  assert.is(c.title, 'mixed (factor 1)');
  const first = rowOf(c.rows, /^backup initial$/);
  assert.equal([first.unit, first.ours, first.peers.map((p) => [p.name, p.value, p.ratio])], ['s', 3.2, [['restic', 12.8, '4.0x faster'], ['borg zstd,3', 11.2, '3.5x faster']]]);
  const again = rowOf(c.rows, /^backup again/);
  assert.is(again.target?.label, '3x faster than both');
  assert.ok(Math.abs(again.target!.value - 0.2) < 1e-9, 'one third of the faster peer (borg, 0.6 s)');
  assert.equal(rowOf(c.rows, /^restore 1 file/).target, { value: 150, label: 'under 150 ms' });
  const stored = rowOf(c.rows, /^stored/);
  assert.equal([stored.unit, stored.ours, stored.words], ['GiB', 1.5, ['smaller', 'larger']]);
  const rss = rowOf(c.rows, /^peak RSS, initial/);
  assert.equal([rss.unit, rss.ours, rss.peers[1]!.value, rss.words], ['MiB', 226, 78, ['less', 'more']]);
  assert.not.ok(c.rows.some((r) => r.peers.some((p) => /tar|cp -a/.test(p.name))), 'reference columns are not peers');
});

test('a copy table: a row per set and step, ratios computed, issue 21\'s targets', () => {
  const tool = (cold: number, rerun: number): { cold: Measure; rerun: Measure; used: number } => ({ cold: ok(cold, 60), rerun: ok(rerun, 60), used: 1e9 });
  const md = renderCopyFs({
    fs: 'ext4', label: 'ext4', cow: false, date: '2026-12-05T12:00:00Z', factor: 1, runs: 3, warmup: 1, skipped: null, notes: [],
    sets: [
      { set: 'small', files: 10, bytes: 1e9, srcUsed: 1e9, tools: { fxcp: tool(0.7, 0.44), cp: tool(0.5, 2.9), rsync: tool(0.75, 0.2) } },
      { set: 'mixed', files: 10, bytes: 1e9, srcUsed: 1e9, tools: { fxcp: tool(5.6, 0.46), cp: tool(5, 4.4), rsync: tool(9.3, 0.37) } },
    ],
  } as Parameters<typeof renderCopyFs>[0]);
  const c = chartOfBlock('copy:ext4@1', md)!;
  assert.equal(c.rows.map((r) => r.label), ['small: cold copy', 'small: re-run, nothing changed', 'mixed: cold copy', 'mixed: re-run, nothing changed']);
  const small = c.rows[0]!;
  assert.equal([small.unit, small.ours, small.peers.map((p) => [p.name, p.value])], ['ms', 700, [['cp -a', 500], ['rsync -a', 750]]]);
  assert.is(small.target?.label, 'within 1.1x of cp -a');
  assert.ok(Math.abs(small.target!.value - 550) < 1e-9, `${small.target?.value}`);
  assert.ok(Math.abs(c.rows[2]!.target!.value - 3.1) < 1e-9, 'mixed: 3x faster than rsync (9.3 / 3) binds before 1.1x cp (5.5)');
  assert.equal(c.rows[3]!.target, { value: 0.37, label: 'faster than rsync -a' });
  assert.is(c.rows[1]!.target, undefined);
});

test('every block of docs/BENCHMARKS.md that compares fxcp with peers draws a chart', () => {
  const blocks = blocksOf(readFileSync(DOC, 'utf8'));
  const kinds = new Set<string>();
  for (const [key, md] of blocks) {
    const kind = key.slice(0, key.indexOf(':'));
    if (!CHARTED_KINDS.includes(kind)) continue;
    kinds.add(kind);
    const c = chartOfBlock(key, md);
    assert.ok(c && c.rows.length >= 2, `${key}: its table no longer reads as a chart (lib/bench/bench-chart-rows.ts)`);
    for (const r of c!.rows) {
      assert.ok(r.ours >= 0 && r.peers.length > 0 && r.peers.every((p) => p.value >= 0), `${key}: ${r.label}`);
      if (r.target) assert.ok(r.target.value > 0, `${key}: ${r.label} target`);
    }
  }
  for (const k of ['set', 'real', 'archive', 'lifecycle', 'copy', 'incremental', 'ssh', 's3']) assert.ok(kinds.has(k), `no ${k} block read`);
  assert.is(chartOfBlock('startup:small@0.01', blocks.get('startup:small@0.01') ?? ''), null, 'no peers in the start-up table');
});

test('tool tables (archive, ssh): our first row per step beside the peers, by wall time and by size', () => {
  const md = [
    '### archive: mixed (factor 1)', '',
    '| step | tool | command | wall | MB/s (raw ÷ wall) | output | peak RSS | vs fxcp |', '|---|---|---|---|---|---|---|---|',
    '| export | fxcp | `fxcp snap export STORE -o a.fxar` | 2.49 s (2.19–3.37) | 862 | 1.49 GiB | 121 MiB |  |',
    '| export | fxcp | `fxcp snap export STORE --format tar` | 9.76 s | 220 | 1.48 GiB | 260 MiB |  |',
    '| export | tar+zstd -3 | `tar -cf - src \\| zstd -3 -T1` | 9.11 s | 236 | 1.51 GiB | 54 MiB | fxcp 3.7x faster |',
    '| export | borg | `borg export-tar REPO::a a.tar` | 8.40 s | 256 | 2.01 GiB | 84 MiB | fxcp 3.4x faster |',
    '| export | borg | `borg export-tar REPO::a a.tar.zst` | 11.2 s | 192 | 1.51 GiB | 84 MiB | fxcp 4.5x faster |',
    '| restore 1 file (62.6 KiB) | fxcp | `fxcp snap restore` | 0.04 s |  |  | 48 MiB |  |',
    '| restore 1 file (62.6 KiB) | node -e 0 | `Node starting alone (not a restore)` | 0.03 s |  |  | 38 MiB | fxcp 1.3x slower |',
  ].join('\n');
  const c = chartOfBlock('archive:mixed@1', md)!;
  assert.equal(c.rows.map((r) => r.label), ['export', 'export, output'], 'node -e 0 is not a peer: no restore row');
  assert.equal(c.rows[0]!.peers.map((p) => [p.name, p.value, p.ratio]), [['tar+zstd -3', 9.11, '3.7x faster'], ['borg a.tar', 8.4, '3.4x faster'], ['borg a.tar.zst', 11.2, '4.5x faster']]);
  assert.equal(c.rows[0]!.target, { value: 9.11, label: 'as fast as tar | zstd -3' });
  assert.equal([c.rows[1]!.unit, c.rows[1]!.ours, c.rows[1]!.peers[1]!.value], ['GiB', 1.49, 2.01]);
});

test.run();
