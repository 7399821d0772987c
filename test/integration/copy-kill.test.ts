/**
 * Issue 21: no torn file. A copy of a large file killed with SIGKILL while its data is being
 * written leaves the destination name absent (a new file) or with its old content (an update),
 * never part of the new data; the next run completes it and removes the leftover `.fxtmp-*`
 * temporary. SIGINT: exit 130, nothing partial under a real name, no temporary left.
 *
 * The kill is timed by watching the destination directory for the temporary to hold data
 * (polled every few ms), so it lands mid-copy without any sleep; if the copy ends first (a
 * machine much faster than this one), the test says so and fails rather than pass vacuously.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TEMP_PREFIX } from '../../lib/fs/temp-name.js';
import { hashFile } from '../helpers/copy-tree.js';
import { FXCP, fxcp, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir('copy-kill-');
test.after(() => t.cleanup());

const SIZE = 300 * 1024 * 1024;
const src = join(t.path, 'src');
mkdirSync(src);
/** 300 MiB of non-zero data (no holes), a seeded 1 MiB block with its index stamped into each copy. */
function writeBig(path: string, seed: number): void {
  const block = Buffer.from(seededBytes(1 << 20, seed));
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < SIZE / block.length; i++) {
      block.writeUInt32LE(i, 0);
      writeSync(fd, block);
    }
  } finally {
    closeSync(fd);
  }
}
writeBig(join(src, 'big'), 1);
const bigHash = hashFile(join(src, 'big'));

const temps = (dir: string) => readdirSync(dir).filter((n) => n.startsWith(TEMP_PREFIX));

/** Runs fxcp -a src/ dst and sends `signal` once a temporary in dst holds at least 8 MiB. */
function interrupted(dst: string, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; caught: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(FXCP, ['-a', `${src}/`, dst], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '', caught = false;
    child.stderr.on('data', (d) => { stderr += d; });
    const poll = setInterval(() => {
      if (!existsSync(dst)) return;
      for (const n of temps(dst)) {
        const size = statSync(join(dst, n), { throwIfNoEntry: false })?.size ?? 0;
        if (size >= 8 << 20 && size < SIZE) {
          caught = true;
          clearInterval(poll);
          child.kill(signal);
          return;
        }
      }
    }, 2);
    child.on('close', (code, sig) => { clearInterval(poll); resolve({ code, signal: sig, stderr, caught }); });
  });
}

test('SIGKILL while a new file is written: the name is absent, a temporary remains; the next run completes and removes it', async () => {
  const dst = join(t.path, 'new');
  mkdirSync(dst);
  const r = await interrupted(dst, 'SIGKILL');
  assert.ok(r.caught, `the copy ended before the kill (exit ${r.code}): the file is too small for this machine`);
  assert.is(r.signal, 'SIGKILL');
  assert.not.ok(existsSync(join(dst, 'big')), 'no partial file under the real name');
  assert.is(temps(dst).length, 1, 'the killed run\'s temporary is there');
  const again = fxcp(['-a', `${src}/`, dst]);
  assert.is(again.code, 0, again.stderr);
  assert.equal(temps(dst), [], 'the leftover temporary removed');
  assert.is(hashFile(join(dst, 'big')), bigHash);
});

test('SIGKILL while an existing file is updated: the name keeps its old content; the next run completes it', async () => {
  const dst = join(t.path, 'update');
  mkdirSync(dst);
  writeBig(join(dst, 'big'), 2);
  const oldHash = hashFile(join(dst, 'big'));
  const r = await interrupted(dst, 'SIGKILL');
  assert.ok(r.caught, `the copy ended before the kill (exit ${r.code})`);
  assert.is(hashFile(join(dst, 'big')), oldHash, 'the old content, whole');
  const again = fxcp(['-a', `${src}/`, dst]);
  assert.is(again.code, 0, again.stderr);
  assert.equal(temps(dst), []);
  assert.is(hashFile(join(dst, 'big')), bigHash);
});

test('SIGINT while a file is written: exit 130, nothing under the real name, no temporary left', async () => {
  
  const dst = join(t.path, 'int');
  mkdirSync(dst);
  const r = await interrupted(dst, 'SIGINT');
  assert.ok(r.caught, `the copy ended before the interrupt (exit ${r.code})`);
  assert.is(r.code, 130, r.stderr);
  assert.not.ok(existsSync(join(dst, 'big')));
  assert.equal(temps(dst), []);
  assert.not.match(r.stderr, /^\s+at /m);
});

test.run();
