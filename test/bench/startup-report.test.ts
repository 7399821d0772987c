// The start-up budget's arithmetic and table (lib/bench/paired-stats.ts, startup-report.ts) and
// how the harness's options select the startup suite. No timing here: the measures are made up, so
// what is checked is what the table says about them (differences taken round by round, verdicts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DirectTimes, Measure } from '../../lib/bench/bench-measure.js';
import { median, pairedDiff, roundOrder } from '../../lib/bench/paired-stats.js';
import { parseBenchArgs } from '../../lib/bench/bench-options.js';
import { diffMs, renderStartup, signedMs, targetCell, type StartupResult, type StartupRow } from '../../lib/bench/startup-report.js';

/** A measure from samples in ms, as timedDirectRounds reports it (seconds, with the samples kept). */
function m(...msSamples: number[]): Measure {
  const s = msSamples.map((x) => x / 1000);
  return { state: 'ok', secs: median(s), min: Math.min(...s), max: Math.max(...s), samples: s };
}
const times = (ours: Measure, node: Measure, base?: Measure): DirectTimes => ({ ours, node, runs: ours.samples?.length ?? 0, ...(base ? { base } : {}) });

test('roundOrder: in order, or backwards on odd rounds when alternating (warm-up rounds included)', () => {
  assert.equal(roundOrder(3, 0, true), [0, 1, 2]);
  assert.equal(roundOrder(3, 1, true), [2, 1, 0]);
  assert.equal(roundOrder(3, -3, true), [2, 1, 0]);
  assert.equal(roundOrder(3, -2, true), [0, 1, 2]);
  assert.equal(roundOrder(2, 1, false), [0, 1]);
});

test('pairedDiff takes differences round by round: a drift common to both cancels, unlike a difference of medians', () => {
  // The machine slows down over the rounds; b is always 2 ms faster than a in the same round.
  const a = [50, 52, 90, 95, 97];
  const b = [48, 50, 88, 93, 95];
  assert.is(pairedDiff(a, b), 2);
  // Rounds 4 and 5 slow both down, round 3 only b: the difference of medians says -38 ms.
  const c = [50, 50, 50, 90, 90];
  const d = [48, 48, 88, 88, 88];
  assert.is(median(c) - median(d), -38);
  assert.is(pairedDiff(c, d), 2);
  // The pairing is by round: the same samples in another order give another answer.
  assert.is(pairedDiff([10, 20, 30, 100], [9, 19, 29, 99]), 1);
  assert.is(pairedDiff([10, 20, 30, 100], [99, 9, 19, 29]), 11);
  assert.is(pairedDiff([1, 2], [1]), undefined);
  assert.is(pairedDiff([], []), undefined);
  assert.is(median([3, 1, 2, 10]), 2.5);
});

test('diffMs and signedMs: ms with a sign, undefined for a failed side', () => {
  assert.is(diffMs(m(60, 61, 62), m(50, 50, 50))!.toFixed(6), '11.000000');
  assert.is(diffMs(m(50, 50, 50, 90, 90), m(48, 48, 88, 88, 88))!.toFixed(6), '2.000000'); // round by round, not -38
  assert.is(diffMs({ state: 'failed', note: 'x' }, m(1)), undefined);
  assert.is(signedMs(1.44), '+1.4 ms');
  assert.is(signedMs(-0.6), '−0.6 ms');
  assert.is(signedMs(-0.01), '+0.0 ms');
});

test('targetCell: within 10 ms of the baseline (round by round) and the row\'s own target', () => {
  const node = m(20, 20, 20);
  const row = (ours: Measure, base: Measure | undefined, targetMs?: number): StartupRow => ({ command: 'c', t: times(ours, node, base), targetMs });
  assert.is(targetCell(row(m(50, 51, 52), m(45, 46, 47), 150), true), 'within 10 ms: met; < 150 ms: met');
  assert.is(targetCell(row(m(60, 61, 160), m(45, 46, 47), 150), true), 'within 10 ms: **not met**; < 150 ms: met');
  assert.is(targetCell(row(m(101, 102, 103), m(100, 100, 100), 100), true), 'within 10 ms: met; < 100 ms: **not met**');
  assert.is(targetCell(row(m(10, 10, 10), { state: 'failed', note: 'setup: x' }), true), 'within 10 ms: not measured');
  assert.is(targetCell(row(m(10, 10, 10), undefined), false), '—');
});

const result = (baseline: boolean): StartupResult => ({
  date: '2026-12-05T00:00:00Z', setup: 'Store: made up.', ours: '0.1.0, commit aaaaaaa',
  baseline: baseline ? { path: '/old/bin/fxcp', what: '0.1.0, commit bbbbbbb' } : null,
  rows: [
    { command: 'fxcp --version', t: times(m(40, 42, 44), m(25, 26, 27), baseline ? m(39, 40, 41) : undefined) },
    { command: 'fxcp snap restore a.fxar -o DIR --latest --file REL', targetMs: 100,
      t: times(m(60, 70, 80), m(25, 26, 27), baseline ? { state: 'failed', note: 'setup: no | such' } : undefined) },
  ],
});

test('renderStartup with a baseline: before, after, the difference, over node -e 0, targets', () => {
  const md = renderStartup(result(true));
  const lines = md.split('\n');
  const hdr = lines.find((l) => l.startsWith('| command'))!;
  assert.is(hdr, '| command | before | after | after − before | `node -e 0` | over `node -e 0`: before / after | targets |');
  assert.ok(md.includes('Before: `/old/bin/fxcp` (0.1.0, commit bbbbbbb). After: this build (0.1.0, commit aaaaaaa).'));
  assert.ok(md.includes('median of 3 rounds'));
  const version = lines.find((l) => l.startsWith('| `fxcp --version`'))!;
  assert.is(version, '| `fxcp --version` | 40 ms (39–41) | 42 ms (40–44) | +2.0 ms | 26 ms (25–27) | +14.0 ms / +16.0 ms | within 10 ms: met |');
  const restore = lines.find((l) => l.startsWith('| `fxcp snap restore'))!;
  // A failed baseline: its cell says why (pipes escaped for the table), no difference, no verdict.
  assert.ok(restore.includes('| failed: setup: no / such | 70 ms (60–80) |  |'), restore);
  assert.ok(restore.endsWith('| within 10 ms: not measured; < 100 ms: met |'), restore);
  for (const l of lines.filter((x) => x.startsWith('|'))) assert.is(l.split('|').length, 9, l);
});

test('renderStartup without a baseline: ours beside node -e 0, and it says there is no comparison', () => {
  const md = renderStartup(result(false));
  assert.ok(md.includes('| command | fxcp | `node -e 0` | over `node -e 0` | target |'));
  assert.ok(md.includes('| `fxcp --version` | 42 ms (40–44) | 26 ms (25–27) | +16.0 ms | — |'));
  assert.ok(md.includes('| 70 ms (60–80) | 26 ms (25–27) | +44.0 ms | < 100 ms: met |'));
  assert.ok(md.includes('No baseline (`--baseline-fxcp`)'));
  assert.not.ok(md.includes('after − before'));
});

test('harness options: the startup suite runs by default, with --sets startup alone, and not with other --sets only', () => {
  const suites = (...argv: string[]): string[] => [...parseBenchArgs(argv).suites].sort();
  assert.equal(suites(), ['snap', 'startup']);
  assert.equal(suites('--sets', 'startup'), ['snap', 'startup']);
  assert.equal(parseBenchArgs(['--sets', 'startup']).sets, []);
  assert.equal(suites('--sets', 'small,mixed'), ['snap']);
  assert.equal(suites('--sets', 'small,startup'), ['snap', 'startup']);
  assert.equal(suites('--suite', 'archive', '--sets', 'mixed'), ['archive']);
  assert.equal(suites('--suite', 'all'), ['archive', 'copy', 'daemon', 'incremental', 'lifecycle', 'real', 's3', 'snap', 'ssh', 'startup']);
  assert.is(parseBenchArgs([]).startupRuns, 21);
  assert.throws(() => parseBenchArgs(['--startup-runs', '5']), /≥ 21/);
  assert.throws(() => parseBenchArgs(['--baseline-fxcp', '/nonexistent/fxcp']), /no such file/);
  assert.throws(() => parseBenchArgs(['--sets', 'startupp']), /unknown set startupp/);
});

test.run();
