/**
 * --progress on every long command, through the real CLI:
 * - on a terminal (a pty made by `script`): a bar with a percentage that reaches 100% (the
 *   counters meet the totals: a snapshot whose files are unchanged too), redrawn in place and
 *   cleared before the result is printed;
 * - in a pipe: stdout exactly as without --progress (durations, rates and new ids aside), and
 *   stderr holds nothing but plain progress lines;
 * - with --json: stdout one JSON document, every stderr line a JSON object, the last record of
 *   the command's main phase at 100%.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seededBytes } from '../helpers/seeded.js';
import { FXCP, fxcp, haveCommand, tempDir } from '../helpers/run-cli.js';

const t = tempDir();
const src = join(t.path, 'src');
const store = join(t.path, 'store');
const fxar = join(t.path, 'all.fxar');
const tar = join(t.path, 'latest.tar');

function write(i: number, seed: number): void {
  mkdirSync(join(src, `d${i % 3}`), { recursive: true });
  writeFileSync(join(src, `d${i % 3}`, `f${i}.bin`), seededBytes((1 << 18) + 4099 * i, seed));
}

function setup(): void {
  for (let i = 0; i < 24; i++) write(i, i);
  // A sparse file: the restore writes its data, and its holes count too (as the snapshot counts its size).
  writeFileSync(join(src, 'd1', 'sparse'), seededBytes(1 << 16, 99));
  truncateSync(join(src, 'd1', 'sparse'), 4 << 20);
  const ok = (args: string[]) => { const r = fxcp(args); if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`); };
  ok(['snap', 'create', src, store]);
  for (let i = 0; i < 6; i++) write(i, 100 + i); // garbage for prune, changed files for the next snapshot
  ok(['snap', 'create', src, store]);
  ok(['snap', 'export', store, '-o', fxar]);
  ok(['snap', 'export', store, '-o', tar]);
}

interface Case {
  name: string;
  /** The label of the line that reaches 100% (the command's main phase). */
  label: string;
  /** argv of one run; `run` names what that run may create (a store, an output). */
  args(run: string): string[];
  /** Prepares what the run changes (its own copy of the store). */
  prepare?(run: string): void;
  env?: NodeJS.ProcessEnv;
}

const copyStore = (run: string) => cpSync(store, join(t.path, `store-${run}`), { recursive: true });
const CASES: Case[] = [
  { name: 'snap create', label: 'snapshot', args: (run) => ['snap', 'create', src, join(t.path, `new-${run}`)] },
  { name: 'snap create, every file unchanged', label: 'snapshot', prepare: copyStore, args: (run) => ['snap', 'create', src, join(t.path, `store-${run}`)] },
  { name: 'snap restore from a store', label: 'restore', args: (run) => ['snap', 'restore', store, '-o', join(t.path, `r-${run}`)] },
  { name: 'snap restore in workers', label: 'restore', env: { FOXING_RESTORE_POOL_BYTES: '0' }, args: (run) => ['snap', 'restore', store, '-o', join(t.path, `r-${run}`)] },
  { name: 'snap restore from an archive', label: 'restore', args: (run) => ['snap', 'restore', fxar, '-o', join(t.path, `r-${run}`)] },
  { name: 'snap restore --file', label: 'restore', args: (run) => ['snap', 'restore', store, '-o', join(t.path, `r-${run}`), '--file', 'd1/*'] },
  { name: 'snap export (FXAR)', label: 'export', args: (run) => ['snap', 'export', store, '-o', join(t.path, `e-${run}.fxar`)] },
  { name: 'snap export (tar)', label: 'export', args: (run) => ['snap', 'export', store, '-o', join(t.path, `e-${run}.tar`)] },
  { name: 'snap import (FXAR)', label: 'import', args: (run) => ['snap', 'import', fxar, join(t.path, `i-${run}`)] },
  { name: 'snap import (tar)', label: 'import', args: (run) => ['snap', 'import', tar, join(t.path, `i-${run}`)] },
  { name: 'store check --read-data', label: 'check read-data', args: () => ['store', 'check', store, '--read-data'] },
  { name: 'store check --read-data-subset', label: 'check read-data', args: () => ['store', 'check', store, '--read-data-subset', '50%'] },
  { name: 'snap prune', label: 'prune sweep', prepare: copyStore, args: (run) => ['snap', 'prune', join(t.path, `store-${run}`), '--keep-last', '1'] },
  { name: 'store gc', label: 'gc sweep', prepare: copyStore, args: (run) => ['store', 'gc', join(t.path, `store-${run}`)] },
];

let runs = 0;
function start(c: Case): string {
  const run = `run${++runs}`;
  c.prepare?.(run);
  return run;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What may differ between two runs of one command: the run's own names, new snapshot ids, durations and rates. */
function steady(text: string, run: string): string {
  return text.replaceAll(run, 'RUN').replace(/\b[0-9a-f]{12}\b/g, 'ID').replace(/\d+(\.\d+)?s\b/g, 'T').replace(/\d+(\.\d+)? MiB\/s/g, 'R');
}

test.before(setup);
test.after(() => t.cleanup());

for (const c of CASES) {
  test(`${c.name}: on a terminal, a bar that reaches 100%, cleared before the result`, () => {
    if (!haveCommand('script')) { console.log('  skip: `script` (util-linux) is missing, no pty to test with'); return; }
    const run = start(c);
    const cmd = [FXCP, ...c.args(run), '--progress'].map(quote).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, ...c.env } });
    assert.is(r.status, 0, r.stdout + r.stderr);
    const frames = r.stdout.split('\r\x1b[K');
    const label = new RegExp(`^${escapeRe(c.label)} \\[#*\\.*\\] +\\d+\\.\\d% `);
    const bars = frames.filter((f) => label.test(f));
    assert.ok(bars.length > 0, `no bar labelled '${c.label}' in ${JSON.stringify(r.stdout)}`);
    assert.match(bars[bars.length - 1], /\[#+\] 100\.0% /, bars[bars.length - 1]);
    // Redrawn in place: no frame holds a line break; the last one is cleared before the result.
    for (const f of frames.slice(0, -1)) assert.not.match(f, /\n/, JSON.stringify(f));
    assert.not.match(frames[frames.length - 1], /\d+\.\d% |\[#/, 'the result starts on a cleared line');
  });

  test(`${c.name}: in a pipe, stdout as without --progress, stderr only plain progress lines`, () => {
    const plainRun = start(c);
    const plain = fxcp(c.args(plainRun), { env: c.env });
    const run = start(c);
    const r = fxcp([...c.args(run), '--progress'], { env: c.env });
    assert.is(plain.code, 0, plain.stderr);
    assert.is(r.code, 0, r.stderr);
    assert.is(plain.stderr, '');
    assert.is(steady(r.stdout, run), steady(plain.stdout, plainRun));
    const lines = r.stderr.split('\n');
    assert.is(lines.pop(), '', 'stderr ends with a whole line');
    const first = c.label.split(' ')[0];
    for (const l of lines) assert.match(l, new RegExp(`^${escapeRe(first)}( [a-z-]+)? [^\\r\\x1b]+$`), JSON.stringify(l));
    assert.ok(lines.some((l) => l.startsWith(`${c.label} `) && / 100\.0% /.test(l)), r.stderr);
  });

  test(`${c.name}: with --json, one JSON document on stdout, JSON lines on stderr`, () => {
    const run = start(c);
    const r = fxcp([...c.args(run), '--progress', '--json'], { env: c.env });
    assert.is(r.code, 0, r.stderr);
    JSON.parse(r.stdout);
    const records = r.stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
    const main = records.filter((p) => p.progress === c.label);
    assert.ok(main.length > 0, r.stderr);
    const last = main[main.length - 1];
    assert.is(last.percent, 100, JSON.stringify(last));
    assert.is(last.bytes, last.totalBytes ?? last.bytes);
    assert.type(last.bytesPerSecond, 'number');
  });
}

test('a snapshot reports every byte, unchanged files too, against the pre-scan total', () => {
  const run = start(CASES[1]);
  const r = fxcp([...CASES[1].args(run), '--progress', '--json']);
  assert.is(r.code, 0, r.stderr);
  const stats = JSON.parse(r.stdout).stats;
  assert.is(stats.reusedFiles, stats.files, 'every file unchanged');
  const last = JSON.parse(r.stderr.trim().split('\n').pop()!);
  assert.equal([last.files, last.bytes, last.totalFiles, last.totalBytes], [stats.files, stats.bytes, stats.files, stats.bytes]);
});

test('stdin: a plain counter of the bytes read, no total', () => {
  const r = spawnSync(FXCP, ['snap', 'import', '-', join(t.path, 'from-stdin'), '--progress'], { input: readFileSync(tar), encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const last = r.stderr.trim().split('\n').pop()!;
  assert.match(last, /^import \d+(\.\d+)? MiB, \d+ files, /);
  assert.not.match(last, /%|ETA/);
});

test.run();
