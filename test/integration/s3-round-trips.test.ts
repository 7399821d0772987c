/**
 * How many round trips to the bucket a one-file restore waits for, one after the other, on a
 * real Ceph radosgw (test/helpers/ceph-cluster.ts) reached through a recording proxy that holds
 * every answer back for HOLD_MS: requests sent side by side all reach the proxy before any
 * answer, so the order it sees them in is the order of the client's waits, whatever the load.
 * A request's round is one more than that of the latest answer it was sent after: the rounds
 * are the requests the command waited for in turn (not times, which a loaded machine skews).
 * Skipped with the reason printed where Ceph cannot run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, request, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CephCluster, startCeph } from '../helpers/ceph-cluster.js';
import { fxcp, fxcpAsync, tempDir } from '../helpers/run-cli.js';
import { s3TestSettings } from '../helpers/s3-store.js';
import { seededBytes } from '../helpers/seeded.js';
import { S3Storage } from '../../lib/store/s3-storage.js';

/** How long the proxy holds each answer (ms): far longer than sending a few requests takes. */
const HOLD_MS = 150;

interface Seen { method: string; path: string; received: number; answered: number }

let ceph: CephCluster | string = 'not started';
const t = tempDir('fx-s3rt-');
let env: Record<string, string> = {};
let proxy: Server | null = null;
let proxyEndpoint = '';
let seen: Seen[] = [];
const src = join(t.path, 'src');
const FILE = 'a/b/c/file.txt';

const skip = () => {
  if (typeof ceph !== 'string') return false;
  console.log(`  (skipped: ${ceph})`);
  return true;
};

/** An HTTP proxy to the cluster that records each request and holds its answer HOLD_MS. */
function startProxy(target: URL): Promise<Server> {
  const server = createServer((req, res) => {
    const s: Seen = { method: req.method!, path: decodeURIComponent(req.url!), received: performance.now(), answered: 0 };
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      // The Host header is passed on as signed (path-style requests name no host of radosgw's).
      const up = request({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (ans) => {
        const parts: Buffer[] = [];
        ans.on('data', (c: Buffer) => parts.push(c));
        ans.on('end', () => setTimeout(() => {
          s.answered = performance.now();
          seen.push(s);
          res.writeHead(ans.statusCode!, ans.headers);
          res.end(Buffer.concat(parts));
        }, HOLD_MS));
      });
      up.on('error', (err) => { res.destroy(err); });
      up.end(Buffer.concat(body));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Rounds: a request sent after an answer came waited for it (one round more than it). */
function rounds(list: Seen[]): Array<Seen & { round: number }> {
  const out: Array<Seen & { round: number }> = [];
  for (const s of [...list].sort((a, b) => a.received - b.received)) {
    const before = out.filter((o) => o.answered < s.received);
    out.push({ ...s, round: 1 + Math.max(0, ...before.map((o) => o.round)) });
  }
  return out;
}

async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  const child = fxcpAsync(args, { ...env, AWS_ENDPOINT_URL: proxyEndpoint });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  return { code, stderr };
}

test.before(async () => {
  ceph = await startCeph();
  if (typeof ceph === 'string') return;
  env = { ...ceph.env, XDG_CACHE_HOME: join(t.path, 'cache') };
  mkdirSync(join(src, 'a/b/c'), { recursive: true });
  writeFileSync(join(src, FILE), 'one file\n');
  for (let i = 0; i < 20; i++) writeFileSync(join(src, 'a', `f${i}.bin`), seededBytes(30_000, i));
  for (const args of [['store', 'init', 's3://fxrt/s', '--create-bucket'], ['snap', 'create', src, 's3://fxrt/s']]) {
    const r = fxcp(args, { env });
    assert.is(r.code, 0, r.stderr);
  }
  proxy = await startProxy(new URL(ceph.endpoint));
  proxyEndpoint = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
});
test.after(() => {
  proxy?.close();
  if (typeof ceph !== 'string') ceph.stop();
  t.cleanup();
});

test('a one-file restore from a store: the config, listings, archive probe and lock in one round; the trees in one GET; five in all', async () => {
  if (skip()) return;
  seen = [];
  const r = await run(['snap', 'restore', 's3://fxrt/s', '-o', join(t.path, 'out'), '--file', FILE]);
  assert.is(r.code, 0, r.stderr);
  const rs = rounds(seen);
  const show = rs.map((s) => `${s.round} ${s.method} ${s.path}`).join('\n');
  console.log(`  (one-file restore: ${rs.length} requests in ${Math.max(...rs.map((s) => s.round))} rounds)`);
  const roundOf = (method: string, re: RegExp) => rs.find((s) => s.method === method && re.test(s.path))?.round;
  assert.is(roundOf('GET', /^\/fxrt\/s\/config$/), 1, show);
  assert.is(roundOf('PUT', /^\/fxrt\/s\/locks\/shared-/), 1, `the lock is asked for beside the config:\n${show}`);
  assert.is(roundOf('GET', /^\/fxrt\/s$/), 1, `the archive probe goes beside the config:\n${show}`);
  // A shared lock looks for exclusive ones only.
  assert.ok(rs.some((s) => s.path.includes('prefix=s/locks/exclusive')), show);
  // The tree pack (small, its size known from the pack listing) is fetched whole at its first read.
  const treePack = rs.find((s) => s.round === 3 && /\/packs\//.test(s.path))?.path;
  assert.ok(treePack, show);
  assert.is(rs.filter((s) => s.path === treePack).length, 1, `the tree pack is fetched once:\n${show}`);
  assert.ok(Math.max(...rs.map((s) => s.round)) <= 5, show);
});

test('an archive in the bucket: a .fxar name is looked for first (no store request); any other name once the prefix holds no store', async () => {
  if (skip()) return;
  const ex = fxcp(['snap', 'export', 's3://fxrt/s', '-o', 's3://fxrt/x.fxar', '--latest'], { env });
  assert.is(ex.code, 0, ex.stderr);
  seen = [];
  let r = await run(['snap', 'restore', 's3://fxrt/x.fxar', '-o', join(t.path, 'out2'), '--file', FILE]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(seen.filter((s) => s.path !== '/fxrt/x.fxar').map((s) => `${s.method} ${s.path}`), [], 'requests beside the archive\'s');
  // The same archive under a name without the suffix: found once the prefix proves to hold no store.
  const raw = new S3Storage('fxrt', '', s3TestSettings(ceph as CephCluster));
  await raw.client.send({ method: 'PUT', bucket: 'fxrt', key: 'plain', headers: { 'x-amz-copy-source': '/fxrt/x.fxar' } });
  r = await run(['snap', 'restore', 's3://fxrt/plain', '-o', join(t.path, 'out3'), '--file', FILE]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /fetched .* from s3:\/\/fxrt\/plain/);
  // Nothing is left below the archive's name (the lock asked for beside the config is given back).
  let left = 0;
  for await (const _ of raw.listKeys('plain/')) left++;
  await raw.close();
  assert.is(left, 0, 'objects left below the archive name');
});

test.run();
