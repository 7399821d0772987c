/**
 * The index walk's remembered verdict (lib/index/walk-verdict.ts, StoreIndex.open): a file no
 * one has written since a walk passed on it is not walked again; any write (an LMDB commit, a
 * scribble, the same bytes written back) makes the next open walk; `store check`'s 'all' always
 * walks; a damaged verdict file is ignored; a read-only open remembers nothing. Real LMDB.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blake3 } from '../../lib/hash/blake3.js';
import { type IndexWalk, StoreIndex } from '../../lib/index/store-index.js';
import { walkKey } from '../../lib/index/walk-verdict.js';

let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-walkverdict-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

let n = 0;
async function freshIndex(): Promise<string> {
  const d = join(dir, `idx-${n++}`);
  const idx = StoreIndex.open(d);
  await idx.putSnapshot(blake3().hash(Buffer.from(d)).toString('hex'), { time: '2026-01-01T00:00:00Z', tags: [] });
  await idx.markComplete();
  await idx.close();
  return d;
}

async function checkOf(d: string, walk?: IndexWalk, readOnly = false): Promise<string> {
  const idx = StoreIndex.open(d, { walk, readOnly });
  const how = idx.fileCheck;
  await idx.close();
  return how;
}

test('walked once, then remembered while nothing writes the file', async () => {
  const d = await freshIndex();
  assert.is(await checkOf(d), 'walked');
  assert.ok(existsSync(join(d, 'index.mdb-walked')));
  assert.is(await checkOf(d), 'remembered');
  assert.is(await checkOf(d, 'catalogue'), 'remembered', "a walk of every tree covers the catalogue's");
  assert.is(await checkOf(d, 'none'), 'checked');
});

test('a commit, or bytes written over the file, make the next open walk', async () => {
  const d = await freshIndex();
  await checkOf(d);
  const idx = StoreIndex.open(d);
  await idx.putSnapshot(blake3().hash(Buffer.from('another')).toString('hex'), { time: '2026-01-02T00:00:00Z', tags: [] });
  await idx.close();
  assert.is(await checkOf(d), 'walked', 'after a commit');
  assert.is(await checkOf(d), 'remembered');
  // The same bytes written back: the ctime moves, and that is enough.
  const file = join(d, 'index.mdb');
  const before = walkKey(file);
  writeFileSync(file, readFileSync(file));
  assert.is.not(walkKey(file), before);
  assert.is(await checkOf(d), 'walked', 'after a rewrite');
});

test("a catalogue walk's verdict does not stand for every tree; 'all' always walks", async () => {
  const d = await freshIndex();
  assert.is(await checkOf(d, 'catalogue'), 'walked');
  assert.is(await checkOf(d, 'catalogue'), 'remembered');
  assert.is(await checkOf(d), 'walked', 'the chunk trees were not walked yet');
  assert.is(await checkOf(d, 'all'), 'walked');
  assert.is(await checkOf(d, 'all'), 'walked');
});

test('a damaged or foreign verdict file is ignored and replaced; a read-only open remembers nothing', async () => {
  const d = await freshIndex();
  const verdict = join(d, 'index.mdb-walked');
  writeFileSync(verdict, '{"v":1,"key":"not this file","trees":"all"}\n');
  assert.is(await checkOf(d), 'walked');
  assert.is(await checkOf(d), 'remembered');
  writeFileSync(verdict, 'garbage');
  assert.is(await checkOf(d), 'walked');
  rmSync(verdict);
  assert.is(await checkOf(d, undefined, true), 'walked');
  assert.not.ok(existsSync(verdict), 'read-only: nothing written');
  assert.is(await checkOf(d, undefined, true), 'walked');
});

test('walkKey: none for a missing file; it names size, ctime, both metas and the bytes', async () => {
  const d = await freshIndex();
  const file = join(d, 'index.mdb');
  assert.is(walkKey(join(d, 'missing.mdb')), null);
  const key = walkKey(file)!;
  assert.is(key.split(':').length, 4);
  assert.is(walkKey(file), key, 'stable while nothing writes');
});

test.run();
