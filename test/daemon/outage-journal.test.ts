import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { journalPath, OutageJournal } from '../../lib/daemon/outage-journal.js';
import { tempDir } from '../helpers/run-cli.js';

let tmp: { path: string; cleanup: () => void };
test.before(() => { tmp = tempDir('outage-journal-'); });
test.after(() => tmp.cleanup());

const read = (j: OutageJournal, batch?: number) => [...j.read(batch)].map((b) => (b === null ? null : b.map((p) => p.toString('latin1'))));

test('paths come back in batches, each once per batch, any byte but NUL in a name', () => {
  const j = new OutageJournal(path.join(tmp.path, 'a', 'x.journal'));
  assert.equal(read(j), [], 'nothing journaled: nothing to replay');
  for (const p of ['a', 'b/c', 'a', 'new\nline', Buffer.from([0xff, 0x41]).toString('latin1')]) j.append(Buffer.from(p, 'latin1'));
  assert.is(j.count, 5);
  assert.equal(read(j), [['a', 'b/c', 'new\nline', '\xffA']]);
  assert.equal(read(j, 2), [['a', 'b/c'], ['a', 'new\nline'], ['\xffA']]);
  assert.is(fs.statSync(j.path).mode & 0o777, 0o600);
  j.remove();
  assert.not.ok(fs.existsSync(j.path));
  assert.equal(read(j), []);
});

test('a lost event is "everything": the replay stops there, and nothing more is written', () => {
  const j = new OutageJournal(path.join(tmp.path, 'b.journal'));
  j.append(Buffer.from('first'));
  j.append(null);
  j.append(Buffer.from('after'));
  assert.equal(read(j), [null]);
  assert.is(fs.statSync(j.path).size, 'first'.length + 2);
  j.remove();
});

test('read in pieces: a journal larger than a piece, names across piece boundaries', () => {
  const j = new OutageJournal(path.join(tmp.path, 'c.journal'));
  const names = Array.from({ length: 60_000 }, (_, k) => `dir-${k % 97}/file-${k}-${'x'.repeat(k % 13)}`);
  for (const n of names) j.append(Buffer.from(n));
  assert.ok(fs.statSync(j.path).size > 1 << 20);
  const got = read(j, 10_000);
  assert.is(got.length, 6);
  assert.equal(got.flat(), names);
  j.remove();
});

test('one journal per mirror: the path names the source and the target', () => {
  const a = journalPath(Buffer.from('/src'), Buffer.from('/m1'), '/state');
  assert.match(a, /^\/state\/outage-[0-9a-f]{32}\.journal$/);
  assert.is.not(a, journalPath(Buffer.from('/src'), Buffer.from('/m2'), '/state'));
  assert.is.not(journalPath(Buffer.from('/a'), Buffer.from('b/c'), '/s'), journalPath(Buffer.from('/a/b'), Buffer.from('c'), '/s'));
});

test.run();
