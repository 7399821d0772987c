// `foxingd sync -a --watch SRC DEST`, the real binary on temporary directories (ext4 or
// whatever the temp dir is): after each script of changes the target must become equal to the
// source (names, types, modes, mtimes to the ns, sizes, contents, symlink targets), checked by
// polling for up to CONVERGE_MS. The scripts are the reference's adversarial cases: a mix of
// every kind of change, rename-chain storms, a write storm during the hydration, a burst of
// 10,000 files, the target removed and put back, kill -9 and a restart. Skipped where the
// native addon (inotify) is not loaded.
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { native } from '../../lib/native/load.js';
import { compareCopy } from '../helpers/copy-tree.js';
import { mountTestFs } from '../helpers/loop-fs.js';
import { ROOT, tempDir } from '../helpers/run-cli.js';

const FOXINGD = path.join(ROOT, 'bin', 'foxingd.js');
const CONVERGE_MS = 20_000;

let tmp: { path: string; cleanup: () => void };
test.before(() => { tmp = tempDir('foxingd-sync-'); });
test.after(() => tmp.cleanup());

interface Daemon { proc: ChildProcessWithoutNullStreams; stderr: () => string; stop(): Promise<number | null> }

/** Starts the daemon and resolves once it prints that it is watching. */
async function start(src: string, dest: string, extra: string[] = []): Promise<Daemon> {
  const proc = spawn(FOXINGD, ['sync', '-a', '--watch', ...extra, src, dest], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, STATE_DIRECTORY: path.join(tmp.path, 'state') } });
  let err = '', out = '';
  proc.stderr.on('data', (d) => { err += d; });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d) => { out += d; if (out.includes('watching ')) resolve(); });
    proc.once('exit', (code) => reject(new Error(`foxingd exited ${code} before watching: ${err}`)));
  });
  return {
    proc, stderr: () => err,
    // 'close', not 'exit': the log is read to its end before the test looks at it.
    stop: () => new Promise((resolve) => { proc.once('close', (code) => resolve(code)); proc.kill('SIGTERM'); }),
  };
}

/** Waits (up to `ms`) for the daemon's log to match `re` (its stderr comes through a pipe, after the files it writes). */
async function logged(d: Daemon, re: RegExp, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!re.test(d.stderr()) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  assert.match(d.stderr(), re);
}

/** The differences once the target stops differing, or the last ones after CONVERGE_MS. */
async function converge(src: string, dest: string): Promise<string[]> {
  const until = Date.now() + CONVERGE_MS;
  for (;;) {
    let diffs: string[];
    try {
      diffs = compareCopy(src, dest, { rootMeta: false }).filter((d) => !d.startsWith('.foxing'));
    } catch (err) {
      // The daemon renamed or removed an entry while it was compared: still moving.
      diffs = [`changing: ${(err as Error).message}`];
    }
    if (diffs.length === 0 || Date.now() > until) return diffs;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function dirs(name: string): [string, string] {
  const src = path.join(tmp.path, name, 'src'), dest = path.join(tmp.path, name, 'dest');
  fs.mkdirSync(src, { recursive: true });
  return [src, dest];
}

const skip = native ? null : 'the native addon is not loaded (foxingd --watch needs its inotify)';
const run = (name: string, fn: () => Promise<void>) => test(name, async () => {
  if (skip) { console.log(`  skipped: ${skip}`); return; }
  await fn();
});

for (const events of ['auto', 'inotify']) run(`every kind of change is mirrored (--events ${events}): create, append, mkdir -p, renames of files and directories, chmod, symlink, deletes`, async () => {
  const [src, dest] = dirs(`mix-${events}`);
  fs.mkdirSync(path.join(src, 'a/b'), { recursive: true });
  fs.writeFileSync(path.join(src, 'a/b/x'), 'old');
  fs.writeFileSync(path.join(src, 'gone'), 'bye');
  const d = await start(src, dest, ['--events', events]);
  try {
    assert.equal(await converge(src, dest), [], 'hydrated');
    fs.writeFileSync(path.join(src, 'new'), 'one');
    fs.mkdirSync(path.join(src, 'd1/d2/d3'), { recursive: true });
    fs.writeFileSync(path.join(src, 'd1/d2/d3/deep'), 'deep');
    fs.renameSync(path.join(src, 'new'), path.join(src, 'renamed'));
    fs.renameSync(path.join(src, 'a'), path.join(src, 'a2'));
    fs.appendFileSync(path.join(src, 'a2/b/x'), ' and more');
    fs.chmodSync(path.join(src, 'a2/b/x'), 0o600);
    fs.symlinkSync('a2/b/x', path.join(src, 'link'));
    fs.rmSync(path.join(src, 'gone'));
    fs.rmSync(path.join(src, 'd1/d2'), { recursive: true });
    const big = Buffer.alloc(3 * 1024 * 1024, 1);
    fs.writeFileSync(path.join(src, 'big'), big);
    assert.equal(await converge(src, dest), []);
    // One entry at a time in a directory that stays: its mtime must follow (the mirror puts
    // the source directory's times back after each entry it makes, renames or removes).
    fs.writeFileSync(path.join(src, 'a2/b/later'), 'later');
    assert.equal(await converge(src, dest), []);
    fs.renameSync(path.join(src, 'a2/b/later'), path.join(src, 'a2/b/latest'));
    assert.equal(await converge(src, dest), []);
    fs.rmSync(path.join(src, 'a2/b/x'));
    assert.equal(await converge(src, dest), []);
    const after = await d.stop();
    assert.is(after, 0, d.stderr());
    await logged(d, /stopped: \d+ operations, .* [1-9]\d* renamed/);
    if (events === 'inotify') assert.match(d.stderr(), /watching with inotify/);
  } finally {
    d.proc.kill('SIGKILL');
  }
});

for (const events of ['auto', 'inotify']) run(`rename-chain storm (--events ${events}): 100 chains a->b->c->d->e at once end with the final names only`, async () => {
  const [src, dest] = dirs(`chains-${events}`);
  for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(src, `a${i}`), `content ${i}`);
  const d = await start(src, dest, ['--events', events]);
  try {
    for (const [from, to] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e']]) {
      for (let i = 0; i < 100; i++) fs.renameSync(path.join(src, `${from}${i}`), path.join(src, `${to}${i}`));
    }
    assert.equal(await converge(src, dest), []);
    const names = fs.readdirSync(dest).filter((n) => n !== '.foxing');
    assert.is(names.length, 100);
    assert.ok(names.every((n) => n.startsWith('e')), 'no ghost of an earlier name');
  } finally {
    await d.stop();
  }
});

run('a write storm during the hydration: nothing written meanwhile is missed', async () => {
  const [src, dest] = dirs('storm');
  for (let k = 0; k < 40; k++) {
    fs.mkdirSync(path.join(src, `d${k}`));
    for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(src, `d${k}/f${i}`), `v0 ${k} ${i}`);
  }
  const proc = spawn(FOXINGD, ['sync', '-a', '--watch', src, dest], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const live = new Promise<void>((resolve) => proc.stdout.on('data', (x) => { out += x; if (out.includes('watching ')) resolve(); }));
  try {
    // Rewrites, new files and deletions while the first copy runs, and a little after.
    for (let round = 1; round <= 20; round++) {
      for (let k = 0; k < 40; k += 3) {
        fs.writeFileSync(path.join(src, `d${k}/f${round}`), `v${round}`);
        fs.writeFileSync(path.join(src, `d${k}/n${round}`), `new ${round}`);
        fs.rmSync(path.join(src, `d${k}/f${round + 25}`), { force: true });
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await live;
    assert.equal(await converge(src, dest), []);
  } finally {
    proc.kill('SIGTERM');
  }
});

run('a burst of 10,000 files in 100 directories all arrive', async () => {
  const [src, dest] = dirs('burst');
  const d = await start(src, dest);
  try {
    for (let k = 0; k < 100; k++) {
      fs.mkdirSync(path.join(src, `d${k}`));
      for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(src, `d${k}/f${i}`), `${k}/${i}`);
    }
    assert.equal(await converge(src, dest), []);
  } finally {
    await d.stop();
  }
});

run('the target removed mid-run pauses the mirror; put back, it is made whole by a rescan', async () => {
  const [src, dest] = dirs('outage');
  fs.writeFileSync(path.join(src, 'f'), 'x');
  const d = await start(src, dest);
  try {
    fs.rmSync(dest, { recursive: true });
    fs.writeFileSync(path.join(src, 'during'), 'written while the target was gone');
    await logged(d, /paused: the target .* is gone/);
    fs.mkdirSync(path.join(src, 'new dir'));
    fs.writeFileSync(path.join(src, 'new dir', 'also\nduring'), 'a name with a newline');
    fs.renameSync(path.join(src, 'f'), path.join(src, 'f-renamed'));
    await new Promise((r) => setTimeout(r, 300));
    assert.not.ok(fs.existsSync(dest), 'the daemon does not make a target that went away (it may be an unmounted disk)');
    // The changes made meanwhile are on disk, in the outage journal, not in memory.
    const journal = /changes go to (\S+\.journal)/.exec(d.stderr())![1];
    assert.ok(journal.startsWith(path.join(tmp.path, 'state')), journal);
    const names = fs.readFileSync(journal).toString('utf8').split('\0');
    for (const n of ['new dir', 'new dir/also\nduring', 'f', 'f-renamed']) assert.ok(names.includes(n), `${n} in the journal: ${JSON.stringify(names)}`);
    fs.mkdirSync(dest);
    assert.equal(await converge(src, dest), []);
    await logged(d, /resumed: \d+ journaled changes replayed; comparing the whole target/);
    assert.not.ok(fs.existsSync(journal), 'the journal is removed once replayed');
  } finally {
    await d.stop();
  }
});

run('kill -9 mid-copy, then a restart: the target converges, no temporary left under a real name', async () => {
  const [src, dest] = dirs('kill');
  const d = await start(src, dest);
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(src, `f${i}`), Buffer.alloc(2 * 1024 * 1024, i));
  d.proc.kill('SIGKILL');
  await new Promise((r) => d.proc.once('exit', r));
  fs.writeFileSync(path.join(src, 'after'), 'written while it was down');
  const again = await start(src, dest);
  try {
    assert.equal(await converge(src, dest), []);
  } finally {
    await again.stop();
  }
});

run('--store: continuous snapshots, each built from the changed directories, equal to a full snapshot of the source', async () => {
  const [src, dest] = dirs('store');
  const store = path.join(tmp.path, 'store', 'chunks'), check = path.join(tmp.path, 'store', 'check');
  for (const d of ['a/b', 'c/d', 'e']) fs.mkdirSync(path.join(src, d), { recursive: true });
  for (const f of ['a/b/1', 'a/2', 'c/d/3', 'e/4', '5']) fs.writeFileSync(path.join(src, f), f.repeat(100));
  const d = await start(src, dest, ['--store', store, '--snapshot-interval', '0.3']);
  const list = (s: string) => JSON.parse(spawnSync(path.join(ROOT, 'bin', 'fxcp'), ['snap', 'list', s, '--json'], { encoding: 'utf8' }).stdout);
  const last = (x: any) => (x.snapshots ?? x).at(-1);
  let theirs: any;
  try {
    fs.writeFileSync(path.join(src, 'a/b/1'), 'new content');
    fs.mkdirSync(path.join(src, 'c/d/new/deeper'), { recursive: true });
    fs.writeFileSync(path.join(src, 'c/d/new/deeper/6'), 'six');
    fs.renameSync(path.join(src, 'e/4'), path.join(src, 'e/4-renamed'));
    fs.rmSync(path.join(src, '5'));
    assert.equal(await converge(src, dest), []);
    // A full snapshot of the source as it now is; then the continuous ones are waited for (on
    // a loaded machine a cut may still be running) until the newest is that tree.
    const full = spawnSync(path.join(ROOT, 'bin', 'fxcp'), ['snap', 'create', src, check, '--json'], { encoding: 'utf8' });
    assert.is(full.status, 0, full.stderr);
    theirs = last(list(check));
    const until = Date.now() + 20_000;
    while (last(list(store))?.tree !== theirs.tree && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  } finally {
    assert.is(await d.stop(), 0, d.stderr());
  }
  assert.match(d.stderr(), /snapshot [0-9a-f]{12} of \d+ files cut in \d+ ms \(every directory listed: the first cut since the start/);
  assert.match(d.stderr(), /snapshot [0-9a-f]{12} of \d+ files cut in \d+ ms \(after \d+ changes/);
  const ours = list(store);
  const snaps = ours.snapshots ?? ours;
  assert.ok(snaps.length >= 2, `snapshots: ${snaps.length}`);
  assert.match(last(ours).tree, /^[0-9a-f]{64}$/);
  assert.is(last(ours).tree, theirs.tree, 'the last continuous snapshot is the tree a full walk makes');
  assert.is(last(ours).stats.files, theirs.stats.files);
});

run('--exclude: excluded paths are neither mirrored nor deleted at the target, live or at the hydration', async () => {
  const [src, dest] = dirs('exclude');
  fs.mkdirSync(path.join(src, 'cache/deep'), { recursive: true });
  fs.writeFileSync(path.join(src, 'cache/deep/x'), 'cached');
  fs.writeFileSync(path.join(src, 'keep.txt'), 'keep');
  fs.writeFileSync(path.join(src, 'scratch.tmp'), 'tmp');
  fs.mkdirSync(path.join(dest, 'cache'), { recursive: true });
  fs.writeFileSync(path.join(dest, 'cache/target-only'), 'protected');
  const d = await start(src, dest, ['--exclude', 'cache/', '--exclude', '*.tmp']);
  try {
    fs.writeFileSync(path.join(src, 'cache/deep/y'), 'more cache');
    fs.writeFileSync(path.join(src, 'sub.tmp'), 'tmp');
    fs.mkdirSync(path.join(src, 'dir'));
    fs.writeFileSync(path.join(src, 'dir/a.tmp'), 'tmp');
    fs.writeFileSync(path.join(src, 'dir/a.txt'), 'txt');
    const excluded = (d: string) => /^(cache|scratch\.tmp|sub\.tmp|dir\/a\.tmp)(:|\/)/.test(d);
    const until = Date.now() + CONVERGE_MS;
    let diffs: string[] = [];
    do {
      await new Promise((r) => setTimeout(r, 100));
      diffs = compareCopy(src, dest, { rootMeta: false }).filter((x) => !x.startsWith('.foxing') && !excluded(x));
    } while (diffs.length > 0 && Date.now() < until);
    assert.equal(diffs, []);
    assert.ok(fs.existsSync(path.join(dest, 'dir/a.txt')));
    for (const p of ['scratch.tmp', 'sub.tmp', 'dir/a.tmp', 'cache/deep']) assert.not.ok(fs.existsSync(path.join(dest, p)), `${p} was mirrored`);
    assert.is(fs.readFileSync(path.join(dest, 'cache/target-only'), 'utf8'), 'protected', 'an excluded path at the target is kept');
  } finally {
    await d.stop();
  }
});

run('a full target (a 4 MiB tmpfs): a safe stall, no torn file; when the source fits again, the mirror converges', async () => {
  const mnt = mountTestFs('tmpfs', 4);
  if ('skip' in mnt) { console.log(`  skipped: ${mnt.skip}`); return; }
  const [src] = dirs('full');
  const dest = mnt.mountPoint;
  try {
    for (let i = 1; i <= 2; i++) fs.writeFileSync(path.join(src, `f${i}`), Buffer.alloc(1 << 20, i));
    const d = await start(src, dest);
    try {
      for (let i = 3; i <= 6; i++) fs.writeFileSync(path.join(src, `f${i}`), Buffer.alloc(1 << 20, i));
      await logged(d, /paused: the target .* is full \(.*ENOSPC/);
      for (const name of fs.readdirSync(dest).filter((n) => n !== '.foxing')) {
        assert.is(fs.statSync(path.join(dest, name)).size, 1 << 20, `${name}: a torn file under a real name`);
      }
      for (let i = 4; i <= 6; i++) fs.rmSync(path.join(src, `f${i}`));
      fs.writeFileSync(path.join(src, 'small'), 'fits');
      await logged(d, /resumed/);
      assert.equal(await converge(src, dest), []);
    } finally {
      await d.stop();
    }
  } finally {
    mnt.cleanup();
  }
});

run('a full store disk (a 16 MiB tmpfs): the cut fails with a warning, the mirror goes on; with room again the next cut lists everything and the store checks clean', async () => {
  const mnt = mountTestFs('tmpfs', 16);
  if ('skip' in mnt) { console.log(`  skipped: ${mnt.skip}`); return; }
  const [src, dest] = dirs('store-full');
  const store = path.join(mnt.mountPoint, 'store');
  const fxcp = (...args: string[]) => spawnSync(path.join(ROOT, 'bin', 'fxcp'), args, { encoding: 'utf8' });
  try {
    fs.writeFileSync(path.join(src, 'small'), 'fits');
    const d = await start(src, dest, ['--store', store, '--snapshot-interval', '0.3']);
    try {
      // 24 MiB that does not compress: more than the store's disk holds.
      fs.writeFileSync(path.join(src, 'big'), randomBytes(24 << 20));
      await logged(d, /no snapshot cut into .*no space left.*the next cut lists the whole source/, 30_000);
      // The mirror is not the store's hostage: changes still arrive.
      fs.writeFileSync(path.join(src, 'later'), 'still mirrored');
      assert.equal(await converge(src, dest), []);
      fs.rmSync(path.join(src, 'big'));
      await logged(d, /cut in \d+ ms \(every directory listed: the last cut failed/, 30_000);
    } finally {
      // 1: some cuts failed (each a warning), the run as a whole did not.
      assert.is(await d.stop(), 1, d.stderr());
    }
    assert.match(d.stderr(), /stopped: .*; [2-9]\d* snapshots, \d+ failed/);
    const snaps = JSON.parse(fxcp('snap', 'list', store, '--json').stdout);
    const last = (snaps.snapshots ?? snaps).at(-1);
    assert.is(last.stats.files, 2, 'the last snapshot holds small and later');
    const check = fxcp('store', 'check', store, '--read-data');
    assert.is(check.status, 0, check.stdout + check.stderr);
  } finally {
    mnt.cleanup();
  }
});

run('failures: a transient one is retried until it passes; a permanent one is reported after the retries, and the next change tries again', async () => {
  const [src, dest] = dirs('retry');
  fs.mkdirSync(path.join(src, 'locked'));
  const d = await start(src, dest);
  // chattr +i: even root cannot add an entry to the mirror's directory (ext4, XFS, btrfs).
  const immutable = (on: boolean) => spawnSync('chattr', [on ? '+i' : '-i', path.join(dest, 'locked')], { encoding: 'utf8' });
  const set = immutable(true);
  if (set.status !== 0) { await d.stop(); console.log(`  skipped: chattr +i: ${set.stderr.trim()}`); return; }
  try {
    // Transient: the directory is writable again 0.3 s later, within the retries (0.1 s to 0.8 s apart).
    fs.writeFileSync(path.join(src, 'locked', 'soon'), 'soon');
    await new Promise((r) => setTimeout(r, 300));
    immutable(false);
    assert.equal(await converge(src, dest), []);
    assert.not.match(d.stderr(), /not mirrored/, 'retried, not given up');
    // Permanent: reported once the retries are spent; the rest of the mirror goes on.
    immutable(true);
    fs.writeFileSync(path.join(src, 'locked', 'never'), 'never');
    await logged(d, /locked\/never: not mirrored: /, 20_000);
    fs.writeFileSync(path.join(src, 'free'), 'free');
    await new Promise((r) => setTimeout(r, 100));
    immutable(false);
    // Its next change tries again.
    fs.writeFileSync(path.join(src, 'locked', 'never'), 'never, then again');
    assert.equal(await converge(src, dest), []);
  } finally {
    immutable(false);
    assert.is(await d.stop(), 1, d.stderr());
  }
  assert.match(d.stderr(), /stopped: .* 1 failed/);
});

run('kill -9 during the copy of a 500 MB file: no partial file under its name; after a restart the copy is verified by hash', async () => {
  const [src, dest] = dirs('kill-big');
  const d = await start(src, dest);
  // 500 MB of varied bytes (a pattern per MiB, so a block out of place changes the hash),
  // written beside the source and moved in whole: a writer that pauses (a loaded machine) would
  // otherwise have its quiet, half-written file mirrored, whole, as it then was (by design).
  const outside = path.join(tmp.path, 'kill-big-file');
  const fd = fs.openSync(outside, 'w');
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < 500; i++) { block.fill(i % 251); block.writeUInt32LE(i, 0); fs.writeSync(fd, block); }
  fs.closeSync(fd);
  fs.renameSync(outside, path.join(src, 'big'));
  await new Promise((r) => setTimeout(r, 150));
  d.proc.kill('SIGKILL');
  await new Promise((r) => d.proc.once('close', r));
  const st = fs.statSync(path.join(dest, 'big'), { throwIfNoEntry: false });
  assert.ok(st === undefined || st.size === 500 << 20, `a partial file under the real name: ${st?.size} bytes`);
  const again = await start(src, dest);
  try {
    assert.equal(await converge(src, dest), [], 'names, sizes, times and every byte (BLAKE3 of each file)');
  } finally {
    await again.stop();
  }
});

run('--store: a closed file is in the store within a second, long before the next snapshot', async () => {
  const [src, dest] = dirs('ingest');
  const store = path.join(tmp.path, 'ingest-store');
  fs.writeFileSync(path.join(src, 'first'), 'x');
  const d = await start(src, dest, ['-v', '--store', store, '--snapshot-interval', '3600']);
  try {
    await logged(d, /snapshot [0-9a-f]{12} of 1 files cut/);
    const stats = () => JSON.parse(spawnSync(path.join(ROOT, 'bin', 'fxcp'), ['store', 'stats', store, '--json'], { encoding: 'utf8' }).stdout);
    const before = stats().uniqueBytes;
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
    const t0 = Date.now();
    fs.writeFileSync(path.join(src, 'later'), data);
    await logged(d, /stored later [\d.]+ ms after its close/);
    assert.ok(Date.now() - t0 < 1000, `durable after ${Date.now() - t0} ms`);
    assert.ok(stats().uniqueBytes >= before + data.length, 'its chunks are in the store before any snapshot names them');
    assert.is(JSON.parse(spawnSync(path.join(ROOT, 'bin', 'fxcp'), ['snap', 'list', store, '--json'], { encoding: 'utf8' }).stdout).snapshots.length, 1, 'no snapshot was cut meanwhile');
  } finally {
    await d.stop();
  }
});

run('refused: a target inside the source (the daemon would copy its own writes)', async () => {
  const [src] = dirs('inside');
  const r = spawn(FOXINGD, ['sync', '-a', '--watch', src, path.join(src, 'mirror')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  r.stderr.on('data', (x) => { err += x; });
  const code = await new Promise((resolve) => r.once('exit', resolve));
  assert.is(code, 2);
  assert.match(err, /refused: the mirror and the source must not lie inside one another/);
});

test.run();
