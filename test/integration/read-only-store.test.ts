/**
 * Issue 18 D5: a store on read-only media is listed, restored, checked and exported with the
 * real fxcp: a tmpfs mounted read-only (root only; skipped with the reason printed otherwise),
 * and a store made read-only with chmod for a user who is not root (run as nobody, when root).
 * Its index is opened read-only; a missing or damaged one is replaced for the command by a
 * temporary one outside the store; shared locks that cannot be written are a warning. Writers
 * fail at once with READ_ONLY (exit 2), naming the store.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StoreIndex } from '../../lib/index/store-index.js';
import { seededBytes } from '../helpers/seeded.js';
import { compareTrees } from '../helpers/tree-compare.js';
import { FXCP, fxcp, fxcpJson, isRoot, tempDir } from '../helpers/run-cli.js';

const t = tempDir('fx-rostore-');
const src = join(t.path, 'src');
const mnt = join(t.path, 'ro');
let mounted = false;
let ids: string[] = [];
let outs = 0;

function sh(cmd: string[]): { code: number; stderr: string } {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  return { code: r.status ?? -1, stderr: r.stderr };
}

function skipped(): boolean {
  if (!isRoot) { console.log('  (skipped: mounting a read-only tmpfs needs root)'); return true; }
  if (!mounted) { console.log('  (skipped: cannot mount a tmpfs here)'); return true; }
  return false;
}

const out = () => join(t.path, `out-${outs++}`);

test.before(() => {
  mkdirSync(join(src, 'sub'), { recursive: true });
  for (let i = 0; i < 4; i++) writeFileSync(join(src, `f${i}.bin`), seededBytes(150_000, i + 1));
  for (let i = 0; i < 10; i++) writeFileSync(join(src, 'sub', `s${i}.txt`), `small ${i}\n`.repeat(i + 1));
  if (!isRoot) return;
  mkdirSync(mnt);
  const m = sh(['mount', '-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mnt]);
  if (m.code !== 0) { console.log(`  (cannot mount tmpfs: ${m.stderr.trim()})`); return; }
  mounted = true;
});

test.after(() => {
  if (mounted) sh(['umount', '-l', mnt]);
  t.cleanup();
});

test('setup: stores written, then the mount made read-only', async () => {
  if (skipped()) return;
  const store = join(mnt, 'store');
  fxcpJson(['snap', 'create', src, store]);
  writeFileSync(join(src, 'later.txt'), 'later');
  fxcpJson(['snap', 'create', src, store]);
  ids = fxcpJson(['snap', 'list', store]).snapshots.map((s: { id: string }) => s.id);
  // Copies: one with a damaged index, one without, one whose catalogue lacks the newest record
  // (a crash between the record's rename and its catalogue entry).
  cpSync(store, join(mnt, 'damaged'), { recursive: true });
  writeFileSync(join(mnt, 'damaged', 'index', 'index.mdb'), seededBytes(100_000, 5));
  cpSync(store, join(mnt, 'no-index'), { recursive: true });
  rmSync(join(mnt, 'no-index', 'index'), { recursive: true });
  cpSync(store, join(mnt, 'unlisted'), { recursive: true });
  const idx = StoreIndex.open(join(mnt, 'unlisted', 'index'));
  await idx.removeSnapshot(ids[1]);
  await idx.close();
  const r = sh(['mount', '-o', 'remount,ro', mnt]);
  assert.is(r.code, 0, r.stderr);
  assert.is(sh(['touch', join(mnt, 'store', 'x')]).code === 0, false, 'the mount is read-only');
});

test('every command that only reads works on the read-only store', () => {
  if (skipped()) return;
  const store = join(mnt, 'store');
  const list = fxcp(['snap', 'list', store, '--json']);
  assert.is(list.code, 0, list.stderr);
  assert.is(list.stderr, '');
  assert.equal(JSON.parse(list.stdout).snapshots.map((s: { id: string }) => s.id), ids);

  const dir = out();
  const restore = fxcp(['snap', 'restore', store, '-o', dir, '--json']);
  assert.is(restore.code, 0, restore.stderr);
  assert.equal(compareTrees(src, dir, { rootMeta: false }), []);
  const warnings = restore.stderr.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(warnings.map((w) => w.warning), ['UNLOCKED'], restore.stderr);
  assert.match(warnings[0].message, new RegExp(`^${store}: cannot write a lock file \\(EROFS\\)`));

  const first = out();
  assert.is(fxcp(['snap', 'restore', store, '-o', first, '--snapshot', ids[0], '--file', 'sub/*']).code, 0);
  assert.equal(readdirSync(join(first, 'sub')).length, 10);

  for (const args of [['store', 'stats', store], ['snap', 'stats', store], ['snap', 'diff', store, ids[0], ids[1]],
    ['store', 'check', store], ['store', 'check', store, '--read-data'], ['snap', 'export', store, '-o', join(t.path, 'all.fxar')]]) {
    const r = fxcp(args);
    assert.is(r.signal, null);
    assert.is(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  }
  assert.is(fxcp(['snap', 'diff', store, ids[0], ids[1]]).stdout.includes('later.txt'), true);
  assert.equal(fxcpJson(['snap', 'inspect', join(t.path, 'all.fxar')]).snapshots.length, 2);
});

test('every command that writes fails at once with READ_ONLY, naming the store', () => {
  if (skipped()) return;
  const store = join(mnt, 'store');
  for (const args of [['snap', 'create', src, store], ['snap', 'import', join(t.path, 'all.fxar'), store], ['snap', 'prune', store, '--keep-last', '1'],
    ['store', 'gc', store], ['store', 'repair', store], ['store', 'rebuild-index', store]]) {
    const r = fxcp([...args, '--json']);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const err = JSON.parse(r.stderr.trim().split('\n').pop()!);
    assert.is(err.code, 'READ_ONLY', r.stderr);
    assert.is(err.path, store);
    assert.match(err.message, new RegExp(`^${store}: the store is read-only \\(read-only file system\\); fxcp ${args[0]} ${args[1]} writes to it$`));
  }
});

test('a missing or damaged index: a temporary one outside the store, removed afterwards', () => {
  if (skipped()) return;
  for (const name of ['damaged', 'no-index']) {
    const store = join(mnt, name);
    const list = fxcp(['snap', 'list', store, '--json']);
    assert.is(list.signal, null);
    assert.is(list.code, 0, list.stderr);
    assert.equal(JSON.parse(list.stdout).snapshots.map((s: { id: string }) => s.id), ids);
    const w = JSON.parse(list.stderr.trim());
    assert.is(w.warning, 'INDEX_TEMPORARY');
    assert.match(w.message, name === 'damaged' ? /the store is read-only and its index is damaged \(/ : /the store is read-only and its index is missing: using a temporary index in /);
    assert.is(existsSync(w.temporary), false, 'the temporary index is removed');
    const dir = out();
    const r = fxcp(['snap', 'restore', store, '-o', dir]);
    assert.is(r.code, 0, r.stderr);
    assert.equal(compareTrees(src, dir, { rootMeta: false }), []);
    // A damaged index is a finding of store check (INDEX_DAMAGED, naming the fix); a missing one is not.
    const check = fxcp(['store', 'check', store]);
    assert.is(check.code, name === 'damaged' ? 1 : 0, check.stdout + check.stderr);
    if (name === 'damaged') assert.match(check.stdout, /^problem INDEX_DAMAGED: .*index\.mdb: damaged index: .*; the index is a cache: run 'fxcp store rebuild-index /m);
  }
});

test('a record the catalogue lacks is listed and restored (the catalogue is reconciled in memory)', () => {
  if (skipped()) return;
  const store = join(mnt, 'unlisted');
  const list = fxcp(['snap', 'list', store, '--json']);
  assert.is(list.code, 0, list.stderr);
  assert.is(list.stderr, '');
  assert.equal(JSON.parse(list.stdout).snapshots.map((s: { id: string }) => s.id), ids);
  const dir = out();
  assert.is(fxcp(['snap', 'restore', store, '-o', dir, '--snapshot', ids[1]]).code, 0);
  assert.equal(compareTrees(src, dir, { rootMeta: false }), []);
});

test('a store made read-only with chmod, for a user who is not root', () => {
  if (!isRoot) { console.log('  (skipped: needs root to run fxcp as nobody)'); return; }
  if (sh(['setpriv', '--help']).code !== 0) { console.log('  (skipped: setpriv missing, cannot drop root)'); return; }
  const store = join(t.path, 'chmod-store');
  fxcpJson(['snap', 'create', src, store]);
  sh(['chmod', '-R', 'a+rX,a-w', store]);
  chmodSync(t.path, 0o777);
  const asNobody = (args: string[]) => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', FXCP, ...args], { encoding: 'utf8' });
    return { code: r.status ?? -1, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  };
  const list = asNobody(['snap', 'list', store, '--json']);
  assert.is(list.code, 0, list.stderr);
  assert.is(JSON.parse(list.stdout).snapshots.length, 1);
  const dir = out();
  const restore = asNobody(['snap', 'restore', store, '-o', dir]);
  assert.is(restore.code, 0, restore.stderr);
  assert.match(restore.stderr, /cannot write a lock file \(EACCES\): reading the store without a lock/);
  assert.equal(compareTrees(src, dir, { rootMeta: false, owner: false }), []);
  const create = asNobody(['snap', 'create', src, store]);
  assert.is(create.code, 2, create.stderr);
  assert.match(create.stderr, new RegExp(`^fxcp: ${store}: the store is read-only \\(no write permission on ${store}\\); fxcp snap create writes to it\\n$`));
});

test.run();
