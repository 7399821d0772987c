// The inotify event source (lib/daemon/inotify-source.ts) on a real temp directory: a closed
// file is a settled change; a rename is one `moved` with both names; a renamed directory's
// watches follow it (a file made in it afterwards has the new path); a directory made with its
// subdirectories at once is watched all the way down; a move out of the tree is a removal;
// and a queue overflow (more events than fs.inotify.max_queued_events while the loop is busy)
// is a `rescan`, never silence. Skipped without the native addon.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FsChange } from '../../lib/daemon/fs-change.js';
import { InotifySource, PAIR_WAIT_MS } from '../../lib/daemon/inotify-source.js';
import { native } from '../../lib/native/load.js';
import { tempDir } from '../helpers/run-cli.js';

let tmp: { path: string; cleanup: () => void };
test.before(() => { tmp = tempDir('inotify-source-'); });
test.after(() => tmp.cleanup());

const settle = (ms = PAIR_WAIT_MS * 3) => new Promise((r) => setTimeout(r, ms));
const shown = (root: string) => (c: FsChange) => {
  const rel = (p: Buffer | null) => p === null ? '*' : path.relative(root, p.toString());
  if (c.kind === 'moved') return `moved ${rel(c.from)} ${rel(c.path)}`;
  if (c.kind === 'changed') return `changed ${rel(c.path)}${c.closed ? ' closed' : ''}`;
  return `${c.kind} ${rel(c.path)}`;
};

function watched(name: string): { root: string; changes: FsChange[]; source: InotifySource } {
  const root = path.join(tmp.path, name);
  fs.mkdirSync(root, { recursive: true });
  const changes: FsChange[] = [];
  const source = new InotifySource({ onChange: (c) => changes.push(c), skip: () => false });
  source.watchTree(Buffer.from(root));
  return { root, changes, source };
}

const skip = native ? null : 'the native addon is not loaded';
const run = (name: string, fn: () => Promise<void>) => test(name, async () => {
  if (skip) { console.log(`  skipped: ${skip}`); return; }
  await fn();
});

run('a closed file, a rename, a removal, a move out of the tree', async () => {
  const { root, changes, source } = watched('basic');
  try {
    fs.writeFileSync(path.join(root, 'f'), 'x');
    fs.renameSync(path.join(root, 'f'), path.join(root, 'g'));
    fs.renameSync(path.join(root, 'g'), path.join(tmp.path, 'outside'));
    await settle();
    const seen = changes.map(shown(root));
    assert.ok(seen.includes('changed f closed'), seen.join('; '));
    assert.ok(seen.includes('moved f g'), seen.join('; '));
    assert.ok(seen.includes('removed g'), `a move out is a removal: ${seen.join('; ')}`);
  } finally {
    source.close();
  }
});

run('a renamed directory keeps its watches under its new name; a tree made at once is watched all the way down', async () => {
  const { root, changes, source } = watched('dirs');
  try {
    fs.mkdirSync(path.join(root, 'a/b'), { recursive: true });
    await settle();
    fs.renameSync(path.join(root, 'a'), path.join(root, 'z'));
    await settle();
    fs.writeFileSync(path.join(root, 'z/b/inside'), 'y');
    fs.mkdirSync(path.join(root, 'p/q/r/s'), { recursive: true });
    await settle();
    fs.writeFileSync(path.join(root, 'p/q/r/s/leaf'), 'z');
    await settle();
    const seen = changes.map(shown(root));
    assert.ok(seen.includes('moved a z'), seen.join('; '));
    assert.ok(seen.includes('changed z/b/inside closed'), `the new path, not a/b/inside: ${seen.join('; ')}`);
    assert.ok(seen.includes('changed p/q/r/s/leaf closed'), seen.join('; '));
    assert.is(source.watches, 1 + 2 + 4);
  } finally {
    source.close();
  }
});

run('a directory moved out of the tree loses its watches: none left to report changes there', async () => {
  const { root, changes, source } = watched('move-out');
  try {
    fs.mkdirSync(path.join(root, 'd/e'), { recursive: true });
    await settle();
    const before = source.watches;
    fs.renameSync(path.join(root, 'd'), path.join(tmp.path, 'trash-d'));
    await settle();
    assert.is(source.watches, before - 2, 'd and d/e unwatched');
    const seen = changes.length;
    fs.writeFileSync(path.join(tmp.path, 'trash-d/e/later'), 'x');
    await settle();
    assert.is(changes.length, seen, 'no change reported from outside the tree');
  } finally {
    source.close();
  }
});

run('a queue overflow is a rescan, never silence', async () => {
  const { root, changes, source } = watched('overflow');
  try {
    const limit = Number(fs.readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
    if (limit > 200_000) { console.log(`  skipped: max_queued_events is ${limit}, too many to overflow in a test`); return; }
    // The loop is busy here, so nothing reads the queue: it fills and overflows.
    for (let i = 0; i < limit / 2 + 100; i++) fs.writeFileSync(path.join(root, `f${i}`), '');
    await settle();
    const rescans = changes.filter((c) => c.kind === 'rescan');
    assert.ok(rescans.length >= 1, 'a rescan');
    assert.match((rescans[0] as { why: string }).why, /overflowed/);
  } finally {
    source.close();
  }
});

test.run();
