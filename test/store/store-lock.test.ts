// Store locks: shared/exclusive conflicts, messages naming the holder, stale locks, waiting.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockedError } from '../../lib/errors/index.js';
import { StoreLock } from '../../lib/store/store-lock.js';

let dir = '';
let n = 0;
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-lock-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });
const freshStore = () => { const p = join(dir, `store-${n++}`); mkdirSync(p); return p; };
const lockFiles = (root: string) => readdirSync(join(root, 'locks')).filter((f) => f.endsWith('.lock')).sort();

async function expectLocked(p: Promise<unknown>, pattern: RegExp): Promise<LockedError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, LockedError, `expected LockedError, got ${String(e)}`);
    assert.is((e as LockedError).code, 'LOCKED');
    assert.match((e as Error).message, pattern);
    return e as LockedError;
  }
  assert.unreachable('expected LockedError');
  throw new Error('unreachable');
}

test('two shared locks coexist; release removes the lock files', async () => {
  const root = freshStore();
  const a = await StoreLock.acquire(root, { exclusive: false, command: 'snap create A' });
  const b = await StoreLock.acquire(root, { exclusive: false, command: 'snap create B' });
  assert.is(lockFiles(root).length, 2);
  assert.ok(lockFiles(root).every((f) => f.startsWith(`shared-${process.pid}-`)));
  assert.is(a.info.pid, process.pid);
  assert.is(a.info.host, hostname());
  assert.is(a.info.exclusive, false);
  a.release();
  b.release();
  assert.equal(lockFiles(root), []);
});

test('exclusive vs shared conflicts name pid and command; the loser leaves no lock file', async () => {
  const root = freshStore();
  const shared = await StoreLock.acquire(root, { exclusive: false, command: 'snap create /home' });
  const e = await expectLocked(StoreLock.acquire(root, { exclusive: true, command: 'store gc' }),
    new RegExp(`locked shared by pid ${process.pid} on .*\\(snap create /home, since `));
  assert.ok(e.message.startsWith(root));
  assert.is((e.data.holder as { pid: number }).pid, process.pid);
  assert.is(lockFiles(root).length, 1);
  shared.release();

  const excl = await StoreLock.acquire(root, { exclusive: true, command: 'snap prune --keep-daily 7' });
  await expectLocked(StoreLock.acquire(root, { exclusive: false, command: 'snap create' }),
    new RegExp(`locked exclusively by pid ${process.pid} .*snap prune --keep-daily 7`));
  await expectLocked(StoreLock.acquire(root, { exclusive: true, command: 'store gc' }), /locked exclusively .*snap prune/);
  assert.is(lockFiles(root).length, 1);
  excl.release();
  const again = await StoreLock.acquire(root, { exclusive: true, command: 'store gc' });
  again.release();
  assert.equal(lockFiles(root), []);
});

test('a lock of a dead pid on this host is removed with a STALE_LOCK warning', async () => {
  const root = freshStore();
  mkdirSync(join(root, 'locks'));
  const stale = { pid: 999999, host: hostname(), start: null, command: 'snap create (killed)', exclusive: true, time: '2020-01-01T00:00:00.000Z' };
  writeFileSync(join(root, 'locks', 'exclusive-999999-deadbeef.lock'), JSON.stringify(stale) + '\n');
  const warnings: Array<[string, string, Record<string, unknown> | undefined]> = [];
  const lock = await StoreLock.acquire(root, { exclusive: false, command: 'snap create', onWarn: (c, m, d) => warnings.push([c, m, d]) });
  assert.is(warnings.length, 1);
  assert.is(warnings[0][0], 'STALE_LOCK');
  assert.match(warnings[0][1], /dead process 999999/);
  assert.match(warnings[0][1], /snap create \(killed\)/);
  assert.equal(warnings[0][2], { lock: 'exclusive-999999-deadbeef.lock' });
  assert.is(lockFiles(root).length, 1);
  assert.ok(lockFiles(root)[0].startsWith(`shared-${process.pid}-`));
  lock.release();
});

test('a lock of another host is never judged stale', async () => {
  const root = freshStore();
  mkdirSync(join(root, 'locks'));
  const other = { pid: 999999, host: `not-${hostname()}`, start: null, command: 'remote gc', exclusive: true, time: '2020-01-01T00:00:00.000Z' };
  writeFileSync(join(root, 'locks', 'exclusive-999999-cafe.lock'), JSON.stringify(other));
  const warnings: string[] = [];
  await expectLocked(StoreLock.acquire(root, { exclusive: false, command: 'snap create', onWarn: (c) => warnings.push(c) }),
    new RegExp(`pid 999999 on not-${hostname()}.*remote gc`));
  assert.equal(warnings, []);
  assert.equal(lockFiles(root), ['exclusive-999999-cafe.lock']);
});

test('a lock whose pid was reused (different start time) is stale', async () => {
  const root = freshStore();
  mkdirSync(join(root, 'locks'));
  const reused = { pid: process.pid, host: hostname(), start: 1, command: 'old', exclusive: true, time: '2020-01-01T00:00:00.000Z' };
  writeFileSync(join(root, 'locks', `exclusive-${process.pid}-0000.lock`), JSON.stringify(reused));
  const warnings: string[] = [];
  const lock = await StoreLock.acquire(root, { exclusive: true, command: 'gc', onWarn: (c) => warnings.push(c) });
  assert.equal(warnings, ['STALE_LOCK']);
  lock.release();
});

test('waitMs: waits for the holder to release, then succeeds', async () => {
  const root = freshStore();
  const holder = await StoreLock.acquire(root, { exclusive: true, command: 'store gc' });
  const t0 = Date.now();
  setTimeout(() => { void holder.release(); }, 600);
  const lock = await StoreLock.acquire(root, { exclusive: false, command: 'snap create', waitMs: 4000 });
  const waited = Date.now() - t0;
  assert.ok(waited >= 550, `acquired after ${waited} ms, before the holder released`);
  assert.ok(waited < 3000, `took ${waited} ms`);
  assert.equal(lockFiles(root).length, 1);
  lock.release();
});

test('waitMs: gives up with LockedError after the wait', async () => {
  const root = freshStore();
  const holder = await StoreLock.acquire(root, { exclusive: false, command: 'daemon' });
  const t0 = Date.now();
  await expectLocked(StoreLock.acquire(root, { exclusive: true, command: 'gc', waitMs: 700 }), /daemon/);
  const waited = Date.now() - t0;
  assert.ok(waited >= 650 && waited < 2500, `gave up after ${waited} ms`);
  assert.is(lockFiles(root).length, 1);
  await holder.release();
});

test.run();
