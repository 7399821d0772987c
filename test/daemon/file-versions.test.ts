// FileVersions on a real target directory and a real versions store: what a full target gives
// up when no recorded version can be spared (the older staged versions of each file, never a
// file's newest), and that the newest is still recorded once the batch runs; which files a
// full comparison (hydration, rescan) writes become versions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileVersions } from '../../lib/daemon/file-versions.js';
import { DEFAULT_POLICY } from '../../lib/daemon/version-policy.js';

let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-versions-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

/** The mirror's way of writing a file: a new inode renamed over the old name. */
function mirrorWrite(target: string, rel: string, text: string): Buffer {
  const tmp = join(target, `.${rel}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, join(target, rel));
  return Buffer.from(join(target, rel));
}

test('a full target with nothing recorded: older staged versions give way, each file keeps its newest', async () => {
  const target = join(dir, 'target');
  mkdirSync(target);
  const lines: string[] = [], warnings: string[] = [];
  // The batch is held back for a minute: makeRoom finds everything still staged.
  const v = new FileVersions(target, DEFAULT_POLICY, { onWarn: (_c, m) => warnings.push(m), log: (l) => lines.push(l), batchMs: 60_000 });
  v.start();
  for (let k = 1; k <= 3; k++) v.written(mirrorWrite(target, 'a.txt', `a version ${k}\n`));
  v.written(mirrorWrite(target, 'b.txt', 'b version 1\n'));
  const staging = join(target, '.foxing', 'versions-staging');
  assert.is(readdirSync(staging).length, 4);
  await v.makeRoom();
  assert.is(readdirSync(staging).length, 2, 'a.txt keeps its newest staged version, b.txt its only one');
  assert.match(lines.join('\n'), /is full: gave up 2 older staged versions not yet recorded/);
  assert.equal(warnings, [], 'no store yet is no failure');
  // The stop records what stayed staged: the newest of each file.
  await v.stop();
  assert.is(v.stats.versions, 2);
  assert.is(readdirSync(staging).length, 0);
});

test('a full comparison: on a target never versioned only replaced files are versions; once versioned, new copies too', async () => {
  const target = join(dir, 'full-target');
  mkdirSync(target);
  const lines: string[] = [], warnings: string[] = [];
  const v = new FileVersions(target, DEFAULT_POLICY, { onWarn: (_c, m) => warnings.push(m), log: (l) => lines.push(l), batchMs: 60_000 });
  const staging = join(target, '.foxing', 'versions-staging');
  const staged = () => (existsSync(staging) ? readdirSync(staging).length : 0);
  // The first hydration (no policy file yet): a new copy is the baseline, a replaced file a version.
  v.beginFull();
  v.written(mirrorWrite(target, 'new.txt', 'copied anew\n'), true, true);
  assert.is(staged(), 0, 'a new copy onto a target never versioned is no version');
  v.written(mirrorWrite(target, 'old.txt', 'replaced\n'), false, true);
  assert.is(staged(), 1, 'a file the hydration replaced is a version');
  v.start();
  assert.match(lines.join('\n'), /1 files copied anew onto a target not yet versioned are no versions/);
  // A later full comparison (a restart's hydration, a rescan): every file it writes is a version.
  v.beginFull();
  v.written(mirrorWrite(target, 'later.txt', 'made while the daemon was down\n'), true, true);
  v.endFull();
  assert.is(staged(), 2);
  // Its .foxing lost (the target replaced by an empty directory): a baseline again, then versioned again.
  rmSync(join(target, '.foxing'), { recursive: true, force: true });
  v.beginFull();
  v.written(mirrorWrite(target, 'again.txt', 'copied anew\n'), true, true);
  v.endFull();
  assert.is(staged(), 0);
  assert.ok(existsSync(join(target, '.foxing', 'versions-policy.json')), 'the policy is written again after that comparison');
  await v.stop();
  assert.equal(warnings, []);
});

test.run();
