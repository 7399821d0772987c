/**
 * SpaceGuard on a real small tmpfs (root only; skipped with the reason otherwise): writes are
 * granted against what statfs shows, statfs runs once per interval, pending bytes and the
 * margin count, and a refusal names the path and both numbers. guardedFileSink stops a real
 * file before the file system fills and discards its temporary file.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToolkitError } from '../../lib/errors/index.js';
import { freeSpace } from '../../lib/fs/free-space.js';
import { SpaceGuard } from '../../lib/fs/space-guard.js';
import { guardedFileSink, openFileSink } from '../../lib/fxar/archive-io.js';
import { isRoot, tempDir } from '../helpers/run-cli.js';

const t = tempDir('fx-guard-');
const KiB = 1024, MiB = 1 << 20;
let fs: string | null = null;

test.before(() => {
  if (!isRoot) { console.log('  (skipped: mounting a tmpfs needs root)'); return; }
  const dir = join(t.path, 'fs');
  mkdirSync(dir);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { encoding: 'utf8' });
  if (m.status !== 0) { console.log(`  (skipped: cannot mount tmpfs: ${m.stderr.trim()})`); return; }
  fs = dir;
});
test.after(() => {
  if (fs) spawnSync('umount', [fs]);
  t.cleanup();
});

async function refusal(p: Promise<unknown>): Promise<ToolkitError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, ToolkitError);
    return err as ToolkitError;
  }
  throw new Error('expected NO_SPACE');
}

test('grants against one statfs per interval; refuses what does not fit, naming both numbers', async () => {
  if (!fs) return;
  const guard = new SpaceGuard(fs, 'the job', 0, 1 * MiB);
  for (let i = 0; i < 10; i++) await guard.reserve({ bytes: 100 * KiB, step: 'a piece' });
  assert.is(guard.checks, 1, 'ten pieces within one interval: one statfs');
  await guard.reserve({ bytes: 100 * KiB, step: 'a piece' });
  assert.is(guard.checks, 2, 'past the interval: statfs again');
  const { available } = freeSpace(fs);
  const err = await refusal(guard.reserve({ bytes: 5 * MiB, step: 'the big piece' }));
  assert.is(err.code, 'NO_SPACE');
  assert.is(err.message, `${fs}: not enough free space to continue the job: the big piece needs ${5 * MiB} bytes, the file system has ${available} bytes free; stopped before writing it`);
  assert.equal(err.data, { path: fs, needed: 5 * MiB, available });
});

test('pending bytes and the margin count against what statfs shows', async () => {
  if (!fs) return;
  const { available } = freeSpace(fs);
  const half = Math.floor(available / 2);
  await new SpaceGuard(fs, 'x').reserve({ bytes: half, step: 's' });
  const e1 = await refusal(new SpaceGuard(fs, 'x').reserve({ bytes: half, pending: half + 8 * KiB, step: 's' }));
  assert.is(e1.data.needed, 2 * half + 8 * KiB);
  const e2 = await refusal(new SpaceGuard(fs, 'x', half + 8 * KiB).reserve({ bytes: half, step: 's' }));
  assert.match(e2.message, `(${half + 8 * KiB} of them kept in reserve)`);
});

test('guardedFileSink: a file larger than the file system stops before it fills; discard leaves nothing', async () => {
  if (!fs) return;
  const path = join(fs, 'out.bin');
  const sink = guardedFileSink(await openFileSink(path), path, 'the output');
  const piece = Buffer.alloc(512 * KiB, 7);
  let written = 0;
  try {
    const err = await refusal((async () => { for (;;) { await sink.write(piece); written += piece.length; } })());
    assert.match(err.message, /not enough free space to continue the output: writing 524288 more bytes to .*out\.bin \(\d+ written so far\) needs 524288 bytes, the file system has \d+ bytes free/);
    assert.ok(written >= 2 * MiB && written <= 4 * MiB, `wrote ${written} before stopping`);
  } finally {
    await sink.discard();
  }
  assert.equal(readdirSync(fs), []);
});

test.run();
