// ChangedDirs (lib/daemon/changed-dirs.ts): which directories a snapshot must list after the
// changes a watch saw. An entry's change touches its directory and every one above; a
// directory made or moved in touches all of itself; a move touches both sides; a lost event,
// or a change of the root itself, touches everything; paths outside the root are ignored.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChangedDirs } from '../../lib/daemon/changed-dirs.js';

const B = (s: string) => Buffer.from(s);

test('an entry touches its directory and those above, not its siblings or what lies below', () => {
  const c = new ChangedDirs(B('/src'));
  assert.ok(c.empty);
  c.add({ kind: 'changed', path: B('/src/a/b/f'), dir: false, closed: true });
  assert.not.ok(c.empty);
  for (const rel of ['', 'a', 'a/b']) assert.ok(c.touches(rel), rel);
  for (const rel of ['a/c', 'a/b/d', 'b', 'a/bb']) assert.not.ok(c.touches(rel), rel);
});

test('only the directory an entry is in has its own entries changed; those above are spliced', () => {
  const c = new ChangedDirs(B('/src'));
  c.add({ kind: 'changed', path: B('/src/a/b/f'), dir: false, closed: true });
  assert.ok(c.entriesChanged('a/b'));
  for (const rel of ['', 'a', 'a/c', 'a/b/d']) assert.not.ok(c.entriesChanged(rel), rel);
  c.add({ kind: 'moved', from: B('/src/x/old'), path: B('/src/y/moved'), dir: true });
  for (const rel of ['x', 'y', 'y/moved', 'y/moved/in/side']) assert.ok(c.entriesChanged(rel), rel);
  c.add({ kind: 'removed', path: B('/src/top'), dir: false });
  assert.ok(c.entriesChanged(''), 'an entry of the root');
  const r = new ChangedDirs(B('/src'));
  r.add({ kind: 'rescan', path: null, why: 'overflow' });
  assert.ok(r.entriesChanged('any/where'));
});

test('touchedChildren names exactly the subdirectories touches() is true for', () => {
  const c = new ChangedDirs(B('/src'));
  for (const p of ['/src/a/b/f', '/src/a/c/d/g', '/src/e/h', '/src/a/b/f2']) c.add({ kind: 'changed', path: B(p), dir: false, closed: true });
  c.add({ kind: 'changed', path: B('/src/a/made'), dir: true, closed: false });
  const names = (rel: string) => [...c.touchedChildren(rel)].sort();
  assert.equal(names(''), ['a', 'e']);
  assert.equal(names('a'), ['b', 'c', 'made']);
  assert.equal(names('a/c'), ['d']);
  assert.equal(names('a/b'), []);
  for (const rel of ['', 'a', 'a/c', 'e']) for (const name of names(rel)) assert.ok(c.touches(rel === '' ? name : `${rel}/${name}`));
});

test('a directory made or moved in is listed all the way down; a removed one only in its parent', () => {
  const c = new ChangedDirs(B('/src'));
  c.add({ kind: 'changed', path: B('/src/new'), dir: true, closed: false });
  assert.ok(c.touches('new/deep/er'));
  c.add({ kind: 'moved', from: B('/src/x/old'), path: B('/src/y/moved'), dir: true });
  assert.ok(c.touches('x'), 'the old parent');
  assert.not.ok(c.touches('x/old'), 'the old name is gone: nothing to list there');
  assert.ok(c.touches('y/moved/inside'));
  c.add({ kind: 'removed', path: B('/src/z/gone'), dir: true });
  assert.ok(c.touches('z'));
  assert.not.ok(c.touches('z/gone'));
});

test('a lost event or the root itself: everything; outside the root: nothing', () => {
  const c = new ChangedDirs(B('/src'));
  c.add({ kind: 'changed', path: B('/elsewhere/f'), dir: false, closed: true });
  assert.ok(c.empty);
  c.add({ kind: 'rescan', path: null, why: 'overflow' });
  assert.ok(c.everything && c.touches('any/where'));
  assert.is(c.why, 'overflow', 'the reason is kept for the log');
  const r = new ChangedDirs(B('/src'));
  r.add({ kind: 'changed', path: B('/src'), dir: true, closed: false });
  assert.ok(r.everything);
});

test('changedNames: the names events gave in a directory; null where it must be listed', () => {
  const c = new ChangedDirs(B('/src'));
  const names = (rel: string) => { const n = c.changedNames(rel); return n === null ? null : [...n].sort(); };
  c.add({ kind: 'changed', path: B('/src/a/b/f'), dir: false, closed: true });
  c.add({ kind: 'removed', path: B('/src/a/b/g'), dir: false });
  c.add({ kind: 'changed', path: B('/src/a/b/f'), dir: false, closed: true });
  c.add({ kind: 'moved', from: B('/src/a/b/h'), path: B('/src/a/i'), dir: false });
  c.add({ kind: 'changed', path: B('/src/a/made'), dir: true, closed: false });
  c.add({ kind: 'changed', path: B('/src/a/made/inside'), dir: false, closed: true });
  assert.equal(names('a/b'), ['f', 'g', 'h']);
  assert.equal(names('a'), ['i', 'made']);
  assert.is(names(''), null, 'no entry of the root changed: it is spliced by its subdirectories, not by names');
  assert.is(names('a/made'), null, 'a new directory is listed all the way down');
  for (let k = 0; k < 1100; k++) c.add({ kind: 'changed', path: B(`/src/burst/f${k}`), dir: false, closed: true });
  assert.is(names('burst'), null, 'past 1,024 names a directory is listed');
  const r = new ChangedDirs(B('/src'));
  r.add({ kind: 'changed', path: B('/src/a/b/f'), dir: false, closed: true });
  r.add({ kind: 'rescan', path: null, why: 'overflow' });
  assert.is(r.changedNames('a/b'), null, 'after a lost event everything is listed');
});

test.run();
