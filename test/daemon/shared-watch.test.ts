// SharedWatch over a real inotify source: one event source for every handle, closed with the
// last, and reopened only when the root is another directory than it was opened on.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FsChange } from '../../lib/daemon/fs-change.js';
import { SharedWatch } from '../../lib/daemon/shared-watch.js';
import { native } from '../../lib/native/load.js';
import { tempDir } from '../helpers/run-cli.js';

let tmp: { path: string; cleanup: () => void };
test.before(() => { tmp = tempDir('shared-watch-'); });
test.after(() => tmp.cleanup());

const inotifyFds = () => fs.readdirSync('/proc/self/fd').filter((f) => { try { return fs.readlinkSync(`/proc/self/fd/${f}`) === 'anon_inode:inotify'; } catch { return false; } }).length;
const settle = () => new Promise((r) => setTimeout(r, 100));
const user = (seen: string[]) => ({ onChange: (c: FsChange) => { if (c.kind !== 'rescan') seen.push(path.basename(c.path.toString())); }, skip: () => false });

test('every handle gets every change; the event source closes with the last handle', async () => {
  if (!native) { console.log('  skipped: no native addon'); return; }
  const root = path.join(tmp.path, 'one');
  fs.mkdirSync(root);
  const before = inotifyFds();
  const w = new SharedWatch(Buffer.from(root), 'inotify');
  const a: string[] = [], b: string[] = [];
  const ha = w.open(user(a)), hb = w.open(user(b));
  ha.source.watchTree(Buffer.from(root));
  assert.is(inotifyFds(), before + 1);
  fs.writeFileSync(path.join(root, 'x'), 'x');
  await settle();
  assert.ok(a.includes('x') && b.includes('x'), `${a} ${b}`);
  ha.source.close();
  assert.is(inotifyFds(), before + 1, 'still open for the other handle');
  fs.writeFileSync(path.join(root, 'y'), 'y');
  await settle();
  assert.not.ok(a.includes('y'), 'a closed handle hears nothing');
  assert.ok(b.includes('y'));
  hb.source.close();
  assert.is(inotifyFds(), before);
});

test('a handle opened again on the same root shares the source; on a replaced root the source is reopened for all', async () => {
  if (!native) { console.log('  skipped: no native addon'); return; }
  const root = path.join(tmp.path, 'two');
  fs.mkdirSync(root);
  const w = new SharedWatch(Buffer.from(root), 'inotify');
  const a: string[] = [], b: string[] = [];
  const ha = w.open(user(a));
  ha.source.watchTree(Buffer.from(root));
  let hb = w.open(user(b));
  const fds = inotifyFds();
  hb.source.close();
  hb = w.open(user(b));  // a mirror back from an outage: same root, same source
  assert.is(inotifyFds(), fds);
  fs.renameSync(root, `${root}-old`);
  fs.mkdirSync(root);
  hb.source.close();
  hb = w.open(user(b));  // the root replaced: reopened, and every handle follows
  hb.source.watchTree(Buffer.from(root));
  fs.writeFileSync(path.join(root, 'z'), 'z');
  await settle();
  assert.ok(a.includes('z') && b.includes('z'), `${a} ${b}`);
  assert.is(ha.source.watches, hb.source.watches);
  ha.source.close();
  hb.source.close();
});

test.run();
