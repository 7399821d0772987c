/**
 * Transient files (issue 23: "created then deleted, editor temporaries, are suppressed"): the
 * change queue (change-queue.ts) merges a removal into the sync still waiting for its path, and
 * that one sync, run by the real mirror (mirror.ts) on real directories, finds the file on
 * neither side and writes, deletes and versions nothing. Scripted events and clock, as the
 * daemon's event sources would send them (create, writes, close, removal in one read).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChangeQueue, type MirrorOp } from '../../lib/daemon/change-queue.js';
import type { FsChange } from '../../lib/daemon/fs-change.js';
import { Mirror } from '../../lib/daemon/mirror.js';
import { tempDir } from '../helpers/run-cli.js';

const B = (s: string) => Buffer.from(s);
const changed = (p: string, closed: boolean): FsChange => ({ kind: 'changed', path: B(p), dir: false, closed });
const removed = (p: string): FsChange => ({ kind: 'removed', path: B(p), dir: false });
const moved = (from: string, to: string): FsChange => ({ kind: 'moved', from: B(from), path: B(to), dir: false });

/** Runs every operation the queue gives at `now` on the mirror, in order; what they did in all. */
async function drain(q: ChangeQueue, mirror: Mirror, now: number): Promise<{ ops: MirrorOp[]; written: number; deleted: number }> {
  const all = { ops: [] as MirrorOp[], written: 0, deleted: 0 };
  for (let ops = q.take(now, 8); ops.length > 0; ops = q.take(now, 8)) {
    for (const op of ops) {
      const out = await mirror.run(op);
      assert.equal(out.problems, []);
      all.written += out.written;
      all.deleted += out.deleted;
      q.done(op);
    }
    all.ops.push(...ops);
  }
  return all;
}

function setup() {
  const t = tempDir('transient-');
  const src = join(t.path, 'src'), dst = join(t.path, 'dst');
  mkdirSync(src);
  mkdirSync(dst);
  const writes: string[] = [];
  const mirror = new Mirror(B(src), B(dst), {
    onWarn: (code, message) => assert.unreachable(`${code}: ${message}`),
    onWritten: (p) => writes.push(p.toString()),
  });
  return { t, src, dst, mirror, writes };
}

test('created, written, closed and removed in one read: one sync, which writes and versions nothing', async () => {
  const { t, src, dst, mirror, writes } = setup();
  try {
    const tmp = join(src, '4913');
    // The file existed between its events (vim's write test); it is gone when its sync runs.
    writeFileSync(tmp, 'probe');
    rmSync(tmp);
    const q = new ChangeQueue();
    q.add(changed(tmp, false), 0);
    q.add(changed(tmp, true), 0);
    q.add(removed(tmp), 0);
    const r = await drain(q, mirror, 0);
    assert.is(r.ops.length, 1, 'the removal merged into the waiting sync');
    assert.is(r.written, 0);
    assert.is(r.deleted, 0);
    assert.equal(writes, []);
    assert.equal(readdirSync(dst), []);
  } finally {
    t.cleanup();
  }
});

test('a swap file written for a while, then removed before quiet: nothing reaches the target', async () => {
  const { t, src, dst, mirror, writes } = setup();
  try {
    const swp = join(src, '.notes.swp');
    const q = new ChangeQueue();
    for (let ms = 0; ms < 40; ms += 10) q.add(changed(swp, false), ms);
    assert.equal(q.take(40, 8), [], 'still being written: it waits for quiet');
    q.add(removed(swp), 45);
    const r = await drain(q, mirror, 45);
    assert.is(r.ops.length, 1);
    assert.is(r.written + r.deleted, 0);
    assert.equal(writes, []);
    assert.not.ok(existsSync(join(dst, '.notes.swp')));
  } finally {
    t.cleanup();
  }
});

test('an editor save (temporary written, renamed over the file, swap removed): the file alone arrives, once', async () => {
  const { t, src, dst, mirror, writes } = setup();
  try {
    writeFileSync(join(src, 'notes'), 'old');
    writeFileSync(join(dst, 'notes'), 'old');
    const tmp = join(src, 'notes.tmp'), swp = join(src, '.notes.swp');
    writeFileSync(tmp, 'new text');
    renameSync(tmp, join(src, 'notes'));
    const q = new ChangeQueue();
    q.add(changed(swp, false), 0);
    q.add(changed(tmp, true), 1);
    q.add(moved(tmp, join(src, 'notes')), 2);
    q.add(removed(swp), 3);
    await drain(q, mirror, 3);
    assert.equal(readdirSync(dst).filter((n) => n !== '.foxing').sort(), ['notes']);
    assert.is(readFileSync(join(dst, 'notes'), 'utf8'), 'new text');
    assert.equal(writes, [join(dst, 'notes')], 'one write, of the file itself');
  } finally {
    t.cleanup();
  }
});

test.run();
