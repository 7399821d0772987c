// The progress display's pure part (lib/cli/progress-bar.ts): the line for a terminal or a log,
// the JSON record, the done share and ETA; and the phases of lib/util/progress.ts. What the
// commands draw, on a real pty and in pipes, is test/integration/progress.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { doneFraction, etaSeconds, formatDuration, progressLine, progressRecord, type ProgressView } from '../../lib/cli/progress-bar.js';
import { startPhase, type Progress } from '../../lib/util/progress.js';

const MiB = 1 << 20;
const view = (over: Partial<ProgressView> = {}): ProgressView => ({
  label: 'snapshot', unit: 'files', files: 7526, bytes: 145.4 * MiB, totalFiles: null, totalBytes: null, seconds: 2, ...over,
});

test('without a total: a plain counter of bytes, files and rate, no bar, percent or ETA', () => {
  const line = progressLine(view(), 200);
  assert.is(line, 'snapshot 145.4 MiB, 7526 files, 72.7 MiB/s');
  assert.is(doneFraction(view()), null);
  assert.is(etaSeconds(view()), null);
});

test('with a total: a bar, the percent, bytes of the total, files of the total, rate and ETA', () => {
  const v = view({ totalBytes: 290.8 * MiB, totalFiles: 15052 });
  const line = progressLine(v, 200);
  assert.match(line, /^snapshot \[#{15}\.{15}\]  50\.0% 145\.4 MiB \/ 290\.8 MiB, 7526\/15052 files, 72\.7 MiB\/s, ETA 2s$/);
  assert.is(doneFraction(v), 0.5);
  assert.is(etaSeconds(v), 2);
});

test('the bar is full and the ETA 0 when the counters reach the total; counters past a total that grew stay at 100%', () => {
  assert.match(progressLine(view({ bytes: 10, totalBytes: 10, totalFiles: 7526 }), 120), /\[#+\] 100\.0% .*ETA 0s$/);
  assert.is(doneFraction(view({ bytes: 12, totalBytes: 10 })), 1);
  assert.match(progressLine(view({ bytes: 12, totalBytes: 10 }), 120), / 100\.0% /);
});

test('a total of nothing is done; without bytes the files give the share; a phase counting no bytes shows its count alone', () => {
  assert.is(doneFraction(view({ bytes: 0, files: 0, totalBytes: 0, totalFiles: 0 })), 1);
  assert.is(doneFraction(view({ bytes: 0, files: 1, totalBytes: null, totalFiles: 4 })), 0.25);
  const mark = progressLine(view({ label: 'gc mark', unit: 'snapshots', bytes: 0, files: 1, totalFiles: 4 }), 100);
  assert.match(mark, /^gc mark \[#+\.+\]  25\.0% 1\/4 snapshots, ETA 6s$/);
  assert.not.match(mark, /B\/s/);
});

test('the line never reaches the last column, however narrow the terminal: parts go, then it is cut', () => {
  const states = [view(), view({ totalBytes: 2 ** 40, totalFiles: 1e7, files: 1234567 }), view({ label: 'check read-data', unit: 'packs', totalBytes: 300 * MiB, totalFiles: 12 })];
  for (const v of states) {
    for (let cols = 1; cols <= 160; cols++) {
      const line = progressLine(v, cols);
      assert.ok(line.length <= Math.max(1, cols - 1), `${cols} columns: ${JSON.stringify(line)} (${line.length})`);
      assert.not.match(line, /[\r\n]/);
    }
  }
  // At 80 columns a known total keeps its bar and ETA (the count goes first).
  const at80 = progressLine(states[1], 80);
  assert.match(at80, /\[#*\.+\] +\d+\.\d% .*ETA /, at80);
  // The bar never grows past 30 cells on a wide terminal.
  assert.match(progressLine(states[1], 400), /\[[#.]{30}\]/);
});

test('the JSON record: counters, totals, percent, rate and ETA, null where unknown', () => {
  assert.equal(progressRecord(view()), {
    progress: 'snapshot', files: 7526, bytes: 145.4 * MiB, unit: 'files', totalFiles: null, totalBytes: null, percent: null,
    bytesPerSecond: Math.round(72.7 * MiB), etaSeconds: null,
  });
  const r = progressRecord(view({ label: 'gc sweep', unit: 'packs', files: 3, bytes: 30, totalFiles: 4, totalBytes: 40, seconds: 3 }), 'sweep');
  assert.is(r.phase, 'sweep');
  assert.is(r.percent, 75);
  assert.is(r.etaSeconds, 1);
});

test('startPhase names the phase, resets the counters, sets its totals, and lets a display draw the end of the one before', () => {
  const ends: string[] = [];
  const p: Progress = { files: 5, bytes: 50 };
  p.onPhaseEnd = () => ends.push(`${p.phase} ${p.files}`);
  startPhase(p, 'mark', 'snapshots', 3, null);
  assert.equal(ends, [], 'no phase before the first');
  p.files = 3;
  startPhase(p, 'sweep', 'packs', 8, 800);
  assert.equal(ends, ['mark 3']);
  assert.equal([p.phase, p.unit, p.files, p.bytes, p.totalFiles, p.totalBytes], ['sweep', 'packs', 0, 0, 8, 800]);
  assert.type(p.phaseStarted, 'number');
  startPhase(undefined, 'x', 'y', null, null); // no counters: nothing to do
});

test('durations: seconds, minutes and seconds, hours and minutes', () => {
  assert.is(formatDuration(5.4), '5s');
  assert.is(formatDuration(65), '1m05s');
  assert.is(formatDuration(3 * 3600 + 7 * 60 + 9), '3h07m');
});

test.run();
