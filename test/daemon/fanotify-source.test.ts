// The fanotify event source (lib/daemon/fanotify-source.ts) on a real temp directory, as root:
// a closed file, a rename in one event with both names, a directory renamed (the handle cache
// cleared: a file made in it has the new path), a file made outside the source not reported.
// A handle names its directory as it is when the event is read, not as it was. On a tmpfs of
// its own (no one else's events): a directory outside the source that changes stops sending
// events (an ignore mark), and is heard again once moved into the source.
// Skipped, saying why, where fanotify cannot be had (not root, old kernel, no addon).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FanotifySource } from '../../lib/daemon/fanotify-source.js';
import type { FsChange } from '../../lib/daemon/fs-change.js';
import { native } from '../../lib/native/load.js';
import { mountTestFs } from '../helpers/loop-fs.js';
import { tempDir } from '../helpers/run-cli.js';

let tmp: { path: string; cleanup: () => void };
test.before(() => { tmp = tempDir('fanotify-source-'); });
test.after(() => tmp.cleanup());

const settle = () => new Promise((r) => setTimeout(r, 100));

test('changes in the source, with paths; changes outside it not reported', async () => {
  const root = path.join(tmp.path, 'src');
  fs.mkdirSync(path.join(root, 'dir'), { recursive: true });
  const changes: FsChange[] = [];
  let source: FanotifySource;
  try {
    if (!native) throw new Error('no native addon');
    source = new FanotifySource(Buffer.from(root), { onChange: (c) => changes.push(c), skip: () => false });
    source.watchTree();
  } catch (err) {
    console.log(`  skipped: fanotify cannot be used here: ${(err as Error).message}`);
    return;
  }
  try {
    const rel = (p: Buffer) => path.relative(root, p.toString());
    fs.writeFileSync(path.join(root, 'f'), 'x');
    fs.renameSync(path.join(root, 'f'), path.join(root, 'dir', 'g'));
    fs.renameSync(path.join(root, 'dir'), path.join(root, 'moved'));
    fs.writeFileSync(path.join(root, 'moved', 'inside'), 'y');
    fs.writeFileSync(path.join(tmp.path, 'outside'), 'z');
    fs.writeFileSync(path.join(os.tmpdir(), `fanotify-outside-${process.pid}`), 'z');
    await settle();
    fs.rmSync(path.join(os.tmpdir(), `fanotify-outside-${process.pid}`));
    const seen = changes.map((c) => c.kind === 'moved' ? `moved ${rel(c.from)} ${rel(c.path)}` : c.kind === 'rescan' ? 'rescan' : `${c.kind} ${rel(c.path)}${c.kind === 'changed' && c.closed ? ' closed' : ''}`);
    assert.ok(seen.includes('changed f closed'), seen.join('; '));
    // A handle is resolved when the event is read, so a directory renamed meanwhile shows its
    // new name: 'dir/g' or 'moved/g' (the mirror's syncs converge either way).
    assert.ok(seen.includes('moved f dir/g') || seen.includes('moved f moved/g'), seen.join('; '));
    assert.ok(seen.includes('moved dir moved'), seen.join('; '));
    assert.ok(seen.includes('changed moved/inside closed'), `the new path after the directory's rename: ${seen.join('; ')}`);
    assert.not.ok(seen.some((s) => s.includes('outside')), seen.join('; '));
    assert.is(source.watches, 1);
  } finally {
    source.close();
  }
});

/**
 * A FanotifySource on `src` of a tmpfs of its own (so the events counted are the test's alone),
 * with `out` beside it; null, the skip printed, where that cannot be had.
 */
function tmpfsSource() {
  if (!native) { console.log('  skipped: no native addon'); return null; }
  const mnt = mountTestFs('tmpfs', 4);
  if ('skip' in mnt) { console.log(`  skipped: ${mnt.skip}`); return null; }
  const root = path.join(mnt.mountPoint, 'src'), out = path.join(mnt.mountPoint, 'out');
  fs.mkdirSync(root);
  fs.mkdirSync(out);
  const changes: FsChange[] = [];
  try {
    const source = new FanotifySource(Buffer.from(root), { onChange: (c) => changes.push(c), skip: () => false });
    return { root, out, mnt, changes, source };
  } catch (err) {
    mnt.cleanup();
    console.log(`  skipped: fanotify cannot be used here: ${(err as Error).message}`);
    return null;
  }
}

test('an outside directory that changes is ignored by the kernel until it is moved into the source', async () => {
  const t = tmpfsSource();
  if (!t) return;
  const { root, out, mnt, changes, source } = t;
  fs.mkdirSync(path.join(out, 'sub'));
  try {
    fs.writeFileSync(path.join(out, 'first'), 'x');
    fs.writeFileSync(path.join(out, 'sub', 'first'), 'x');
    await settle();
    const before = source.stats.events;
    for (let i = 0; i < 20; i++) { fs.writeFileSync(path.join(out, `f${i}`), 'x'); fs.mkdirSync(path.join(out, `d${i}`)); fs.rmSync(path.join(out, `f${i}`)); }
    await settle();
    // Without the mark: 20 x (create, modify, close, mkdir, delete) events read and dropped.
    assert.is(source.stats.events - before, 0, 'events of an ignored outside directory were read');
    assert.ok(changes.every((c) => c.kind !== 'rescan' && !c.path.toString().includes('/out/')), 'nothing outside reported');
    fs.renameSync(out, path.join(root, 'in'));
    // What happens in it before the move is read is dropped still: the move itself says to
    // list it whole. From then on its events come.
    await settle();
    fs.writeFileSync(path.join(root, 'in', 'after'), 'y');
    fs.writeFileSync(path.join(root, 'in', 'sub', 'deeper'), 'y');
    await settle();
    // The root's parent changes too, but is not ignored: its ignore mask would hide the root's own chmod.
    fs.writeFileSync(path.join(mnt.mountPoint, 'beside'), 'z');
    await settle();
    fs.chmodSync(root, 0o750);
    await settle();
    const seen = changes.map((c) => c.kind === 'rescan' ? 'rescan' : path.relative(root, c.path.toString()) || '.');
    assert.ok(seen.includes('.'), `the root's chmod: ${seen.join('; ')}`);
    assert.ok(seen.includes('in'), `the move in: ${seen.join('; ')}`);
    assert.ok(seen.includes('in/after'), `a file made in the directory moved in: ${seen.join('; ')}`);
    assert.ok(seen.includes('in/sub/deeper'), `and below it: ${seen.join('; ')}`);
  } finally {
    source.close();
    mnt.cleanup();
  }
});

/** Makes `levels` directories of 250-byte names below `base` (past PATH_MAX: by relative cd) and writes a file at the bottom, `times` times. */
function deepWrite(base: string, levels: number, times: number): void {
  const name = 'd'.repeat(250);
  const r = spawnSync('bash', ['-c', `cd "$1" && for i in $(seq ${levels}); do mkdir -p ${name} && cd ${name}; done && for i in $(seq ${times}); do echo x > f$i; done`, 'deep', base], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
}

test('a directory whose path is too long: outside the source dropped and ignored, inside a rescan', async () => {
  const t = tmpfsSource();
  if (!t) return;
  const { root, out, mnt, changes, source } = t;
  try {
    deepWrite(out, 20, 1);
    await settle();
    const before = source.stats.events;
    deepWrite(out, 20, 10);
    await settle();
    assert.equal(changes.filter((c) => c.kind === 'rescan'), [], 'a deep directory outside the source is not a rescan');
    assert.is(source.stats.events - before, 0, 'and it is ignored from then on');
    deepWrite(root, 20, 1);
    await settle();
    assert.ok(changes.some((c) => c.kind === 'rescan'), 'one inside is a rescan');
  } finally {
    source.close();
    mnt.cleanup();
  }
});

test.run();
