/**
 * Issue 21: what fxcp prints. `-i` strings beside real `rsync -ai` for the same change made to
 * identical copies (new file, directory, symlink, fifo, hard link; changed size, mtime, mode,
 * symlink target; deleted), compared as sets of lines; `-n` changes nothing at all yet prints
 * what the real run then prints; `--json` is one object per action and a summary whose counts
 * match; errors under --json are JSON on stderr; `--stats` and `-v`.
 *
 * Times: rsync compares mtimes to the second by default (fxcp to the ns), so every time set
 * here is a whole second and every change moves it by seconds.
 */
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareCopy, have, lineSet, listTree, run, writeTree } from '../helpers/copy-tree.js';
import { FXCP, fxcp, tempDir } from '../helpers/run-cli.js';

const t = tempDir('copy-output-');
test.after(() => t.cleanup());
const RSYNC = have('rsync');

const setTimes = (root: string, at: number) => run('find', [root, '-exec', 'touch', '-h', '-d', `@${at}`, '{}', '+']);

let n = 0;
/** src and its copy dst, every entry at time T1. */
function pair(): { src: string; dst: string } {
  const w = join(t.path, `w${n++}`);
  const src = join(w, 'src'), dst = join(w, 'dst');
  writeTree(src, { 'f': 'ffff', 'g': 'gggg', 'd/h': 'hhhh', 'd/e/i': 'iiii', 'gone': 'x', 'gone-dir/j': 'j' });
  symlinkSync('f', join(src, 'link'));
  setTimes(src, 1600000000);
  run('cp', ['-a', src, dst]);
  return { src, dst };
}

interface Scenario { name: string; change: (src: string) => void; args?: string[]; differs?: string[] }

const SCENARIOS: Scenario[] = [
  { name: 'a new file', change: (s) => writeFileSync(join(s, 'd/new'), 'n') },
  { name: 'a new directory with a file', change: (s) => writeTree(s, { 'nd/inner': 'i' }) },
  { name: 'a new empty directory', change: (s) => mkdirSync(join(s, 'd/empty')) },
  { name: 'a new symlink', change: (s) => symlinkSync('../f', join(s, 'd/ln')) },
  { name: 'a new fifo', change: (s) => run('mkfifo', [join(s, 'd/p')]) },
  // A difference kept on purpose (docs/copy.md): the walk meets d/g-link first, so it is the
  // group's copy and g is linked to it; rsync links the new name to the existing g instead.
  // The links and the data end up the same; fxcp writes the file's data once more.
  { name: 'a new hard link', args: ['-H'], change: (s) => linkSync(join(s, 'g'), join(s, 'd/g-link')),
    differs: ['>f+++++++++ d/g-link', 'hf......... g => d/g-link'] },
  { name: 'a changed size', change: (s) => writeFileSync(join(s, 'd/h'), 'longer now') },
  { name: 'a changed mtime alone', change: (s) => run('touch', ['-d', '@1650000000', join(s, 'g')]) },
  { name: 'changed permissions', change: (s) => { chmodSync(join(s, 'd/e/i'), 0o600); chmodSync(join(s, 'd/e'), 0o700); } },
  { name: 'a changed symlink target', change: (s) => { unlinkSync(join(s, 'link')); symlinkSync('g', join(s, 'link')); } },
  { name: 'a changed symlink target, same mtime', change: (s) => { unlinkSync(join(s, 'link')); symlinkSync('g', join(s, 'link')); run('touch', ['-h', '-d', '@1600000000', join(s, 'link')]); } },
  { name: 'a file that became a directory', change: (s) => { unlinkSync(join(s, 'g')); writeTree(s, { 'g/x': 'x' }); } },
  { name: 'deleted entries', args: ['--delete'], change: (s) => { unlinkSync(join(s, 'gone')); rmSync(join(s, 'gone-dir'), { recursive: true }); } },
  { name: 'a symlink whose mtime alone changed', change: (s) => run('touch', ['-h', '-d', '@1650000000', join(s, 'link')]) },
];

for (const sc of SCENARIOS) {
  test(`-i for ${sc.name}: the same lines as rsync -ai${sc.differs ? ' (but for a difference kept on purpose)' : ''}`, () => {
    if (!RSYNC) { console.log('  skip: rsync not installed'); return; }
    const ours = pair(), theirs = pair();
    for (const p of [ours, theirs]) {
      sc.change(p.src);
      // The source's directories moved on (whole seconds: rsync's granularity).
      run('find', [p.src, '-type', 'd', '-exec', 'touch', '-d', '@1700000000', '{}', '+']);
    }
    const r = fxcp(['-ai', ...(sc.args ?? []), `${ours.src}/`, ours.dst]);
    assert.is(r.code, 0, r.stderr);
    const rs = run('rsync', ['-ai', ...(sc.args ?? []), `${theirs.src}/`, theirs.dst]);
    if (sc.differs) {
      // The directories' lines as rsync's; the files' as said above; the same tree either way.
      const dirs = (l: string[]) => l.filter((x) => x[1] === 'd');
      assert.equal(dirs(lineSet(r.stdout)), dirs(lineSet(rs)));
      assert.equal(lineSet(r.stdout).filter((x) => x[1] !== 'd'), [...sc.differs].sort());
      assert.equal(compareCopy(ours.src, ours.dst), [], 'the copy is whole');
      assert.is(statSync(join(ours.dst, 'g')).ino, statSync(join(ours.dst, 'd/g-link')).ino, 'one file, two names');
    } else {
      assert.equal(lineSet(r.stdout), lineSet(rs));
    }
    assert.ok(r.stdout.length > 0);
  });
}

test('-n changes nothing at all (every entry\'s stat the same), yet -i prints exactly what the real run then prints', () => {
  const { src, dst } = pair();
  for (const sc of SCENARIOS) if (!sc.name.includes('file that became')) sc.change(src);
  const before = listTree(dst);
  const dry = fxcp(['-ain', '--delete', `${src}/`, dst]);
  assert.is(dry.code, 0, dry.stderr);
  assert.equal(listTree(dst), before, 'inodes, ctimes, modes, times, contents: all the same');
  const dryJson = fxcp(['-an', '--delete', '--json', `${src}/`, dst]);
  assert.equal(listTree(dst), before);
  const real = fxcp(['-ai', '--delete', `${src}/`, dst]);
  assert.is(real.code, 0, real.stderr);
  assert.ok(lineSet(real.stdout).length >= 12, real.stdout);
  assert.equal(lineSet(dry.stdout), lineSet(real.stdout));
  const summary = (s: string) => JSON.parse(s.trim().split('\n').pop()!).summary;
  const a = summary(dryJson.stdout);
  assert.ok(a.written > 0 && a.deleted > 0 && a.created > 0);
  assert.is(a.bytesWritten, 0, 'a dry run writes no bytes');
});

test('--json: one object per line, each action with action/type/path/itemize, the summary last with counts that match', () => {
  const { src, dst } = pair();
  for (const sc of SCENARIOS) if (!sc.name.includes('file that became')) sc.change(src);
  const r = fxcp(['-a', '-H', '--delete', '--json', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  const lines = r.stdout.trim().split('\n');
  const recs = lines.map((l) => JSON.parse(l));
  const summary = recs.pop().summary;
  assert.ok(summary, 'the last line is the summary');
  for (const x of recs) {
    assert.type(x.action, 'string');
    assert.type(x.type, 'string');
    assert.type(x.path, 'string');
    assert.ok(/^([>ch.][fdLDS][.+cstpoguax]{9}|\*deleting {2})$/.test(x.itemize), x.itemize);
    assert.not.ok('summary' in x);
  }
  const count = (a: string) => recs.filter((x) => x.action === a).length;
  assert.is(summary.written, count('write'));
  assert.is(summary.created, count('create'));
  assert.is(summary.deleted, count('delete'));
  assert.is(summary.linked, count('hardlink'));
  assert.is(summary.attrsOnly, count('attrs'));
  assert.ok(summary.written >= 3 && summary.deleted >= 3 && summary.linked === 1 && summary.created >= 5, JSON.stringify(summary));
  assert.is(summary.bytesWritten, recs.filter((x) => x.action === 'write').reduce((s, x) => s + x.bytes, 0));
  assert.equal(summary.problems, []);
  const link = recs.find((x) => x.action === 'hardlink');
  assert.ok(['g', 'd/g-link'].includes(link.linkTo) && link.linkTo !== link.path, link.linkTo);
  assert.is(recs.find((x) => x.path === 'd/ln').target, '../f');
});

test('--json: an error is one JSON object on stderr, stdout empty', () => {
  const r = fxcp(['-a', '--json', join(t.path, 'no-such-source'), join(t.path, 'out')]);
  assert.is(r.code, 2);
  assert.is(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1);
  const e = JSON.parse(lines[0]);
  assert.match(JSON.stringify(e), 'no-such-source: no such file or directory');
});

test('--stats prints rsync-like totals that match the run; -v lists the paths written, made and deleted', () => {
  const { src, dst } = pair();
  writeFileSync(join(src, 'd/new'), 'n'.repeat(1000));
  mkdirSync(join(src, 'nd'));
  unlinkSync(join(src, 'gone'));
  let r = fxcp(['-a', '--stats', '--delete', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Number of files: 12 \(reg: 6, dir: 5, link: 1, special: 0\)/);
  assert.match(r.stdout, /Number of created files: 1\n/);
  assert.match(r.stdout, /Number of deleted files: 1\n/);
  assert.match(r.stdout, /Number of regular files transferred: 1\n/);
  assert.match(r.stdout, /Total bytes written: 1,000 bytes/);
  assert.match(r.stdout, /Total file size: 1,017 bytes/);
  writeFileSync(join(src, 'd/new2'), 'm');
  mkdirSync(join(src, 'nd2'));
  unlinkSync(join(src, 'g'));
  r = fxcp(['-av', '--delete', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(lineSet(r.stdout), ['d/new2', 'deleting g', 'nd2/']);
});

test('--stats: the rate is a rounded figure', () => {
  const { src, dst } = pair();
  writeFileSync(join(src, 'd/new'), 'n'); // one byte: a rate under 1 KiB/s
  const r = fxcp(['-a', '--stats', `${src}/`, dst]);
  assert.match(r.stdout, /^Time: \d+\.\d\d s, \d+(\.\d{1,2})? [KMGT]?i?B\/s$/m);
});

/** A source of known size for --progress: 12 files, 1,234,567 bytes (1.18 MiB). */
function progressSource(): { src: string; bytes: number } {
  const src = join(t.path, `p${n++}`);
  const files: Record<string, string> = {};
  for (let i = 0; i < 11; i++) files[`d${i % 3}/f${i}`] = 'x'.repeat(100_000 + i);
  files['big'] = 'y'.repeat(1_234_567 - 11 * 100_000 - 55);
  writeTree(src, files);
  return { src, bytes: 1_234_567 };
}

// The total comes from a stat walk beside the copy (lib/cli/commands/copy.ts sourceTotals); a
// copy this small may end before it does, and then the last line is the plain counter. Either
// form must show the copy's own files and bytes, exactly.
const FINAL = /^copy (\[#+\] 100\.0% 1\.18 MiB \/ 1\.18 MiB, 12\/12 files|1\.18 MiB, 12 files), /;

test('--progress on a terminal: one line redrawn in place, the copy\'s files and bytes at the end, cleared before the result', () => {
  if (!have('script')) { console.log('  skip: `script` (util-linux) is missing, no pty to test with'); return; }
  const { src } = progressSource();
  const cmd = [FXCP, '-a', '--progress', '--stats', `${src}/`, join(t.path, `pd${n++}`)].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stdout);
  const frames = r.stdout.split('\r\x1b[K');
  const lines = frames.filter((f) => f.startsWith('copy '));
  assert.ok(lines.length > 0, JSON.stringify(r.stdout));
  assert.match(lines[lines.length - 1], FINAL);
  for (const f of frames.slice(0, -1)) assert.not.match(f, /\n/, JSON.stringify(f));
  assert.match(frames[frames.length - 1], /^\r?\nNumber of files|^Number of files/, 'the --stats totals come after the cleared bar');
});

test('--progress --json: JSON lines on stderr (files, bytes, rate; the total and percent once known), stdout as without it', () => {
  const { src, bytes } = progressSource();
  const dst = join(t.path, `pd${n++}`);
  // A cold copy, then a re-run where every file is found unchanged: both count all 12 files.
  for (const run of ['cold', 'unchanged']) {
    const r = fxcp(['-a', '--progress', '--json', `${src}/`, dst]);
    assert.is(r.code, 0, r.stderr);
    const recs = r.stderr.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(recs.length > 0 && recs.every((x) => x.progress === 'copy'), r.stderr);
    const last = recs[recs.length - 1];
    assert.is(last.files, 12, run);
    assert.is(last.bytes, bytes, run);
    assert.type(last.bytesPerSecond, 'number');
    if (last.totalBytes !== null) assert.equal([last.totalBytes, last.totalFiles, last.percent], [bytes, 12, 100]);
    else assert.equal([last.totalFiles, last.percent], [null, null]);
    if (run === 'unchanged') assert.is(r.stdout.trim().split('\n').length, 1, 'only the summary');
  }
  const r = fxcp(['-a', '--json', `${src}/`, join(t.path, `pd${n++}`)]);
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.is(out.filter((x) => x.action === 'write').length, 12);
  assert.is(out[out.length - 1].summary.bytesWritten, bytes);
  // With filter rules no total (the stat walk knows no rules): the counter shows what was copied.
  const big = readFileSync(join(src, 'big')).length;
  for (let i = 0; i < 3; i++) {
    const f = fxcp(['-a', '--progress', '--json', '--exclude=big', `${src}/`, join(t.path, `pd${n++}`)]);
    assert.is(f.code, 0, f.stderr);
    const end = JSON.parse(f.stderr.trim().split('\n').pop()!);
    assert.equal([end.files, end.bytes, end.totalFiles, end.totalBytes, end.percent], [11, bytes - big, null, null, null]);
  }
  const plain = fxcp(['-a', '--progress', `${src}/`, join(t.path, `pd${n++}`)]);
  assert.is(plain.code, 0, plain.stderr);
  assert.is(plain.stdout, '', 'progress never on stdout');
  assert.match(plain.stderr.trim().split('\n').pop()!, FINAL);
});

test.run();
