/**
 * Issue 21: rsync's path rules for `fxcp SRC... DEST`, each case run by fxcp -a and by real
 * `rsync -a` on identical fresh worlds, comparing the sets of paths that result: a trailing '/'
 * copies a directory's contents, without it the directory itself; several sources go into a
 * directory; a single file goes to a new name, into an existing directory, or into `DEST/`
 * (made); DEST is made when missing, also nested (rsync needs --mkpath for that). What the
 * command line does around them (./snap, a misspelt command, a missing source) is in
 * copy-cli.test.ts.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { have, pathSet, run, writeTree } from '../helpers/copy-tree.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';

const t = tempDir('copy-paths-');
test.after(() => t.cleanup());
const RSYNC = have('rsync');

let n = 0;
/** A fresh world: d/ with a file and a subdirectory, two files, and `existing/` (an empty directory). */
function world(): string {
  const w = join(t.path, `w${n++}`);
  writeTree(w, { 'd/x': 'x', 'd/sub/y': 'y', 'f': 'file f', 'g': 'file g', 'existing/': '' });
  symlinkSync('existing', join(w, 'dir-link'));
  return w;
}

interface Case { args: string[]; expect: string[]; mkpath?: boolean }

const BASE = ['d/', 'd/sub/', 'd/sub/y', 'd/x', 'dir-link', 'existing/', 'f', 'g'];
const plus = (...p: string[]) => [...BASE, ...p].sort();

const CASES: Case[] = [
  { args: ['d/', 'existing'], expect: plus('existing/sub/', 'existing/sub/y', 'existing/x') },
  { args: ['d/.', 'existing'], expect: plus('existing/sub/', 'existing/sub/y', 'existing/x') },
  { args: ['d', 'existing'], expect: plus('existing/d/', 'existing/d/sub/', 'existing/d/sub/y', 'existing/d/x') },
  { args: ['d', 'new'], expect: plus('new/', 'new/d/', 'new/d/sub/', 'new/d/sub/y', 'new/d/x') },
  { args: ['d', 'new/'], expect: plus('new/', 'new/d/', 'new/d/sub/', 'new/d/sub/y', 'new/d/x') },
  { args: ['d/', 'new'], expect: plus('new/', 'new/sub/', 'new/sub/y', 'new/x') },
  { args: ['d', 'f', 'new'], expect: plus('new/', 'new/d/', 'new/d/sub/', 'new/d/sub/y', 'new/d/x', 'new/f') },
  { args: ['d/', 'f', 'g', 'existing'], expect: plus('existing/sub/', 'existing/sub/y', 'existing/x', 'existing/f', 'existing/g') },
  { args: ['f', 'existing'], expect: plus('existing/f') },
  { args: ['f', 'new/'], expect: plus('new/', 'new/f') },
  { args: ['f', './renamed'], expect: plus('renamed') },
  { args: ['f', 'existing/renamed'], expect: plus('existing/renamed') },
  { args: ['f', 'renamed'], expect: plus('renamed') },
  { args: ['f', 'g'], expect: BASE },
  { args: ['f', './g'], expect: BASE },
  { args: ['d', 'dir-link'], expect: plus('existing/d/', 'existing/d/sub/', 'existing/d/sub/y', 'existing/d/x') },
  { args: ['d', 'a/b/c'], mkpath: true, expect: plus('a/', 'a/b/', 'a/b/c/', 'a/b/c/d/', 'a/b/c/d/sub/', 'a/b/c/d/sub/y', 'a/b/c/d/x') },
  { args: ['f', 'a/b/'], mkpath: true, expect: plus('a/', 'a/b/', 'a/b/f') },
];

for (const c of CASES) {
  const name = `fxcp -a ${c.args.join(' ')}: the same paths as rsync -a${c.mkpath ? ' --mkpath' : ''}`;
  test(name, () => {
    const ours = world();
    const r = fxcp(['-a', ...c.args], { cwd: ours });
    assert.is(r.code, 0, r.stderr);
    assert.equal(pathSet(ours), c.expect);
    if (!RSYNC) { console.log('  skip (the rsync side): rsync not installed'); return; }
    const theirs = world();
    run('rsync', ['-a', ...(c.mkpath ? ['--mkpath'] : []), ...c.args], theirs);
    assert.equal(pathSet(ours), pathSet(theirs));
  });
}

test.run();
