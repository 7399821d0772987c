// listDir: raw names, byte order, errors naming the path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '../../lib/errors/index.js';
import { errnoOf, joinPath, listDir } from '../../lib/fs/index.js';

let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-listdir-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

test('names come back as bytes in byte order, non-UTF-8 intact', async () => {
  const d = Buffer.from(dir);
  const names = [Buffer.from('b'), Buffer.from('B'), Buffer.from('a'), Buffer.from('é'), Buffer.from([0x66, 0xff, 0x6f]), Buffer.from('f')];
  for (const n of names) writeFileSync(joinPath(d, n), '');
  const list = await listDir(d);
  // Byte order, not locale order: 'B' (0x42) < 'a' < 'b' < 'f' < 'f\xffo' (prefix first) < 'é' (0xc3 0xa9).
  const want = ['B', 'a', 'b', 'f', Buffer.from([0x66, 0xff, 0x6f]), 'é'].map((x) => Buffer.isBuffer(x) ? x : Buffer.from(x));
  assert.is(list.length, want.length);
  list.forEach((n, i) => assert.ok(n.equals(want[i]), `entry ${i}: ${n.toString('hex')}`));
});

test('missing directory is a NotFoundError naming the path', async () => {
  try {
    await listDir(Buffer.from(join(dir, 'nope')));
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, NotFoundError);
    assert.is(errnoOf(e), 'ENOENT');
    assert.match((e as Error).message, 'nope');
  }
});

test.run();
