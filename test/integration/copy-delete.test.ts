/**
 * Issue 21: `fxcp --delete` beside `rsync --delete` on the same trees. Extraneous entries go
 * only inside the directories copied (never DEST's other entries when a directory is copied by
 * name, never DEST's siblings); excluded destination entries are kept, unless
 * --delete-excluded; --max-delete N deletes N and exits 1 saying so; -n deletes nothing yet
 * reports `*deleting`; after a source read error nothing at all is deleted (run as user nobody
 * on a tree with an unreadable directory; root only).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { have, lineSet, listTree, pathSet, run, writeTree } from '../helpers/copy-tree.js';
import { fxcp, isRoot, ROOT, tempDir } from '../helpers/run-cli.js';

const t = tempDir('copy-delete-');
test.after(() => t.cleanup());
const RSYNC = have('rsync');

let n = 0;
/** A world: src/ (d/ with a file, keep/), out/ (a stale copy with extraneous entries), a sibling of out. */
function world(): string {
  const w = join(t.path, `w${n++}`);
  writeTree(w, {
    'src/d/f': 'f', 'src/d/new.tmp': 'tmp in the source', 'src/keep/k': 'k',
    'out/d/f': 'f', 'out/d/extra': 'extra', 'out/d/old/deep/z': 'z', 'out/d/a.tmp': 'excluded',
    'out/x/y': 'y', 'out/top.tmp': 'excluded at the top', 'out/keep/k': 'k', 'sibling': 'next to out',
  });
  // One mtime for every entry, so the quick check sees equal copies as equal on both sides.
  run('find', [w, '-exec', 'touch', '-h', '-d', '@1700000000.5', '{}', '+']);
  return w;
}

/** The same command in two identical worlds, by fxcp and by rsync; returns both worlds and outputs. */
function both(args: string[]): { ours: string; theirs: string | null; out: string; rsyncOut: string; code: number; stderr: string } {
  const ours = world();
  const r = fxcp(['-ai', ...args], { cwd: ours });
  if (!RSYNC) return { ours, theirs: null, out: r.stdout, rsyncOut: '', code: r.code, stderr: r.stderr };
  const theirs = world();
  const rsyncOut = run('rsync', ['-ai', ...args], theirs);
  return { ours, theirs, out: r.stdout, rsyncOut, code: r.code, stderr: r.stderr };
}

/** rsync's lines for directories it only touched ('.d..t......') are left out: they depend on timing. */
const changes = (s: string) => lineSet(s).filter((l) => !l.startsWith('.d'));

test('--delete on a contents copy removes extraneous files and directories, deepest first, as rsync does', () => {
  const r = both(['--delete', 'src/', 'out']);
  assert.is(r.code, 0, r.stderr);
  const paths = pathSet(r.ours);
  for (const gone of ['out/d/extra', 'out/d/old/', 'out/d/a.tmp', 'out/x/', 'out/top.tmp']) assert.not.ok(paths.includes(gone), gone);
  assert.ok(paths.includes('sibling'));
  const lines = r.out.split('\n');
  assert.ok(lines.indexOf('*deleting   d/old/deep/z') < lines.indexOf('*deleting   d/old/deep/'), 'contents before their directory');
  if (!r.theirs) { console.log('  skip (the rsync side): rsync not installed'); return; }
  assert.equal(paths, pathSet(r.theirs));
  assert.equal(changes(r.out), changes(r.rsyncOut));
});

test('--delete with a directory copied by name: only inside DEST/NAME, never DEST\'s other entries or its siblings', () => {
  const r = both(['--delete', 'src/d', 'out']);
  assert.is(r.code, 0, r.stderr);
  const paths = pathSet(r.ours);
  assert.not.ok(paths.includes('out/d/extra'));
  for (const kept of ['out/x/y', 'out/top.tmp', 'out/keep/k', 'sibling']) assert.ok(paths.includes(kept), kept);
  if (!r.theirs) return;
  assert.equal(paths, pathSet(r.theirs));
  assert.equal(changes(r.out), changes(r.rsyncOut));
});

test('--delete with --exclude keeps the excluded destination entries; --delete-excluded removes them', () => {
  let r = both(['--delete', '--exclude', '*.tmp', 'src/', 'out']);
  assert.is(r.code, 0, r.stderr);
  let paths = pathSet(r.ours);
  assert.ok(paths.includes('out/d/a.tmp') && paths.includes('out/top.tmp'), 'excluded entries protected');
  assert.not.ok(paths.includes('out/d/new.tmp'), 'not copied either');
  assert.not.ok(paths.includes('out/d/extra'));
  if (r.theirs) {
    assert.equal(paths, pathSet(r.theirs));
    assert.equal(changes(r.out), changes(r.rsyncOut));
  }
  r = both(['--delete', '--delete-excluded', '--exclude', '*.tmp', 'src/', 'out']);
  assert.is(r.code, 0, r.stderr);
  paths = pathSet(r.ours);
  assert.not.ok(paths.includes('out/d/a.tmp') || paths.includes('out/top.tmp'), 'excluded entries removed');
  if (r.theirs) {
    assert.equal(paths, pathSet(r.theirs));
    assert.equal(changes(r.out), changes(r.rsyncOut));
  }
});

test('--max-delete N deletes N entries, says so, and exits 1', () => {
  const w = world();
  const r = fxcp(['-ai', '--delete', '--max-delete', '2', 'src/', 'out'], { cwd: w });
  assert.is(r.code, 1);
  assert.is(r.stdout.split('\n').filter((l) => l.startsWith('*deleting')).length, 2, r.stdout);
  assert.match(r.stderr, 'the --max-delete limit of 2 was reached');
  assert.ok(pathSet(w).includes('out/d/f'), 'the copy itself still done');
  const zero = fxcp(['-a', '--delete', '--max-delete', '0', 'src/', 'out'], { cwd: w });
  assert.is(zero.code, 1);
  const bad = fxcp(['-a', '--delete', '--max-delete', 'many', 'src/', 'out'], { cwd: w });
  assert.is(bad.code, 2);
  assert.match(bad.stderr, "--max-delete takes a whole number, not 'many'");
});

test('-n --delete deletes nothing, changes nothing, and reports every *deleting a real run then does', () => {
  const w = world();
  const before = listTree(w);
  const dry = fxcp(['-ain', '--delete', 'src/', 'out'], { cwd: w });
  assert.is(dry.code, 0, dry.stderr);
  assert.equal(listTree(w), before);
  assert.ok(dry.stdout.includes('*deleting   d/extra\n'));
  const real = fxcp(['-ai', '--delete', 'src/', 'out'], { cwd: w });
  assert.equal(lineSet(dry.stdout), lineSet(real.stdout));
});

const NOBODY = 65534;
function asNobody(args: string[], cwd: string) {
  return spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, join(ROOT, 'bin', 'fxcp.cjs'), ...args],
    { encoding: 'utf8', cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' } });
}

/**
 * rsync's rule, checked beside rsync run the same way: once a source entry could not be read,
 * nothing more is deleted, so neither the unread directory's copy nor anything walked after
 * it loses an entry. (Neither tool goes back: an extraneous entry of a directory handled
 * before the error, here out/stale-top, is deleted by both.)
 */
test('after a source read error --delete deletes nothing more, as rsync, and the warning says why (as user nobody)', () => {
  if (!isRoot) { console.log('  skip: needs root (to run fxcp as user nobody)'); return; }
  if (spawnSync('setpriv', ['--version']).status !== 0) { console.log('  skip: setpriv is not installed'); return; }
  const probe = asNobody(['--version'], '/');
  if (probe.status !== 0) { console.log(`  skip: the checkout is not readable by user nobody (${probe.stderr.trim().split('\n')[0]})`); return; }
  chmodSync(t.path, 0o755); // rsync changes into the directories by their full path
  const lockedWorld = (name: string) => {
    const w = join(t.path, name);
    writeTree(w, { 'src/a-locked/secret': 's', 'src/b/f': 'f', 'src/c/g': 'g', 'out/a-locked/stale': 'x', 'out/b/stale': 'x', 'out/c/stale': 'x', 'out/stale-top': 'x' });
    run('chown', ['-R', `${NOBODY}:${NOBODY}`, w]);
    chmodSync(join(w, 'src/a-locked'), 0);
    return w;
  };
  const ours = lockedWorld('nobody-fxcp');
  const r = asNobody(['-a', '--delete', 'src/', 'out'], ours);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, 'a-locked');
  assert.match(r.stderr, '--delete: a source entry could not be read; nothing more is deleted this run');
  const paths = pathSet(ours);
  for (const kept of ['out/a-locked/stale', 'out/b/stale', 'out/c/stale']) assert.ok(paths.includes(kept), `${kept} kept`);
  assert.ok(paths.includes('out/b/f') && paths.includes('out/c/g'), 'the readable entries copied');
  if (!RSYNC) { console.log('  skip (the rsync side): rsync not installed'); }
  else {
    const theirs = lockedWorld('nobody-rsync');
    const rs = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'rsync', '-a', '--delete', 'src/', 'out'], { cwd: theirs, encoding: 'utf8' });
    assert.is(rs.status, 23, rs.stderr);
    assert.equal(paths, pathSet(theirs));
  }
  chmodSync(join(ours, 'src/a-locked'), 0o755);
});

test.run();
