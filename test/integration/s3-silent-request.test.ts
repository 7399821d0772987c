/**
 * A request that goes silent (the connection taken, the request read, no answer ever: a
 * half-open connection, a stuck gateway) is dropped after the silence timeout and sent again
 * within the retry budget, on a real Ceph radosgw (test/helpers/ceph-cluster.ts) reached
 * through a TCP proxy that swallows the connections it is told to. The timeout is left to its
 * default, derived from the budget (s3-settings.ts): when it equalled the budget, one silent
 * request spent all of it and the command failed after a single attempt. No wall time is
 * asserted: the proxy counts what the client did. The same proxy answers 503 SlowDown or 429
 * (S3's throttling, which radosgw 16 cannot be made to give) for as many connections as told:
 * retried with backoff within the budget, then a named S3_ERROR. Skipped with the reason printed where Ceph
 * cannot run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CephCluster, startCeph } from '../helpers/ceph-cluster.js';
import { fxcp, fxcpAsync, tempDir } from '../helpers/run-cli.js';

let ceph: CephCluster | string = 'not started';
const t = tempDir('fx-s3silent-');
let env: Record<string, string> = {};
let proxy: Server | null = null;
let proxyEndpoint = '';
const open = new Set<Socket>();
/** Connections still to swallow; connections swallowed; swallowed ones the client closed itself. */
const stall = { left: 0, swallowed: 0, droppedByClient: 0 };
/** Connections still to answer with `status` (S3's throttling answer, as AWS gives it under load); answers given. */
const throttle = { left: 0, answered: 0, status: 503, code: 'SlowDown' };

const skip = () => {
  if (typeof ceph !== 'string') return false;
  console.log(`  (skipped: ${ceph})`);
  return true;
};

/** A TCP proxy to radosgw that takes the next `stall.left` connections and never answers on them. */
function startProxy(target: URL): Promise<Server> {
  const server = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => {});
    if (throttle.left > 0) {
      throttle.left--;
      // Read the request head, answer with the throttling error and close, as a busy gateway does.
      let head = '';
      client.on('data', (d: Buffer) => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n') || client.writableEnded) return;
        throttle.answered++;
        const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${throttle.code}</Code><Message>Please reduce your request rate.</Message></Error>`;
        client.end(`HTTP/1.1 ${throttle.status} ${throttle.code}\r\nContent-Type: application/xml\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      });
      return;
    }
    if (stall.left > 0) {
      stall.left--;
      stall.swallowed++;
      client.resume();
      client.on('close', () => { stall.droppedByClient++; });
      client.on('end', () => client.destroy());
      return;
    }
    const up = connect(Number(target.port), target.hostname);
    open.add(up);
    up.on('close', () => { open.delete(up); client.destroy(); });
    up.on('error', () => client.destroy());
    client.on('close', () => up.destroy());
    client.pipe(up);
    up.pipe(client);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** fxcp through the proxy, run beside this process's event loop (the proxy lives here). */
function viaProxy(args: string[], extra: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = fxcpAsync(args, { ...env, AWS_ENDPOINT_URL: proxyEndpoint, ...extra });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  child.stdout.resume();
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

test.before(async () => {
  ceph = await startCeph();
  if (typeof ceph === 'string') return;
  env = { ...ceph.env, XDG_CACHE_HOME: join(t.path, 'cache') };
  const src = join(t.path, 'src');
  mkdirSync(join(src, 'd'), { recursive: true });
  writeFileSync(join(src, 'd/f.txt'), 'silent\n');
  for (const args of [['store', 'init', 's3://fxs/s', '--create-bucket'], ['snap', 'create', src, 's3://fxs/s']]) {
    const r = fxcp(args, { env });
    assert.is(r.code, 0, r.stderr);
  }
  proxy = await startProxy(new URL(ceph.env.AWS_ENDPOINT_URL!));
  proxyEndpoint = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
});
test.after(() => {
  for (const s of open) s.destroy();
  proxy?.close();
  if (typeof ceph !== 'string') ceph.stop();
  t.cleanup();
});

test('a request that goes silent is dropped after the default timeout and sent again: the command succeeds', async () => {
  if (skip()) return;
  Object.assign(stall, { left: 1, swallowed: 0, droppedByClient: 0 });
  // A budget of 9 s: the default timeout is then 3 s, leaving room for two more attempts.
  const r = await viaProxy(['snap', 'list', 's3://fxs/s'], { FOXING_S3_RETRY_SECONDS: '9' });
  assert.is(r.code, 0, r.stderr);
  assert.is(stall.swallowed, 1);
  // The silent connection was given up (closed), not waited on.
  assert.is(stall.droppedByClient, 1);
});

test('a gateway silent on every connection: the command fails with S3_UNREACHABLE after several attempts, naming the object', async () => {
  if (skip()) return;
  Object.assign(stall, { left: Infinity, swallowed: 0, droppedByClient: 0 });
  const r = await viaProxy(['snap', 'list', 's3://fxs/s'], { FOXING_S3_RETRY_SECONDS: '6' });
  stall.left = 0;
  assert.is(r.code, 2, r.stderr);
  const m = /s3:\/\/fxs\/s\S*: \w+ failed: \S+ unreachable \(no answer for 2 s\) after (\d+) attempts/.exec(r.stderr);
  assert.ok(m, r.stderr);
  assert.ok(Number(m![1]) >= 2, r.stderr);
  assert.ok(stall.droppedByClient >= 2, `${stall.droppedByClient} connections dropped by the client`);
});

test('503 SlowDown and 429 answers are retried with backoff: the command succeeds once the gateway takes requests again', async () => {
  if (skip()) return;
  for (const [status, code] of [[503, 'SlowDown'], [429, 'TooManyRequests']] as const) {
    Object.assign(throttle, { left: 4, answered: 0, status, code });
    const r = await viaProxy(['snap', 'list', 's3://fxs/s', '--json'], { FOXING_S3_RETRY_SECONDS: '20' });
    throttle.left = 0;
    assert.is(r.code, 0, r.stderr);
    assert.is(throttle.answered, 4, `${status}: ${throttle.answered} throttled answers`);
  }
});

test('throttled past the retry budget: S3_ERROR naming the object, the status and the attempts (exit 2)', async () => {
  if (skip()) return;
  Object.assign(throttle, { left: Infinity, answered: 0, status: 503, code: 'SlowDown' });
  const r = await viaProxy(['snap', 'list', 's3://fxs/s', '--json'], { FOXING_S3_RETRY_SECONDS: '2' });
  throttle.left = 0;
  assert.is(r.code, 2, r.stderr);
  const e = JSON.parse(r.stderr.trim().split('\n').pop()!);
  assert.is(e.code, 'S3_ERROR');
  assert.match(e.message, /^s3:\/\/fxs\/s\S*: GET failed: HTTP 503 SlowDown after (\d+) attempts in [\d.]+ s$/);
  assert.ok(Number(/after (\d+) attempts/.exec(e.message)![1]) >= 3, e.message);
  assert.ok(throttle.answered >= 3, `${throttle.answered} throttled answers`);
});

test.run();
