/**
 * Stores in a bucket of a real Ceph radosgw (test/helpers/ceph-cluster.ts), through the real
 * fxcp binary: the everyday commands, a lost local cache rebuilt from pack trailers by ranged
 * GETs, bad input (credentials, bucket, endpoint, damaged objects, a prefix holding something
 * else), a writer or an archive export killed mid-upload, two exports to one key, writers and
 * prune at once, and radosgw stopping under a snapshot. Skipped with the reason printed where
 * Ceph cannot run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CephCluster, freePort, startCeph } from '../helpers/ceph-cluster.js';
import { fxcp, fxcpAsync, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';
import { s3TestSettings } from '../helpers/s3-store.js';
import { CODEC_BUNDLED } from '../../lib/codec/codec-ids.js';
import { readPackEntries } from '../../lib/store/pack-reader.js';
import { S3Storage } from '../../lib/store/s3-storage.js';
import { withStore } from '../../lib/store/index.js';
import { S3StoreLock } from '../../lib/store/s3-lock.js';
import { parseUploads, type UnfinishedUpload } from '../../lib/store/s3-xml.js';
import { compareTrees } from '../helpers/tree-compare.js';

let ceph: CephCluster | string = 'not started';
const t = tempDir('fx-s3-');
const cache = join(t.path, 'cache');
let env: Record<string, string> = {};
const run = (args: string[], extra: Record<string, string> = {}) => fxcp(args, { env: { ...env, ...extra } });
const ok = (args: string[], extra: Record<string, string> = {}) => {
  const r = run(args, extra);
  assert.is(r.code, 0, `fxcp ${args.join(' ')}: ${r.stderr}`);
  return r;
};
const skip = () => {
  if (typeof ceph !== 'string') return false;
  console.log(`  (skipped: ${ceph})`);
  return true;
};
/** A raw handle on the bucket, to damage objects and count bytes. */
const raw = (prefix: string) => new S3Storage('fxt', prefix, s3TestSettings(ceph as CephCluster));

function makeSource(dir: string, seed: number, bigBytes = 3_000_000): void {
  mkdirSync(join(dir, 'd/e'), { recursive: true });
  writeFileSync(join(dir, 'd/big.bin'), seededBytes(bigBytes, seed));
  writeFileSync(join(dir, 'd/e/small.txt'), `small ${seed}\n`);
  writeFileSync(join(dir, 'top.txt'), 'top\n'.repeat(1000));
}

test.before(async () => {
  ceph = await startCeph();
  if (typeof ceph === 'string') return;
  // Short leases and retry budgets: a killed holder's lock goes stale in seconds, and a stopped
  // radosgw fails a command in seconds (the defaults are 90 s and 30 s).
  env = { ...ceph.env, XDG_CACHE_HOME: cache, FOXING_S3_LEASE_MS: '3000', FOXING_S3_RETRY_SECONDS: '4', FOXING_S3_TIMEOUT_SECONDS: '5' };
  const r = run(['store', 'init', 's3://fxt/first', '--create-bucket']);
  if (r.code !== 0) {
    ceph.stop();
    ceph = `store init on the test cluster failed: ${r.stderr.trim()}`;
    throw new Error(ceph);
  }
});
test.after(() => { if (typeof ceph !== 'string') ceph.stop(); t.cleanup(); });

test('snapshot, list, one-file restore, full restore, export and import, check --read-data, diff, stats, rebuild-index', () => {
  if (skip()) return;
  const src = join(t.path, 'src1');
  makeSource(src, 1);
  ok(['snap', 'create', src, 's3://fxt/first']);
  writeFileSync(join(src, 'top.txt'), 'changed\n');
  ok(['snap', 'create', src, 's3://fxt/first', '--tag', 'two']);
  const list = JSON.parse(ok(['snap', 'list', 's3://fxt/first', '--json']).stdout);
  assert.is(list.store, 's3://fxt/first');
  assert.is(list.snapshots.length, 2);
  const one = join(t.path, 'one');
  ok(['snap', 'restore', 's3://fxt/first', '-o', one, '--file', 'd/e/small.txt']);
  assert.equal(readdirSync(join(one, 'd')), ['e']);
  const all = join(t.path, 'all');
  ok(['snap', 'restore', 's3://fxt/first', '-o', all]);
  assert.equal(compareTrees(src, all), []);
  const archive = join(t.path, 'first.fxar');
  ok(['snap', 'export', 's3://fxt/first', '-o', archive, '--all']);
  ok(['snap', 'import', archive, 's3://fxt/copy']);
  assert.is(JSON.parse(ok(['snap', 'list', 's3://fxt/copy', '--json']).stdout).snapshots.length, 2);
  const check = ok(['store', 'check', 's3://fxt/copy', '--read-data']);
  assert.match(check.stdout, /no problems/);
  // The read-only reports work on a bucket as on a directory.
  const [a, b] = list.snapshots.map((x: { id: string }) => x.id);
  assert.match(ok(['snap', 'diff', 's3://fxt/first', a, b]).stdout, /0 added .*0 removed .*1 modified/);
  assert.is(JSON.parse(ok(['snap', 'stats', 's3://fxt/first', '--json']).stdout).snapshots.length, 2);
  assert.match(ok(['store', 'stats', 's3://fxt/first']).stdout, /^store +s3:\/\/fxt\/first$/m);
  assert.match(ok(['store', 'rebuild-index', 's3://fxt/first']).stdout, /index rebuilt: \d+ packs, \d+ chunks, 2 snapshots/);
});

test('prune and gc delete objects; the store checks clean after', async () => {
  if (skip()) return;
  const src = join(t.path, 'src2');
  makeSource(src, 2);
  ok(['snap', 'create', src, 's3://fxt/prune']);
  makeSource(src, 3);
  ok(['snap', 'create', src, 's3://fxt/prune']);
  const before = await countKeys('prune/packs/');
  ok(['snap', 'prune', 's3://fxt/prune', '--keep-last', '1']);
  assert.ok(await countKeys('prune/packs/') < before, 'prune freed no pack');
  assert.is(JSON.parse(ok(['snap', 'list', 's3://fxt/prune', '--json']).stdout).snapshots.length, 1);
  ok(['store', 'gc', 's3://fxt/prune']);
  assert.match(ok(['store', 'check', 's3://fxt/prune', '--read-data']).stdout, /no problems/);
});

test('store upgrade in a bucket: the config object gets the new version, the rest kept; the next snapshot bundles', async () => {
  if (skip()) return;
  ok(['store', 'init', 's3://fxt/upgrade']);
  const s = raw('upgrade');
  const key = s.key('config');
  const config = async () => (await s.client.send({ method: 'GET', bucket: 'fxt', key })).body.toString('utf8');
  const text = (await config()).replace(/"version": \d+/, '"version": 1');
  await s.client.send({ method: 'PUT', bucket: 'fxt', key, body: Buffer.from(text) });
  assert.match(ok(['store', 'stats', 's3://fxt/upgrade']).stdout, /^format +version 1 /m);
  assert.match(ok(['store', 'upgrade', 's3://fxt/upgrade']).stdout, /from format version 1 to 2/);
  assert.equal(JSON.parse(await config()), { ...JSON.parse(text), version: 2 });
  const src = join(t.path, 'src-upgrade');
  mkdirSync(src);
  for (let i = 0; i < 40; i++) writeFileSync(join(src, `f${i}.txt`), `file ${i}\n` + 'a line of text in a small file\n'.repeat(30 + i));
  ok(['snap', 'create', src, 's3://fxt/upgrade']);
  let members = 0;
  for await (const pack of s.list('pack')) for (const e of await readPackEntries(s, pack)) if (e.codec === CODEC_BUNDLED) members++;
  assert.ok(members >= 20, `${members} bundled chunks`);
  assert.match(ok(['store', 'check', 's3://fxt/upgrade', '--read-data']).stdout, /no problems/);
});

test('a deleted local cache is rebuilt from pack trailers by ranged GETs, not whole packs', async () => {
  if (skip()) return;
  const src = join(t.path, 'src3');
  makeSource(src, 4, 12_000_000);
  ok(['snap', 'create', src, 's3://fxt/cache']);
  rmSync(cache, { recursive: true, force: true });
  let packBytes = 0;
  for await (const o of raw('cache').listKeys('packs/')) packBytes += o.size;
  const fetched = await withStore('s3://fxt/cache', { lock: 'none', command: 'test', env }, async (store) => {
    assert.ok(store.index.totals().chunks > 100, 'the rebuilt index lists the chunks');
    return (store.storage as S3Storage).bytesFetched;
  });
  console.log(`  (cache rebuilt from ${packBytes} B of packs by fetching ${fetched} B)`);
  assert.ok(fetched > 0 && fetched < packBytes / 50, `fetched ${fetched} of ${packBytes} bytes`);
  const out = join(t.path, 'out3');
  ok(['snap', 'restore', 's3://fxt/cache', '-o', out]);
  assert.equal(compareTrees(src, out), []);
});

test('bad input: wrong credentials, missing bucket, unreachable endpoint, a prefix that is not a store', async () => {
  if (skip()) return;
  const bad = run(['snap', 'list', 's3://fxt/first', '--json'], { AWS_SECRET_ACCESS_KEY: 'wrong' });
  assert.is(bad.code, 2);
  assert.is(JSON.parse(bad.stderr).code, 'S3_AUTH');
  assert.match(JSON.parse(bad.stderr).message, /s3:\/\/fxt\/first\/config: GET refused .*HTTP 403/);
  const nob = run(['snap', 'list', 's3://nobucket/x', '--json']);
  assert.is(JSON.parse(nob.stderr).code, 'NO_BUCKET');
  assert.match(JSON.parse(nob.stderr).message, /^s3:\/\/nobucket: no such bucket/);
  const port = await freePort();
  const started = Date.now();
  const down = run(['snap', 'list', 's3://fxt/first', '--json', '--s3-endpoint', `http://127.0.0.1:${port}`], { FOXING_S3_RETRY_SECONDS: '2' });
  assert.is(JSON.parse(down.stderr).code, 'S3_UNREACHABLE');
  assert.match(JSON.parse(down.stderr).message, new RegExp(`127.0.0.1:${port} unreachable \\(.*ECONNREFUSED.*\\) after \\d+ attempts`));
  assert.ok(Date.now() - started < 20_000, 'an unreachable endpoint failed within its retry budget');
  await raw('').put('snapshot', 'ab'.repeat(16), Buffer.from('x')); // an object of another kind under fx/
  await raw('').client.send({ method: 'PUT', bucket: 'fxt', key: 'photos/cat.jpg', body: Buffer.from('meow') });
  const nots = run(['snap', 'list', 's3://fxt/photos', '--json']);
  assert.is(JSON.parse(nots.stderr).code, 'NOT_A_STORE');
  const nostore = run(['snap', 'list', 's3://fxt/nothing-here', '--json']);
  assert.is(JSON.parse(nostore.stderr).code, 'NO_STORE');
  // snap create into a prefix holding something else creates nothing there.
  assert.is(run(['snap', 'create', join(t.path, 'src1'), 's3://fxt/photos']).code, 2);
  assert.is(await countKeys('photos/'), 1);
});

test('a flipped byte and a truncated pack are found by check --read-data, naming the object', async () => {
  if (skip()) return;
  const src = join(t.path, 'src5');
  makeSource(src, 5);
  ok(['snap', 'create', src, 's3://fxt/damage']);
  const st = raw('damage');
  const { big, bytes } = await flipInBiggestPack(st);
  const flipped = run(['store', 'check', 's3://fxt/damage', '--read-data']);
  assert.is(flipped.code, 1, flipped.stderr);
  assert.match(flipped.stdout + flipped.stderr, new RegExp(`s3://fxt/damage/packs/${big.slice(0, 2)}/${big}\\.pack`));
  // A full restore whose records this thread fetches and the restore workers check (pool from
  // 0 bytes): the damaged file is named with the object and never appears torn; the rest is exact.
  const out = join(t.path, 'damaged-out');
  const restored = run(['snap', 'restore', 's3://fxt/damage', '-o', out], { FOXING_RESTORE_POOL_BYTES: '0' });
  assert.is(restored.code, 1, restored.stderr);
  assert.match(restored.stderr, new RegExp(`s3://fxt/damage/packs/${big.slice(0, 2)}/${big}\\.pack.*damaged`));
  for (const f of ['d/big.bin', 'd/e/small.txt', 'top.txt']) {
    if (existsSync(join(out, f))) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(src, f))), `${f} restored wrong`);
  }
  bytes[100] ^= 0x40;
  await st.put('pack', big, bytes.subarray(0, bytes.length - 1000));
  const cut = run(['store', 'check', 's3://fxt/damage', '--read-data']);
  assert.is(cut.code, 1);
  assert.match(cut.stdout + cut.stderr, new RegExp(`s3://fxt/damage/packs/${big.slice(0, 2)}/${big}\\.pack`));
  await st.put('pack', big, bytes);
  assert.is(run(['store', 'check', 's3://fxt/damage', '--read-data']).code, 0);
  const again = join(t.path, 'undamaged-out');
  ok(['snap', 'restore', 's3://fxt/damage', '-o', again], { FOXING_RESTORE_POOL_BYTES: '0' });
  assert.equal(compareTrees(src, again), []);
});

/** Flips a byte of the biggest pack in place; returns its name and its damaged bytes. */
async function flipInBiggestPack(st: S3Storage): Promise<{ big: string; bytes: Buffer }> {
  const packs: string[] = [];
  for await (const p of st.list('pack')) packs.push(p);
  const sizes = await Promise.all(packs.map((p) => st.size('pack', p)));
  const big = packs[sizes.indexOf(Math.max(...sizes))]!;
  const bytes = await st.get('pack', big);
  bytes[100] ^= 0x40;
  await st.put('pack', big, bytes);
  return { big, bytes };
}

async function countPacks(st: S3Storage): Promise<number> {
  let n = 0;
  for await (const _ of st.list('pack')) n++;
  return n;
}

test('kill -9 in mid-upload: the store checks clean, earlier snapshots restore exactly, the next run succeeds', async () => {
  if (skip()) return;
  const src = join(t.path, 'src6');
  makeSource(src, 6);
  ok(['snap', 'create', src, 's3://fxt/killed']);
  const first = join(t.path, 'first6');
  ok(['snap', 'restore', 's3://fxt/killed', '-o', first]);
  writeFileSync(join(src, 'd/more.bin'), seededBytes(30_000_000, 60));
  const st = raw('killed');
  const packsBefore = (await countPacks(st));
  const child = fxcpAsync(['snap', 'create', src, 's3://fxt/killed'], env);
  const exited = new Promise<[number | null, string | null]>((r) => child.once('exit', (c, s) => r([c, s])));
  // Killed once it has uploaded something: a pack of this run (packs of a bucket are 16 MiB, one
  // PUT each: the 30 MB file makes two at least), a part, or a temporary object.
  let uploaded = false;
  for (let i = 0; i < 800 && child.exitCode === null && !uploaded; i++) {
    const uploads = (await st.client.send({ method: 'GET', bucket: 'fxt', query: [['uploads', ''], ['prefix', 'killed/']] })).body.toString();
    uploaded = uploads.includes('<Upload>') || (await countPacks(st)) > packsBefore;
    if (!uploaded) await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  const [, signal] = await exited;
  assert.is(signal, 'SIGKILL', 'the snapshot ended before it was killed');
  assert.ok(uploaded, 'nothing of the run was seen uploaded before the kill');
  assert.is(JSON.parse(ok(['snap', 'list', 's3://fxt/killed', '--json']).stdout).snapshots.length, 1, 'no partial snapshot is listed');
  assert.match(ok(['store', 'check', 's3://fxt/killed', '--read-data']).stdout, /no problems/);
  const again = join(t.path, 'again6');
  ok(['snap', 'restore', 's3://fxt/killed', '-o', again]);
  assert.equal(compareTrees(first, again), []);
  // The killed writer's shared lock expires (3 s here); a writer does not wait for it.
  ok(['snap', 'create', src, 's3://fxt/killed']);
  await new Promise((r) => setTimeout(r, 3500));
  ok(['store', 'gc', 's3://fxt/killed']);
  assert.match(ok(['store', 'check', 's3://fxt/killed', '--read-data']).stdout, /no problems/);
});

test('two writers and a prune at once, then a clean check', async () => {
  if (skip()) return;
  const a = join(t.path, 'srcA'), b = join(t.path, 'srcB');
  makeSource(a, 7);
  makeSource(b, 8);
  ok(['snap', 'create', a, 's3://fxt/busy']);
  const wait = ['--lock-wait', '60'];
  const procs = [
    fxcpAsync(['snap', 'create', a, 's3://fxt/busy', ...wait], env),
    fxcpAsync(['snap', 'create', b, 's3://fxt/busy', ...wait], env),
    fxcpAsync(['snap', 'prune', 's3://fxt/busy', '--keep-last', '2', ...wait], env),
  ];
  const codes = await Promise.all(procs.map((p) => new Promise<number>((r) => {
    let err = '';
    p.stderr!.on('data', (d) => { err += d; });
    p.once('exit', (c) => { if (c !== 0) console.log(err); r(c ?? -1); });
  })));
  assert.equal(codes, [0, 0, 0]);
  assert.match(ok(['store', 'check', 's3://fxt/busy', '--read-data']).stdout, /no problems/);
  const snaps = JSON.parse(ok(['snap', 'list', 's3://fxt/busy', '--json']).stdout).snapshots;
  assert.ok(snaps.length >= 2 && snaps.length <= 3, `${snaps.length} snapshots`);
});

test('radosgw stopped during a snapshot: a clear error within the retry budget, then a clean next run', async () => {
  if (skip()) return;
  const c = ceph as CephCluster;
  const src = join(t.path, 'src9');
  makeSource(src, 9, 80_000_000);  // long enough to be mid-upload when radosgw stops
  const child = fxcpAsync(['snap', 'create', src, 's3://fxt/outage', '--json'], env);
  // Listened for at once: a snapshot that ends before radosgw stops must still be seen to end.
  const exited = new Promise<number>((r) => child.once('exit', (x) => r(x ?? -1)));
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  await new Promise((r) => setTimeout(r, 700));
  const stopped = Date.now();
  c.stopGateway();
  const code = await exited;
  const took = Date.now() - stopped;
  c.startGateway();
  if (code === 0) {
    console.log('  (the snapshot finished before radosgw stopped; nothing to check of the outage)');
  } else {
    console.log(`  (radosgw stopped: fxcp exited ${code} ${took} ms later)`);
    assert.is(code, 2, err);
    const e = JSON.parse(err.trim().split('\n').pop()!);
    assert.ok(['S3_UNREACHABLE', 'S3_ERROR'].includes(e.code), err);
    assert.match(e.message, /^s3:\/\/fxt\/outage/, err);
    assert.ok(took < 30_000, `failed after ${took} ms`);
  }
  ok(['snap', 'create', src, 's3://fxt/outage']);
  assert.match(ok(['store', 'check', 's3://fxt/outage', '--read-data']).stdout, /no problems/);
  const out = join(t.path, 'out9');
  ok(['snap', 'restore', 's3://fxt/outage', '-o', out]);
  assert.equal(compareTrees(src, out), []);
});

test('archives in the bucket: export -o s3://, then a one-file restore by ranged GETs and a full restore', async () => {
  if (skip()) return;
  const src = join(t.path, 'src1');
  const ex = run(['snap', 'export', 's3://fxt/first', '-o', 's3://fxt/archives/first.fxar', '--latest']);
  assert.is(ex.code, 0, ex.stderr);
  const one = join(t.path, 'arch-one');
  const r = run(['snap', 'restore', 's3://fxt/archives/first.fxar', '-o', one, '--file', 'd/e/small.txt']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(readdirSync(join(one, 'd', 'e')), ['small.txt']);
  // Only the footer, the index and the file's chunk were fetched, not the ~3 MiB archive.
  const m = /fetched ([\d.]+) (B|KiB) of ([\d.]+) MiB from s3:\/\/fxt\/archives\/first.fxar in (\d+) requests/.exec(r.stderr);
  assert.ok(m, r.stderr);
  console.log(`  (one-file restore from the archive in the bucket: ${m![0]})`);
  const all = join(t.path, 'arch-all');
  ok(['snap', 'restore', 's3://fxt/archives/first.fxar', '-o', all]);
  assert.equal(compareTrees(src, all), []);
  // An object that is not an archive is refused, naming it.
  await raw('').client.send({ method: 'PUT', bucket: 'fxt', key: 'archives/notes.txt', body: Buffer.from('not an archive at all') });
  const bad = run(['snap', 'restore', 's3://fxt/archives/notes.txt', '-o', join(t.path, 'never'), '--json']);
  assert.is(bad.code, 2);
  assert.is(JSON.parse(bad.stderr).code, 'NOT_AN_ARCHIVE');
  assert.match(JSON.parse(bad.stderr).message, /^s3:\/\/fxt\/archives\/notes.txt/);
});

test('an import into a bucket is not held to the free space of the cache\'s disk: the packs go to the bucket', () => {
  if (skip()) return;
  if (process.getuid?.() !== 0) { console.log('  (skipped: mounting a small tmpfs for the cache needs root)'); return; }
  const src = join(t.path, 'src21');
  makeSource(src, 21, 12_000_000);
  const local = join(t.path, 'local21');
  ok(['snap', 'create', src, local]);
  const archive = join(t.path, 'src21.fxar');
  ok(['snap', 'export', local, '-o', archive, '--latest']);
  // 6 MiB of cache disk for 12 MB of new chunks: enough for the index, not for the packs.
  const small = join(t.path, 'small-cache');
  mkdirSync(small);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', small]);
  try {
    ok(['snap', 'import', archive, 's3://fxt/smallcache'], { XDG_CACHE_HOME: small });
    const all = join(t.path, 'smallcache-all');
    ok(['snap', 'restore', 's3://fxt/smallcache', '-o', all], { XDG_CACHE_HOME: small });
    assert.equal(compareTrees(src, all), []);
  } finally {
    execFileSync('umount', [small]);
  }
});

test('an archive larger than one PUT is exported to the bucket as a multipart upload, parts straight to its key, and restores exactly', async () => {
  if (skip()) return;
  const src = join(t.path, 'src11');
  makeSource(src, 11, 36_000_000); // past SINGLE_PUT_BYTES (24 MiB): a first part and 8 MiB parts
  ok(['snap', 'create', src, 's3://fxt/bigexport']);
  const ex = run(['snap', 'export', 's3://fxt/bigexport', '-o', 's3://fxt/archives/big.fxar', '--latest']);
  assert.is(ex.code, 0, ex.stderr);
  const head = await raw('').client.send({ method: 'HEAD', bucket: 'fxt', key: 'archives/big.fxar' });
  // A multipart object's ETag is "MD5-OF-PART-MD5S-N", N its number of parts.
  const parts = Number(/-(\d+)"?$/.exec(head.headers.etag ?? '')?.[1]);
  assert.ok(parts >= 2, `ETag ${head.headers.etag}: not a multipart upload`);
  assert.ok(Number(head.headers['content-length']) > 36_000_000);
  // Nothing left: no temporary object (the parts went to the real key), no unfinished upload.
  assert.is(await countKeys('archives/tmp/') + await countKeys('bigexport/tmp/'), 0);
  const uploads = (await raw('').client.send({ method: 'GET', bucket: 'fxt', query: [['uploads', ''], ['prefix', 'archives/']] })).body.toString();
  assert.not.match(uploads, /<Upload>/);
  const all = join(t.path, 'big-all');
  ok(['snap', 'restore', 's3://fxt/archives/big.fxar', '-o', all]);
  assert.equal(compareTrees(src, all), []);
  await raw('').client.send({ method: 'DELETE', bucket: 'fxt', key: 'archives/big.fxar' });
});

test('an export to the bucket killed (kill -9) mid-upload: the next export to that key aborts exactly its unfinished upload, says so, and the archive restores', async () => {
  if (skip()) return;
  const src = join(t.path, 'src14');
  makeSource(src, 14, 40_000_000); // past SINGLE_PUT_BYTES: a multipart upload, open for a while
  ok(['snap', 'create', src, 's3://fxt/killexport']);
  const client = raw('').client;
  // An unfinished upload of a longer key with the same prefix: not this export's, left alone.
  await client.send({ method: 'POST', bucket: 'fxt', key: 'archives/killed.fxar.old', query: [['uploads', '']] });
  const child = fxcpAsync(['snap', 'export', 's3://fxt/killexport', '-o', 's3://fxt/archives/killed.fxar', '--latest'], env);
  const exited = new Promise<[number | null, string | null]>((r) => child.once('exit', (c, sig) => r([c, sig])));
  let seen = false;
  for (let i = 0; i < 3000 && child.exitCode === null && !seen; i++) {
    seen = (await uploadsOf('archives/killed.fxar')).length > 0;
    if (!seen) await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  const [, signal] = await exited;
  assert.is(signal, 'SIGKILL', 'the export ended before it was killed');
  assert.ok(seen, 'no multipart upload of the key was seen before the kill');
  assert.is((await uploadsOf('archives/killed.fxar')).length, 1, 'the killed export left its unfinished upload');
  const again = run(['snap', 'export', 's3://fxt/killexport', '-o', 's3://fxt/archives/killed.fxar', '--latest']);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stderr, /^fxcp: s3:\/\/fxt\/archives\/killed\.fxar: aborted 1 unfinished multipart upload of this key /m);
  assert.equal(await uploadsOf('archives/killed.fxar'), [], 'an unfinished upload of the key is left');
  const decoy = await uploadsOf('archives/killed.fxar.old');
  assert.is(decoy.length, 1, 'the upload of another key was aborted');
  const all = join(t.path, 'killed-all');
  ok(['snap', 'restore', 's3://fxt/archives/killed.fxar', '-o', all]);
  assert.equal(compareTrees(src, all), []);
  // Nothing left over: a third export aborts nothing and says nothing of it.
  const third = run(['snap', 'export', 's3://fxt/killexport', '-o', 's3://fxt/archives/killed.fxar', '--latest']);
  assert.is(third.code, 0, third.stderr);
  assert.not.match(third.stderr, /aborted/);
  await client.send({ method: 'DELETE', bucket: 'fxt', key: 'archives/killed.fxar.old', query: [['uploadId', decoy[0]!.uploadId]] });
  await client.send({ method: 'DELETE', bucket: 'fxt', key: 'archives/killed.fxar' });
});

test('two exports to one key at once: the later one aborts the earlier one\'s upload; the earlier fails saying so, the later\'s archive restores', async () => {
  if (skip()) return;
  const src = join(t.path, 'src14'); // the killed-export test's snapshot
  const client = raw('').client;
  const key = 'archives/race.fxar';
  const first = fxcpAsync(['snap', 'export', 's3://fxt/killexport', '-o', `s3://fxt/${key}`, '--latest'], env);
  let err = '';
  first.stderr!.on('data', (d) => { err += d; });
  const exited = new Promise<number | null>((r) => first.once('close', (c) => r(c)));
  let begun = false;
  for (let i = 0; i < 3000 && first.exitCode === null && !begun; i++) {
    begun = (await uploadsOf(key)).length > 0;
    if (!begun) await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(begun, 'the first export ended before its upload was seen');
  // Held still while the second export runs, so the race is the same on a fast or a slow machine.
  first.kill('SIGSTOP');
  const second = run(['snap', 'export', 's3://fxt/killexport', '-o', `s3://fxt/${key}`, '--latest']);
  assert.is(second.code, 0, second.stderr);
  assert.match(second.stderr, /aborted 1 unfinished multipart upload of this key/);
  first.kill('SIGCONT');
  assert.is(await exited, 2, err);
  assert.match(err, new RegExp(`s3://fxt/${key}: this export's multipart upload was aborted meanwhile .*NoSuchUpload`));
  assert.equal(await uploadsOf(key), []);
  const all = join(t.path, 'race-all');
  ok(['snap', 'restore', `s3://fxt/${key}`, '-o', all]);
  assert.equal(compareTrees(src, all), []);
  await client.send({ method: 'DELETE', bucket: 'fxt', key });
});

test('locks are objects: a live shared lock holds off gc (LOCKED, naming the holder); an expired lease is broken with a warning', async () => {
  if (skip()) return;
  const src = join(t.path, 'src1');
  ok(['snap', 'create', src, 's3://fxt/locks']);
  await withStore('s3://fxt/locks', { lock: 'shared', command: 'the test holder', env }, async () => {
    const gc = run(['store', 'gc', 's3://fxt/locks', '--json']);
    assert.is(gc.code, 2, gc.stderr);
    const e = JSON.parse(gc.stderr);
    assert.is(e.code, 'LOCKED');
    assert.match(e.message, /^s3:\/\/fxt\/locks: store is locked shared by pid \d+ on .* \(the test holder, since .*, lease until .*\)$/);
  });
  // A lock whose holder died long ago: its lease has run out.
  const dead = { host: 'elsewhere', pid: 4242, command: 'fxcp store gc', exclusive: true, time: '2020-01-01T00:00:00.000Z', expires: '2020-01-01T00:01:30.000Z' };
  await raw('').client.send({ method: 'PUT', bucket: 'fxt', key: 'locks/locks/exclusive-elsewhere-4242-deadbeef.lock', body: Buffer.from(JSON.stringify(dead)) });
  const after = run(['snap', 'create', src, 's3://fxt/locks']);
  assert.is(after.code, 0, after.stderr);
  assert.match(after.stderr, /removed stale lock s3:\/\/fxt\/locks\/locks\/exclusive-elsewhere-4242-deadbeef.lock of pid 4242 on elsewhere .*its lease ran out at 2020-01-01T00:01:30.000Z/);
  assert.is(await countKeys('locks/locks/'), 0, 'a lock object is left');
});

test('repair in a bucket: a damaged pack is salvaged and a damaged record without a good copy quarantined, both in the bucket; gc of another host holds off', async () => {
  if (skip()) return;
  const src = join(t.path, 'src10');
  makeSource(src, 10);
  ok(['snap', 'create', src, 's3://fxt/repair']);
  writeFileSync(join(src, 'top.txt'), 'second\n');
  ok(['snap', 'create', src, 's3://fxt/repair']);
  const st = raw('repair');
  const victim: string = JSON.parse(ok(['snap', 'list', 's3://fxt/repair', '--json']).stdout).snapshots[0].id;
  // The first snapshot's record, damaged, with no good copy in any index (this host's cache gone).
  const record = await st.get('snapshot', victim);
  record[record.length - 5] ^= 0x40;
  await st.put('snapshot', victim, record);
  // And a flipped byte in the biggest pack.
  const { big, bytes } = await flipInBiggestPack(st);
  rmSync(cache, { recursive: true, force: true });
  const repaired = run(['store', 'repair', 's3://fxt/repair']);
  assert.is(repaired.code, 1, repaired.stderr); // a chunk was lost: partial
  assert.match(repaired.stdout, new RegExp(`quarantined snapshot record ${victim.slice(0, 12)}`));
  assert.match(repaired.stdout, new RegExp(`quarantined pack ${big.slice(0, 16)}`));
  // Both are in the bucket's quarantine, byte for byte as found, and gone from their places.
  const q = new S3Storage('fxt', 'repair', s3TestSettings(ceph as CephCluster));
  assert.equal(await q.quarantine.list('snapshot'), [victim]);
  assert.equal(await q.quarantine.list('pack'), [big]);
  const qRecord = (await q.client.send({ method: 'GET', bucket: 'fxt', key: `repair/quarantine/snapshots/${victim}.snap` })).body;
  assert.ok(qRecord.equals(record), 'the quarantined record is the damaged one');
  const qPack = (await q.client.send({ method: 'GET', bucket: 'fxt', key: `repair/quarantine/packs/${big}.pack` })).body;
  assert.ok(qPack.equals(bytes), 'the quarantined pack is the damaged one');
  assert.is(await st.exists('snapshot', victim), false);
  assert.is(await st.exists('pack', big), false);
  await q.close();
  assert.is(JSON.parse(ok(['snap', 'list', 's3://fxt/repair', '--json']).stdout).snapshots.length, 1);
  // Another host (its own cache) sees the quarantine: gc deletes nothing until told to forget it.
  const other = { XDG_CACHE_HOME: join(t.path, 'other-host-cache') };
  const held = run(['store', 'gc', 's3://fxt/repair', '--json'], other);
  assert.is(held.code, 2, held.stderr);
  assert.is(JSON.parse(held.stderr).code, 'QUARANTINED_SNAPSHOTS');
  assert.match(JSON.parse(held.stderr).message, /^s3:\/\/fxt\/repair\/quarantine\/snapshots: 1 quarantined snapshot record/);
  ok(['store', 'gc', 's3://fxt/repair', '--forget-quarantined'], other);
  assert.is(await countKeys('repair/quarantine/snapshots/'), 0);
  // What the damaged pack lost of big.bin stays a named problem; the other files restore.
  const check = run(['store', 'check', 's3://fxt/repair', '--read-data'], other);
  assert.is(check.code, 1);
  assert.match(check.stdout, /MISSING_CHUNK.*\n.*affects snapshot .*: d\/big\.bin/);
  const out = join(t.path, 'out10');
  run(['snap', 'restore', 's3://fxt/repair', '-o', out], other);
  assert.is(readFileSync(join(out, 'top.txt'), 'utf8'), 'second\n');
  assert.is(readFileSync(join(out, 'd/e/small.txt'), 'utf8'), 'small 10\n');
});

test('lock objects racing: an exclusive holder is alone, shared holders overlap, every locker gets its turn', async () => {
  if (skip()) return;
  // Eight lockers, each with its own client (as on eight hosts), all asking at once, each
  // holding for a moment: the holders at any time are one exclusive, or shared ones only.
  const held: boolean[] = [];
  const violations: string[] = [];
  let sharedTogether = 0;
  const lockers = Array.from({ length: 8 }, (_, i) => (async () => {
    const st = new S3Storage('fxt', 'race', s3TestSettings(ceph as CephCluster));
    const exclusive = i % 2 === 0;
    try {
      const lock = await S3StoreLock.acquire(st, { exclusive, command: `locker ${i}`, waitMs: 60_000 });
      held.push(exclusive);
      const ex = held.filter((e) => e).length;
      if (ex > 1 || (ex === 1 && held.length > 1)) violations.push(`locker ${i}: ${held.length} holders, ${ex} exclusive`);
      if (!exclusive && held.length > 1) sharedTogether++;
      await new Promise((r) => setTimeout(r, 150));
      held.splice(held.indexOf(exclusive), 1);
      await lock.release();
    } finally {
      await st.close();
    }
  })());
  await Promise.all(lockers);
  assert.equal(violations, []);
  console.log(`  (8 racing lockers: shared holders overlapped ${sharedTogether} times)`);
  assert.is(await countKeys('race/locks/'), 0, 'a lock object is left');
});

test('two hosts, each with its own cache: each sees the other\'s snapshots, and what one host\'s gc removed the other forgets', () => {
  if (skip()) return;
  const hostA = { XDG_CACHE_HOME: join(t.path, 'cache-host-a') };
  const hostB = { XDG_CACHE_HOME: join(t.path, 'cache-host-b') };
  const a = join(t.path, 'src12a'), b = join(t.path, 'src12b');
  makeSource(a, 12);
  makeSource(b, 13);
  ok(['snap', 'create', a, 's3://fxt/hosts'], hostA);
  ok(['snap', 'create', b, 's3://fxt/hosts'], hostB); // B's cache is made with A's packs in it
  makeSource(a, 14);
  ok(['snap', 'create', a, 's3://fxt/hosts'], hostA); // packs B's cache does not know
  const listB = JSON.parse(ok(['snap', 'list', 's3://fxt/hosts', '--json'], hostB).stdout).snapshots;
  assert.is(listB.length, 3);
  const outB = join(t.path, 'out12b');
  ok(['snap', 'restore', 's3://fxt/hosts', '-o', outB], hostB);
  assert.equal(compareTrees(a, outB), []);
  // A prunes to its latest and collects: packs B's cache lists are gone from the bucket.
  ok(['snap', 'prune', 's3://fxt/hosts', '--keep-last', '1'], hostA);
  ok(['store', 'gc', 's3://fxt/hosts'], hostA);
  const checkB = ok(['store', 'check', 's3://fxt/hosts', '--read-data'], hostB);
  assert.match(checkB.stdout, /no problems/);
  // One line for what A's gc removed, not an alarm per pack.
  const gone = checkB.stderr.split('\n').filter((l) => /MISSING_PACK|pack/.test(l));
  assert.is(gone.length, 1, checkB.stderr);
  assert.match(gone[0]!, /^fxcp: warning: s3:\/\/fxt\/hosts: \d+ packs? this host's index listed (is|are) gone \(removed by another host's gc, or lost\)/);
  const again = join(t.path, 'again12b');
  ok(['snap', 'restore', 's3://fxt/hosts', '-o', again], hostB);
  assert.equal(compareTrees(a, again), []);
});

test('credentials and endpoint from ~/.aws (AWS_PROFILE, credentials, config endpoint_url), no AWS_ variables', () => {
  if (skip()) return;
  const c = ceph as CephCluster;
  const home = join(t.path, 'home');
  mkdirSync(join(home, '.aws'), { recursive: true });
  writeFileSync(join(home, '.aws', 'credentials'), `[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n\n[ceph]\naws_access_key_id = ${c.accessKey}\naws_secret_access_key = ${c.secretKey}\n`);
  writeFileSync(join(home, '.aws', 'config'), `[profile ceph]\nregion = us-east-1\nendpoint_url = ${c.endpoint}\n`);
  const bare: Record<string, string> = { HOME: home, XDG_CACHE_HOME: cache, AWS_ENDPOINT_URL: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_REGION: '' };
  const r = fxcp(['snap', 'list', 's3://fxt/first', '--json'], { env: { ...bare, AWS_PROFILE: 'ceph' } });
  assert.is(r.code, 0, r.stderr);
  assert.is(JSON.parse(r.stdout).store, 's3://fxt/first');
  // The default profile's keys are wrong: refused, naming the object and what to check.
  const d = fxcp(['snap', 'list', 's3://fxt/first', '--json', '--s3-endpoint', c.endpoint], { env: bare });
  assert.is(d.code, 2, d.stderr);
  assert.is(JSON.parse(d.stderr).code, 'S3_AUTH');
});

/** The unfinished multipart uploads of exactly `key` in the bucket. */
async function uploadsOf(key: string): Promise<UnfinishedUpload[]> {
  const res = await raw('').client.send({ method: 'GET', bucket: 'fxt', query: [['uploads', ''], ['prefix', key]] });
  return parseUploads(res.body.toString()).uploads.filter((u) => u.key === key);
}

async function countKeys(under: string): Promise<number> {
  let n = 0;
  for await (const _ of raw('').listKeys(under)) n++;
  return n;
}

test.run();
