/**
 * lib/fs/new-files.ts (native/src/write_files.cc) on a real directory: a batch of new files made
 * at their names with their data, size, mode and times (to the ns); a file that cannot be made
 * fails alone with an error naming it, and takes nothing of what was there.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NewFiles } from '../../lib/fs/new-files.js';
import { tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir('new-files-');
test.after(() => t.cleanup());

const b = (s: string) => Buffer.from(s);

test('a batch: each file at its name with its bytes, size, mode and times; one in the way fails alone', () => {
  if (!NewFiles.available) { console.log('  skip: no addon'); return; }
  const dir = join(t.path, 'a'), other = join(t.path, 'b');
  mkdirSync(dir);
  mkdirSync(other);
  writeFileSync(join(dir, 'taken'), 'was here');
  const files = new NewFiles();
  const specs = [
    { path: join(dir, 'one'), data: seededBytes(5000, 1), size: 5000, mode: 0o640, mtimeNs: 1_600_000_000_123_456_789n },
    { path: join(dir, 'taken'), data: seededBytes(10, 2), size: 10, mode: 0o644, mtimeNs: 1n },
    { path: join(other, 'long'), data: seededBytes(100, 3), size: 4096, mode: 0o4755, mtimeNs: -1_000_000_001n },
    { path: join(t.path, 'missing', 'x'), data: seededBytes(10, 4), size: 10, mode: 0o600, mtimeNs: 0n },
    { path: join(dir, 'empty'), data: Buffer.alloc(0), size: 0, mode: 0o600, mtimeNs: 5n },
  ];
  for (const s of specs) {
    files.data(s.data.length).set(s.data);
    files.add(b(s.path), { size: s.size, mode: 0o100000 | s.mode, atimeNs: 7n, mtimeNs: s.mtimeNs }, s.data.length);
  }
  const errors = files.write();
  assert.is(files.size, 0, 'started over');
  assert.equal(errors.map((e) => e === null), [true, false, true, false, true]);
  assert.match(errors[1]!.message, `cannot create ${specs[1].path}: file already exists`);
  assert.match(errors[3]!.message, /no such file or directory/);
  assert.is(readFileSync(specs[1].path, 'utf8'), 'was here', 'what was in the way is untouched');
  for (const s of [specs[0], specs[2], specs[4]]) {
    // (Before reading: a read moves an atime older than the mtime.)
    const st = statSync(s.path, { bigint: true });
    assert.is(Number(st.mode & 0o7777n), s.mode);
    assert.is(st.mtimeNs, s.mtimeNs);
    assert.is(st.atimeNs, 7n);
    const got = readFileSync(s.path);
    assert.is(got.length, s.size);
    assert.ok(got.subarray(0, s.data.length).equals(s.data));
    assert.ok(got.subarray(s.data.length).every((x) => x === 0), 'extended to its size');
  }
});

test.run();
