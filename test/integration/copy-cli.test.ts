/**
 * Issue 21: `fxcp SRC... DEST` as the default command. A first word that names a command is
 * that command, so a directory called `snap` is copied as `./snap` or after `--`; a first word
 * that is no path but close to a command's name (`fxcp snpa list st`) says which command was
 * meant (exit 2); a missing source is exit 2 with nothing made.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pathSet, writeTree } from '../helpers/copy-tree.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';

const t = tempDir('copy-cli-');
test.after(() => t.cleanup());

let n = 0;
function world(): string {
  const w = join(t.path, `w${n++}`);
  writeTree(w, { 'd/x': 'x', 'd/sub/y': 'y', 'f': 'file f', 'g': 'file g', 'existing/': '' });
  symlinkSync('existing', join(w, 'dir-link'));
  return w;
}

test('a directory named like a command is copied when written ./snap or after --; bare, it is the command', () => {
  const w = world();
  writeTree(w, { 'snap/in/q': 'q' });
  let r = fxcp(['-a', './snap', 'out1'], { cwd: w });
  assert.is(r.code, 0, r.stderr);
  r = fxcp(['-r', '--', 'snap', 'out2'], { cwd: w });
  assert.is(r.code, 0, r.stderr);
  r = fxcp(['-a', '--', 'snap', 'out3'], { cwd: w });
  assert.is(r.code, 0, r.stderr);
  const paths = pathSet(w);
  for (const o of ['out1', 'out2', 'out3']) assert.ok(paths.includes(`${o}/snap/in/q`), o);
  r = fxcp(['snap', 'out4'], { cwd: w });
  assert.is(r.code, 2);
  assert.match(r.stderr, "unknown command 'snap out4'");
  assert.not.ok(pathSet(w).some((p) => p.startsWith('out4')));
});

test("a misspelt command (fxcp snpa list st) says which command was meant, exit 2, nothing made", () => {
  const w = world();
  const before = pathSet(w);
  const r = fxcp(['snpa', 'list', 'st'], { cwd: w });
  assert.is(r.code, 2);
  assert.is(r.stdout, '');
  assert.match(r.stderr, "snpa: no such file or directory; did you mean the command 'fxcp snap'?");
  assert.is(r.stderr.trim().split('\n').length, 1);
  assert.equal(pathSet(w), before);
});

test('a missing source: exit 2, the path named, DEST not made', () => {
  const w = world();
  const r = fxcp(['-a', 'nosuch', 'out'], { cwd: w });
  assert.is(r.code, 2);
  assert.match(r.stderr, 'nosuch: no such file or directory');
  assert.not.ok(pathSet(w).includes('out/'));
  mkdirSync(join(w, 'keep'));
  assert.is(fxcp(['-a', 'd', 'nosuch', 'keep'], { cwd: w }).code, 2);
  assert.not.ok(pathSet(w).includes('keep/d/'), 'nothing copied when one source is missing');
});

test('the help says what the issue asks it to: -H implied by -a, ./NAME or -- for a path named like a command', () => {
  const r = fxcp(['-a', '--help']);
  assert.is(r.code, 0, r.stderr);
  const help = r.stdout.replace(/\s+/g, ' ');
  assert.match(help, /-a, --archive [^\n]*hard links \(-H is implied, unlike rsync\)/);
  assert.match(help, '-H, --hard-links keep hard links within the copy (implied by -a)');
  assert.match(help, 'fxcp -a -- snap /backup # a directory named like a command: ./snap or --');
  const top = fxcp(['--help']).stdout.replace(/\s+/g, ' ');
  assert.match(top, 'A first word that names a command runs that command: to name a path called so, write ./NAME or put -- first.');
});

test.run();
