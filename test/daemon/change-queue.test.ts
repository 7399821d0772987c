// The daemon's change queue (lib/daemon/change-queue.ts), driven by scripted changes and a
// scripted clock: writes to one path merge into one sync; a file still being written waits for
// quiet, but not past the longest wait; operations on overlapping paths run one at a time in
// the order of their first change, others in parallel; a change to a path whose sync is
// running queues a new sync behind it; a rescan takes over the syncs it covers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChangeQueue, MAX_WAIT_MS, type MirrorOp, overlaps, QUIET_MS } from '../../lib/daemon/change-queue.js';
import type { FsChange } from '../../lib/daemon/fs-change.js';

const B = (s: string) => Buffer.from(s);
const changed = (p: string, closed = true, dir = false): FsChange => ({ kind: 'changed', path: B(p), dir, closed });
const show = (ops: MirrorOp[]) => ops.map((o) => o.kind === 'move' ? `move ${o.from}>${o.path}` : `${o.kind} ${o.path ?? '*'}`);

test('overlaps: the same path, or one below the other, component-wise', () => {
  assert.ok(overlaps(B('/s/a'), B('/s/a')));
  assert.ok(overlaps(B('/s/a'), B('/s/a/b')));
  assert.ok(overlaps(B('/s/a/b'), B('/s/a')));
  assert.not.ok(overlaps(B('/s/a'), B('/s/ab')));
  assert.ok(overlaps(null, B('/s/x')));
});

test('many writes to one closed file: one sync, at once', () => {
  const q = new ChangeQueue();
  for (let i = 0; i < 50; i++) q.add(changed('/s/f'), 0);
  assert.equal(show(q.take(0, 8)), ['sync /s/f']);
  assert.equal(q.take(0, 8), []);
});

test('a file still being written waits for quiet, at most MAX_WAIT_MS after its first change', () => {
  const q = new ChangeQueue();
  q.add(changed('/s/log', false), 0);
  assert.equal(q.take(QUIET_MS - 1, 8), []);
  assert.is(q.nextDue(0), QUIET_MS);
  for (let t = 10; t < MAX_WAIT_MS + 200; t += 10) {
    q.add(changed('/s/log', false), t);
    const ops = q.take(t, 8);
    if (ops.length > 0) {
      assert.ok(t >= MAX_WAIT_MS, `taken at ${t}: before the longest wait although writes kept coming`);
      return;
    }
  }
  assert.unreachable('never taken while writes kept coming');
});

test('its close sends it at once', () => {
  const q = new ChangeQueue();
  q.add(changed('/s/f', false), 0);
  q.add(changed('/s/f', true), 5);
  assert.equal(show(q.take(5, 8)), ['sync /s/f']);
});

test('independent paths run in parallel, up to the limit', () => {
  const q = new ChangeQueue();
  for (const p of ['/s/a', '/s/b', '/s/c']) q.add(changed(p), 0);
  assert.equal(show(q.take(0, 2)), ['sync /s/a', 'sync /s/b']);
  assert.equal(show(q.take(0, 2)), ['sync /s/c']);
});

test('a change during its sync queues another sync behind it', () => {
  const q = new ChangeQueue();
  q.add(changed('/s/f'), 0);
  const [first] = q.take(0, 8);
  q.add(changed('/s/f'), 1);
  assert.equal(q.take(1, 8), [], 'not while the first runs');
  q.done(first);
  assert.equal(show(q.take(2, 8)), ['sync /s/f']);
});

test('a rename chain runs in order; files under a moving directory wait for the move', () => {
  const q = new ChangeQueue();
  q.add({ kind: 'moved', from: B('/s/a'), path: B('/s/b'), dir: false }, 0);
  q.add({ kind: 'moved', from: B('/s/b'), path: B('/s/c'), dir: false }, 0);
  q.add({ kind: 'moved', from: B('/s/d'), path: B('/s/e'), dir: true }, 0);
  q.add(changed('/s/e/x'), 0);
  q.add(changed('/s/other'), 0);
  const first = q.take(0, 8);
  assert.equal(show(first), ['move /s/a>/s/b', 'move /s/d>/s/e', 'sync /s/other']);
  q.done(first[1]);
  assert.equal(show(q.take(0, 8)), ['sync /s/e/x']);
  q.done(first[0]);
  assert.equal(show(q.take(0, 8)), ['move /s/b>/s/c']);
});

test('a directory sync waits for what runs below it, and holds back later changes below it', () => {
  const q = new ChangeQueue();
  q.add(changed('/s/d/f'), 0);
  const [f] = q.take(0, 8);
  q.add(changed('/s/d', true, true), 1);
  q.add(changed('/s/d/g'), 2);
  assert.equal(q.take(2, 8), []);
  q.done(f);
  const [d] = q.take(3, 8);
  assert.equal(show([d]), ['sync /s/d']);
  assert.equal(q.take(3, 8), []);
  q.done(d);
  assert.equal(show(q.take(4, 8)), ['sync /s/d/g']);
});

test('a rescan takes over the syncs it covers and waits for those running', () => {
  const q = new ChangeQueue();
  q.add(changed('/s/a'), 0);
  const [a] = q.take(0, 8);
  q.add(changed('/s/b'), 1);
  q.add({ kind: 'rescan', path: null, why: 'overflow' }, 2);
  q.add(changed('/s/c'), 3);
  assert.is(q.size, 3, 'a (running), the rescan, c');
  assert.equal(q.take(3, 8), [], 'the rescan waits for a; c waits for the rescan');
  q.done(a);
  const [r] = q.take(4, 8);
  assert.equal(show([r]), ['rescan *']);
  q.done(r);
  assert.equal(show(q.take(5, 8)), ['sync /s/c']);
});

test('a burst of 10,000 files: every one taken once, in order', () => {
  const q = new ChangeQueue();
  for (let i = 0; i < 10_000; i++) q.add(changed(`/s/d${i % 100}/f${i}`), 0);
  const seen: string[] = [];
  for (;;) {
    const ops = q.take(0, 4);
    if (ops.length === 0) break;
    for (const o of ops) { seen.push(String(o.path)); q.done(o); }
  }
  assert.is(seen.length, 10_000);
  assert.is(new Set(seen).size, 10_000);
  assert.is(seen[0], '/s/d0/f0');
});

test('bounded: past maxItems, the waiting operations give way to one rescan of everything', () => {
  const q = new ChangeQueue(QUIET_MS, MAX_WAIT_MS, 100);
  q.add(changed('/s/first'), 0);
  const [running] = q.take(0, 1);
  for (let i = 0; i < 98; i++) assert.is(q.add(changed(`/s/f${i}`), 0), null);
  q.add({ kind: 'moved', from: B('/s/x'), path: B('/s/y'), dir: false }, 0);
  assert.match(q.add(changed('/s/one-too-many'), 0)!, /more than 100 operations queued/);
  assert.is(q.size, 2, 'the running sync and one rescan');
  q.done(running);
  assert.equal(show(q.take(1, 8)), ['rescan *']);
});

test.run();
