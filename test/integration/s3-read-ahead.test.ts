/**
 * What restores from a bucket cost in requests, on a real Ceph radosgw
 * (test/helpers/ceph-cluster.ts), through the real fxcp binary: a full restore is served by
 * read-ahead windows (lib/store/read-ahead.ts), not a GET per record; a one-file restore deep in
 * the tree fetches its trees in one GET (two without the pack listing's sizes); an archive in the bucket is opened with two. And what
 * opening a store asks for ahead stays correct: listings asked for early never hide this
 * process's own writes, and a lock taken while the store opens is given back when it fails.
 * Skipped with the reason printed where Ceph cannot run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CephCluster, startCeph } from '../helpers/ceph-cluster.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';
import { mulberry32, seededBytes } from '../helpers/seeded.js';
import { s3TestSettings } from '../helpers/s3-store.js';
import { S3Storage } from '../../lib/store/s3-storage.js';
import { withStore } from '../../lib/store/index.js';
import { compareTrees } from '../helpers/tree-compare.js';

let ceph: CephCluster | string = 'not started';
const t = tempDir('fx-s3ra-');
let env: Record<string, string> = {};
const ok = (args: string[], extra: Record<string, string> = {}) => {
  const r = fxcp(args, { env: { ...env, ...extra } });
  assert.is(r.code, 0, `fxcp ${args.join(' ')}: ${r.stderr}`);
  return r;
};
const skip = () => {
  if (typeof ceph !== 'string') return false;
  console.log(`  (skipped: ${ceph})`);
  return true;
};
const raw = (prefix: string) => new S3Storage('fxra', prefix, s3TestSettings(ceph as CephCluster));
const src = join(t.path, 'src');
const DEEP = 'a/b/c/d/e/f/target.txt';
/** Bytes of the store's packs, and how many records (chunks) they hold at least: one per small file. */
let packBytes = 0;
const SMALL_FILES = 300;

test.before(async () => {
  ceph = await startCeph();
  if (typeof ceph === 'string') return;
  env = { ...ceph.env, XDG_CACHE_HOME: join(t.path, 'cache') };
  // Incompressible small files in a few directories, one file six directories down, one of 6 MB.
  const rnd = mulberry32(5);
  for (let i = 0; i < SMALL_FILES; i++) {
    const dir = join(src, `d${i % 7}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.bin`), seededBytes(4000 + Math.floor(rnd() * 56_000), i));
  }
  mkdirSync(join(src, 'a/b/c/d/e/f'), { recursive: true });
  writeFileSync(join(src, DEEP), 'deep\n');
  writeFileSync(join(src, 'big.bin'), seededBytes(6_000_000, 99));
  ok(['store', 'init', 's3://fxra/s', '--create-bucket']);
  ok(['snap', 'create', src, 's3://fxra/s']);
  for await (const o of raw('s').listKeys('packs/')) packBytes += o.size;
});
test.after(() => { if (typeof ceph !== 'string') ceph.stop(); t.cleanup(); });

function fetchedNote(stderr: string): { bytes: number; requests: number } {
  const m = /fetched ([\d.]+) (B|KiB|MiB)( of [\d.]+ \w+)? from \S+ in (\d+) requests/.exec(stderr);
  assert.ok(m, stderr);
  return { bytes: Number(m![1]) * { B: 1, KiB: 1024, MiB: 1 << 20 }[m![2] as 'B'], requests: Number(m![4]) };
}

test('a full restore from the store: windows, not a GET per record; each byte of the packs fetched about once', () => {
  if (skip()) return;
  const out = join(t.path, 'all');
  const f = fetchedNote(ok(['snap', 'restore', 's3://fxra/s', '-o', out]).stderr);
  assert.equal(compareTrees(src, out), []);
  console.log(`  (full restore: ${f.requests} requests, ${f.bytes} B fetched of ${packBytes} B of packs)`);
  assert.ok(f.requests < SMALL_FILES / 5, `${f.requests} requests for ${SMALL_FILES}+ records`);
  assert.ok(f.bytes <= packBytes * 1.1, `fetched ${f.bytes} of ${packBytes}`);
  // The same with the restore workers (pool from 0 bytes), fed the records this thread fetched.
  const viaWorkers = join(t.path, 'all-workers');
  const w = fetchedNote(ok(['snap', 'restore', 's3://fxra/s', '-o', viaWorkers], { FOXING_RESTORE_POOL_BYTES: '0' }).stderr);
  assert.equal(compareTrees(src, viaWorkers), []);
  console.log(`  (full restore by the workers: ${w.requests} requests, ${w.bytes} B fetched)`);
  assert.ok(w.requests < SMALL_FILES / 5, `${w.requests} requests`);
  assert.ok(w.bytes <= packBytes * 1.1, `fetched ${w.bytes} of ${packBytes}`);
});

test('a one-file restore six directories down: its trees in one GET, the whole store open in a handful', () => {
  if (skip()) return;
  const out = join(t.path, 'one');
  const f = fetchedNote(ok(['snap', 'restore', 's3://fxra/s', '-o', out, '--file', DEEP]).stderr);
  assert.equal(compareTrees(join(src, 'a'), join(out, 'a')), []);
  console.log(`  (one-file restore: ${f.requests} requests, ${f.bytes} B fetched)`);
  // config, two listings, lock (PUT, listing), the record file, one for the trees (the tree
  // pack whole: one per directory level would be 8), the file's chunk.
  assert.ok(f.requests <= 8, `${f.requests} requests`);
});

test('an archive in the bucket: opened with two GETs; a full restore from it by windows', () => {
  if (skip()) return;
  ok(['snap', 'export', 's3://fxra/s', '-o', 's3://fxra/archives/s.fxar', '--latest']);
  const one = fetchedNote(ok(['snap', 'restore', 's3://fxra/archives/s.fxar', '-o', join(t.path, 'a-one'), '--file', DEEP]).stderr);
  console.log(`  (one-file restore from the archive: ${one.requests} requests, ${one.bytes} B)`);
  assert.ok(one.requests <= 4, `${one.requests} requests`);
  const out = join(t.path, 'a-all');
  const all = fetchedNote(ok(['snap', 'restore', 's3://fxra/archives/s.fxar', '-o', out]).stderr);
  assert.equal(compareTrees(src, out), []);
  console.log(`  (full restore from the archive: ${all.requests} requests, ${all.bytes} B)`);
  assert.ok(all.requests < SMALL_FILES / 5, `${all.requests} requests`);
  // The same with the restore workers, fed the records this thread fetched.
  const viaWorkers = join(t.path, 'a-all-workers');
  const w = fetchedNote(ok(['snap', 'restore', 's3://fxra/archives/s.fxar', '-o', viaWorkers], { FOXING_RESTORE_POOL_BYTES: '0' }).stderr);
  assert.equal(compareTrees(src, viaWorkers), []);
  console.log(`  (full restore from the archive by the workers: ${w.requests} requests, ${w.bytes} B)`);
  assert.ok(w.bytes <= all.bytes * 1.1, `${w.bytes} B fetched by the workers' restore, ${all.bytes} B by this thread's`);
});

test('listings asked for ahead never hide what this process wrote after asking', async () => {
  if (skip()) return;
  const s = raw('early');
  s.listAhead();
  await new Promise((r) => setTimeout(r, 300)); // the early listing has its answer (an empty prefix)
  await s.put('pack', 'ab'.repeat(32), Buffer.from('not really a pack'));
  await s.put('snapshot', 'cd'.repeat(32), Buffer.from('{}'));
  const packs: string[] = [], snaps: string[] = [];
  for await (const p of s.list('pack')) packs.push(p);
  for await (const n of s.list('snapshot')) snaps.push(n);
  assert.equal(packs, ['ab'.repeat(32)]);
  assert.equal(snaps, ['cd'.repeat(32)]);
  await s.close();
});

test('a lock taken while a store opens is given back when the opening fails (no such store)', async () => {
  if (skip()) return;
  const err = await withStore('s3://fxra/nothing-here', { lock: 'shared', command: 'test', env }, async () => {}).then(() => null, (e: Error) => e);
  assert.match(String(err?.message), /no such store/);
  let left = 0;
  for await (const _ of raw('nothing-here').listKeys('')) left++;
  assert.is(left, 0, 'a lock object is left');
});

test.run();
