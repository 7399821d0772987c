// The copy suite's report (lib/bench/copy-report.ts) and option parsing: ratios, fxcp's strategy
// count read from its --stats, issue 21's verdicts and the table. No timing here: the measures are
// made up, so what is checked is what the report says about them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Measure } from '../../lib/bench/bench-measure.js';
import { copySets, copyTools, parseFsList } from '../../lib/bench/copy-bench.js';
import {
  allReflinked, fasterThanRsync, parseCopiedBy, rate, renderCopyFs, rerunFaster, targetLines, timeRatio, withinCp,
  type CopyFsResult, type CopySetResult,
} from '../../lib/bench/copy-report.js';
import { imageBytesFor } from '../../lib/bench/loop-mount.js';
import { parseBenchArgs } from '../../lib/bench/bench-options.js';

const s = (secs: number): Measure => ({ state: 'ok', secs, min: secs, max: secs, rssKiB: 51200 });
const failed = (note: string): Measure => ({ state: 'failed', note });

function set(name: string, cold: [number, number, number], rerun: [number, number, number], extra: Partial<CopySetResult> = {}): CopySetResult {
  return {
    set: name, files: 10, bytes: 1e9, srcUsed: 1e9,
    tools: {
      fxcp: { cold: s(cold[0]), rerun: s(rerun[0]), used: 1e9 },
      cp: { cold: s(cold[1]), rerun: s(rerun[1]), used: 1e9 },
      rsync: { cold: s(cold[2]), rerun: s(rerun[2]), used: 1e9 },
    },
    ...extra,
  };
}

function fsResult(sets: CopySetResult[], o: Partial<CopyFsResult> = {}): CopyFsResult {
  return { fs: 'xfs', label: 'xfs (loop, reflink=1)', cow: true, date: '2026-12-05T12:00:00Z', factor: 1, runs: 3, warmup: 1, sets, skipped: null, notes: [], ...o };
}

test('timeRatio is fxcp ÷ the other, two decimals, empty when a side is missing', () => {
  assert.is(timeRatio(1.1, 1), '1.10');
  assert.is(timeRatio(0.5, 2), '0.25');
  assert.is(timeRatio(30, 2), '15');
  assert.is(timeRatio(undefined, 2), '');
  assert.is(timeRatio(1, 0), '');
  assert.is(rate(2e9, 1), '2.0 GB/s');
  assert.is(rate(4.5e8, 1), '450 MB/s');
  assert.is(rate(5e6, 1), '5.0 MB/s');
});

test('parseCopiedBy reads the "Copied by" line of fxcp --stats, thousands separators included', () => {
  const stats = 'Number of files: 5,012 (reg: 5,000, dir: 12, link: 0, special: 0)\nTotal file size: 2,147,483,648 bytes\n' +
    'Copied by: reflink 4,990, read-write 10\nTime: 1.20 s, 1.7 GiB/s\n';
  assert.equal(parseCopiedBy(stats), { reflink: 4990, 'read-write': 10 });
  assert.equal(parseCopiedBy('Copied by: copy-range 3\n'), { 'copy-range': 3 });
  assert.is(parseCopiedBy('Number of files: 3\nTime: 0.02 s\n'), null);
});

test('verdicts: within 1.1x of cp (the boundary included), 3x rsync, reflink of every file, re-run faster than rsync', () => {
  assert.is(withinCp(set('mixed', [1.1, 1, 3], [0.1, 1, 0.2])), true);
  assert.is(withinCp(set('mixed', [1.12, 1, 3], [0.1, 1, 0.2])), false);
  assert.is(fasterThanRsync(set('mixed', [1, 1, 3], [0.1, 1, 0.2])), true);
  assert.is(fasterThanRsync(set('mixed', [1, 1, 2.9], [0.1, 1, 0.2])), false);
  assert.is(rerunFaster(set('mixed', [1, 1, 3], [0.1, 1, 0.2])), true);
  assert.is(rerunFaster(set('mixed', [1, 1, 3], [0.2, 1, 0.2])), false);
  assert.is(allReflinked(set('large', [0.1, 0.1, 3], [0.1, 1, 0.2], { copiedBy: { reflink: 10 } })), true);
  assert.is(allReflinked(set('large', [0.1, 0.1, 3], [0.1, 1, 0.2], { copiedBy: { reflink: 9, 'read-write': 1 } })), false);
  assert.is(allReflinked(set('large', [0.1, 0.1, 3], [0.1, 1, 0.2], { copiedBy: null })), undefined);
  // A failed side is not measured, never met.
  const broken = set('mixed', [1, 1, 3], [0.1, 1, 0.2]);
  broken.tools.fxcp!.cold = failed('wrong copy: a: contents differ');
  assert.is(withinCp(broken), undefined);
  assert.is(fasterThanRsync(broken), undefined);
});

test('target lines: the rsync target only on large, mixed and sparse, the reflink target only on copy-on-write file systems', () => {
  const sets = [set('small', [1, 1, 1.5], [0.1, 1, 0.2]), set('large', [0.05, 0.05, 4], [0.1, 0.05, 0.2], { copiedBy: { reflink: 10 } }),
    set('mixed', [2, 1.5, 6], [0.3, 1.5, 0.2])];
  const cow = targetLines(fsResult(sets)).join('\n');
  assert.match(cow, /within 1\.1x of `cp -a` \(fxcp\/cp ≤ 1\.1\) on every set: small 1\.00 met; large 1\.00 met; mixed 1\.33 \*\*not met\*\*/);
  assert.match(cow, /on large, mixed, sparse: large 0\.01 met; mixed 0\.33 met\n/);
  assert.not.match(cow, /small 0\.67/);
  assert.match(cow, /large files by reflink in near-constant time: large 10 of 10 files by reflink, 953\.7 MiB in 0\.05 s \(20\.0 GB\/s apparent\) met/);
  assert.match(cow, /re-run of mixed faster than rsync's: mixed 0\.30 s vs 0\.20 s \*\*not met\*\*/);
  const ext4 = targetLines(fsResult(sets, { cow: false })).join('\n');
  assert.not.match(ext4, /reflink/);
  assert.match(targetLines(fsResult([set('small', [1, 1, 1], [1, 1, 1])])).join('\n'), /re-run of mixed faster than rsync's: not measured \(no such set in this run\)/);
});

test('the table: a row per set and step, a failed copy named, new space on copy-on-write file systems, factor below 1 said', () => {
  const a = set('large', [0.05, 0.04, 4], [0.1, 0.05, 0.2], { copiedBy: { reflink: 10 } });
  a.tools.fxcp!.newSpace = 0;
  a.tools.rsync!.newSpace = 1.05e9;
  const b = set('sparse', [1, 1, 3], [0.1, 1, 0.2]);
  b.tools.rsync!.cold = failed('wrong copy: f1: contents differ');
  const md = renderCopyFs(fsResult([a, b], { factor: 0.1 }));
  assert.match(md, /^### xfs \(loop, reflink=1\), factor 0\.1\n/);
  assert.match(md, /\| large \(10 files, 953\.7 MiB\) \| cold copy \| 0\.05 s \| 0\.04 s \| 4\.00 s \| 1\.25 \| 0\.01 \|/);
  assert.match(md, /\|  \| re-run, nothing changed \| 0\.10 s \| 0\.05 s \(copies all again\) \| 0\.20 s \| 2\.00 \| 0\.50 \|/);
  assert.match(md, /\| sparse \(10 files, 953\.7 MiB\) \| cold copy \| 1\.00 s \| 1\.00 s \| failed: wrong copy: f1: contents differ \| 1\.00 \|  \|/);
  assert.match(md, /\| large \| 953\.7 MiB \| 953\.7 MiB \(new: 0 B\) \| 953\.7 MiB \| 953\.7 MiB \(new: 1001\.4 MiB\) \| 50 MiB \| 50 MiB \| 50 MiB \| reflink 10 \|/);
  assert.match(md, /Targets \(issue 21; they are for factor 1, this is factor 0\.1\):/);
  assert.match(md, /cold copy, MB\/s/);
  const skipped = renderCopyFs(fsResult([], { skipped: 'not root: loop mounts need root', label: 'btrfs (loop)' }));
  assert.is(skipped, '### btrfs (loop), factor 1\n\n2026-12-05T12:00:00Z: not measured: not root: loop mounts need root.\n');
});

test('options: --suite copy with --fs, the copy sets among --sets, cp and rsync as the ref tool; images follow the set size', () => {
  const o = parseBenchArgs(['--suite', 'copy', '--fs', 'xfs,btrfs', '--sets', 'mixed,series,sparse']);
  assert.equal([...o.suites], ['copy']);
  assert.equal(o.fs, ['xfs', 'btrfs']);
  assert.equal(copySets(o.sets), ['mixed', 'sparse']);
  assert.equal(parseBenchArgs([]).fs, ['ext4', 'xfs', 'btrfs']);
  assert.ok(parseBenchArgs(['--suite', 'all']).suites.has('copy'));
  assert.throws(() => parseFsList('xfs,zfs'), /unknown file system zfs/);
  assert.equal(copyTools(new Set(['fxcp', 'ref'])), ['fxcp', 'cp', 'rsync']);
  assert.equal(copyTools(new Set(['ref'])), ['cp', 'rsync']);
  const GiB = 1024 ** 3;
  assert.is(imageBytesFor(1e6, 5), GiB);
  assert.ok(imageBytesFor(2 * GiB, 5) >= 12.5 * GiB && imageBytesFor(2 * GiB, 5) < 13.5 * GiB);
  assert.is(imageBytesFor(2 * GiB, 5) % (1024 * 1024), 0);
});

test('Node\'s start beside what 1.1x cp leaves: a set whose budget is under it is named as one no Node program meets', () => {
  const lines = targetLines(fsResult([
    set('large', [0.06, 0.01, 1.2], [0.06, 0.01, 0.05], { nodeStart: s(0.03) }),
    set('mixed', [0.3, 0.25, 2.6], [0.2, 0.25, 0.3], { nodeStart: s(0.03) }),
  ])).join('\n');
  assert.match(lines, /large 0\.011 s \/ 0\.030 s \(under Node's start: no Node program can meet it\)/);
  assert.match(lines, /mixed 0\.275 s \/ 0\.030 s(;|$)/m);
  // Without the measure (an older run, or fxcp not among the tools) there is no such line.
  assert.not.match(targetLines(fsResult([set('large', [0.06, 0.01, 1.2], [0.06, 0.01, 0.05])])).join('\n'), /Node's own start/);
});

test.run();
