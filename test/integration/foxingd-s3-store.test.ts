/**
 * `foxingd sync -a --watch --store s3://BUCKET/PREFIX`: continuous snapshots into a store in a
 * bucket of a real Ceph radosgw (test/helpers/ceph-cluster.ts). Files written into the source
 * after the start appear in a cut that `fxcp snap list s3://...` lists, the daemon stops cleanly
 * on SIGTERM, and `fxcp snap restore` of the newest snapshot gives the source back exactly.
 * Skipped with the reason printed where Ceph or the native addon (inotify) cannot be had.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { native } from '../../lib/native/load.js';
import { type CephCluster, startCeph } from '../helpers/ceph-cluster.js';
import { fxcp, ROOT, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';
import { compareTrees } from '../helpers/tree-compare.js';

const FOXINGD = join(ROOT, 'bin', 'foxingd.js');
const STORE = 's3://fxd/daemon';
const t = tempDir('fx-foxingd-s3-');
let ceph: CephCluster | string = 'not started';
let env: Record<string, string> = {};

test.before(async () => {
  if (!native) { ceph = 'the native addon is not loaded (foxingd --watch needs its inotify)'; return; }
  ceph = await startCeph();
  if (typeof ceph === 'string') return;
  env = { ...ceph.env, XDG_CACHE_HOME: join(t.path, 'cache') };
  const r = fxcp(['store', 'init', STORE, '--create-bucket'], { env });
  assert.is(r.code, 0, r.stderr);
});
test.after(() => { if (typeof ceph !== 'string') ceph.stop(); t.cleanup(); });

test('snapshots into s3://: files written while it watches are in a listed cut, and restore exactly after a clean stop', async () => {
  if (typeof ceph === 'string') { console.log(`  (skipped: ${ceph})`); return; }
  const src = join(t.path, 'src'), dest = join(t.path, 'dest');
  mkdirSync(join(src, 'a'), { recursive: true });
  writeFileSync(join(src, 'a/before.txt'), 'there at the start\n');
  const proc = spawn(FOXINGD, ['sync', '-a', '--watch', '--store', STORE, '--snapshot-interval', '0.5', src, dest],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env, STATE_DIRECTORY: join(t.path, 'state') } });
  let err = '', out = '';
  proc.stderr.on('data', (d) => { err += d; });
  const closed = new Promise<number | null>((r) => proc.once('close', (code) => r(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      proc.stdout.on('data', (d) => { out += d; if (out.includes('watching ')) resolve(); });
      proc.once('exit', (code) => reject(new Error(`foxingd exited ${code} before watching: ${err}`)));
    });
    mkdirSync(join(src, 'b/c'), { recursive: true });
    writeFileSync(join(src, 'b/c/new.bin'), seededBytes(2_000_000, 31));
    writeFileSync(join(src, 'b/small.txt'), 'written while watched\n');
    writeFileSync(join(src, 'top.txt'), 'top\n'.repeat(500));
    // A cut that lists all four files, read back from the bucket by another process.
    let files = -1;
    for (const until = Date.now() + 30_000; files !== 4 && Date.now() < until;) {
      const l = fxcp(['snap', 'list', STORE, '--json'], { env });
      assert.is(l.code, 0, l.stderr);
      files = JSON.parse(l.stdout).snapshots.at(-1)?.stats.files ?? -1;
      if (files !== 4) await new Promise((r) => setTimeout(r, 200));
    }
    assert.is(files, 4, `no cut listed the 4 files; the daemon said: ${err}`);
  } finally {
    proc.kill('SIGTERM');
  }
  assert.is(await closed, 0, err);
  assert.not.match(err, /SNAPSHOT/, err);
  assert.match(err, /stopped: .*; [1-9]\d* snapshots, 0 failed/);
  const restored = join(t.path, 'restored');
  const r = fxcp(['snap', 'restore', STORE, '-o', restored, '--latest'], { env });
  assert.is(r.code, 0, r.stderr);
  assert.equal(compareTrees(src, restored), []);
  const check = fxcp(['store', 'check', STORE, '--read-data'], { env });
  assert.is(check.code, 0, check.stdout + check.stderr);
});

test.run();
