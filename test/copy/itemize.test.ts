/**
 * lib/copy/itemize.ts, pure: rsync's YXcstpoguax strings for each kind of action, type and
 * change.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DELETING, itemize, typeLetter, unchanged } from '../../lib/copy/itemize.js';

test('new entries: Y by action, X by type, nine +', () => {
  assert.is(itemize('write', 'file', true), '>f+++++++++');
  assert.is(itemize('create', 'dir', true), 'cd+++++++++');
  assert.is(itemize('create', 'symlink', true), 'cL+++++++++');
  assert.is(itemize('create', 'chardev', true), 'cD+++++++++');
  assert.is(itemize('create', 'blockdev', true), 'cD+++++++++');
  assert.is(itemize('create', 'fifo', true), 'cS+++++++++');
  assert.is(itemize('create', 'socket', true), 'cS+++++++++');
  assert.is(itemize('hardlink', 'file', true), 'hf+++++++++');
});

test('changes: one letter per attribute, in rsync\'s order; u is never set (no --atimes)', () => {
  assert.is(itemize('write', 'file', false, { size: true, time: true }), '>f.st......');
  assert.is(itemize('write', 'file', false, { checksum: true }), '>fc........');
  assert.is(itemize('attrs', 'file', false, { perms: true }), '.f...p.....');
  assert.is(itemize('attrs', 'dir', false, { time: true, owner: true, group: true }), '.d..t.og...');
  assert.is(itemize('attrs', 'file', false, { acl: true, xattrs: true }), '.f.......ax');
  assert.is(itemize('attrs', 'symlink', false, { time: true }), '.L..t......');
  const all = itemize('write', 'file', false, { checksum: true, size: true, time: true, perms: true, owner: true, group: true, acl: true, xattrs: true });
  assert.is(all, '>fcstpog.ax');
  assert.is(all.length, 11);
  assert.is(DELETING, '*deleting  ');
  assert.is(DELETING.length, 11);
});

test('unchanged(): only an attrs string with no letter', () => {
  assert.ok(unchanged(itemize('attrs', 'file', false)));
  assert.ok(unchanged(itemize('attrs', 'dir', false, {})));
  assert.not.ok(unchanged(itemize('attrs', 'file', false, { time: true })));
  assert.not.ok(unchanged(itemize('write', 'file', false)));
  assert.not.ok(unchanged(itemize('hardlink', 'file', false)));
  assert.is(typeLetter('socket'), 'S');
});

test.run();
