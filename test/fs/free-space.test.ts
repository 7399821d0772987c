// freeSpace: sane numbers for the temp directory, a clear error for a missing path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '../../lib/errors/index.js';
import { freeSpace, isNoSpace, noSpaceError, runningAsRoot } from '../../lib/fs/index.js';

test('free space of the temp directory is sane', async () => {
  const s = freeSpace(tmpdir());
  assert.ok(Number.isSafeInteger(s.total) && s.total > 0, `total ${s.total}`);
  assert.ok(Number.isSafeInteger(s.available) && s.available >= 0, `available ${s.available}`);
  assert.ok(s.available <= s.total);
  const again = freeSpace(Buffer.from(tmpdir()));
  assert.is(again.total, s.total);
});

test('missing path is a NotFoundError naming it', async () => {
  try {
    freeSpace(join(tmpdir(), 'fx-no-such-dir-', String(process.pid)));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, NotFoundError);
    assert.match((e as Error).message, 'fx-no-such-dir-');
  }
});

test('isNoSpace knows a full file system as Node and lmdb report it, and nothing else', () => {
  for (const code of ['ENOSPC', 'EDQUOT', 28]) assert.ok(isNoSpace(Object.assign(new Error('x'), { code })), String(code));
  for (const code of ['EIO', 'ENOENT', 5, undefined]) assert.not.ok(isNoSpace(Object.assign(new Error('x'), { code })), String(code));
  assert.not.ok(isNoSpace(null));
});

test('noSpaceError: one line naming the path, the need and the free bytes, code NO_SPACE', () => {
  const e = noSpaceError(tmpdir(), 12345, new Error('cause'));
  assert.is(e.code, 'NO_SPACE');
  assert.match(e.message, new RegExp(`^${tmpdir()}: no space left: need 12345 bytes, \\d+ bytes free$`));
  assert.is(e.data.needed, 12345);
  assert.ok(Number(e.data.available) >= 0);
});

test('runningAsRoot agrees with geteuid', () => {
  assert.is(runningAsRoot(), process.geteuid!() === 0);
});

test.run();
