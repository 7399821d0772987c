/**
 * The S3 client's connections (lib/store/http1-pool.ts) against a TCP server in this process
 * that answers as it is told, so each connection behaviour can be forced: reuse, the per-host
 * limit, a kept-alive connection the server closed while idle (sent again at once, not failed),
 * silence (ETIMEDOUT) and a refused connection (ECONNREFUSED). radosgw itself is exercised by
 * the integration tests (test/integration/, the S3 ones).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server, type Socket } from 'node:net';
import { Http1Pool, type Http1Request, type Http1Target } from '../../lib/store/http1-pool.js';

interface Behaviour { silent: boolean; closeAfterAnswer: boolean }
const how: Behaviour = { silent: false, closeAfterAnswer: false };
let server: Server;
let target: Http1Target;
const sockets = new Set<Socket>();
let connections = 0;
let inFlight = 0;
let mostInFlight = 0;

function answer(socket: Socket): void {
  let got = '';
  socket.on('data', (d) => {
    got += d.toString('latin1');
    let end: number;
    while ((end = got.indexOf('\r\n\r\n')) >= 0) {
      const head = got.slice(0, end);
      const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (got.length < end + 4 + len) return;
      got = got.slice(end + 4 + len);
      if (how.silent) return;
      const path = head.split(' ')[1]!;
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        const body = `${path} ${len}`;
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        if (how.closeAfterAnswer) socket.end();
      }, 5);
    }
  });
}

const req = (path: string, body = ''): Http1Request => ({
  method: 'PUT', path, headers: { host: 'h', 'content-length': String(body.length) }, body: [Buffer.from(body)],
  timeoutMs: 2000, maxBody: 1 << 20,
});

test.before(async () => {
  server = createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    answer(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  target = { hostname: '127.0.0.1', port: (server.address() as { port: number }).port, tls: false };
});
test.after(() => {
  for (const s of sockets) s.destroy();
  server.close();
});

test('connections are reused, and no more than the limit are open at once', async () => {
  const pool = new Http1Pool(2);
  connections = 0;
  mostInFlight = 0;
  const res = await Promise.all(Array.from({ length: 8 }, (_, i) => pool.request(target, req(`/o${i}`, 'x'.repeat(i)))));
  assert.equal(res.map((r) => r.body.toString()), Array.from({ length: 8 }, (_, i) => `/o${i} ${i}`));
  assert.is(connections, 2);
  assert.is(mostInFlight, 2);
  await pool.request(target, req('/again'));
  assert.is(connections, 2);
  pool.close();
});

test('a kept-alive connection the server closed while idle: the next request goes out on a new one and succeeds', async () => {
  const pool = new Http1Pool(4);
  await pool.request(target, req('/first'));
  // The server drops every open connection behind the client's back.
  for (const s of sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 20));
  connections = 0;
  const r = await pool.request(target, req('/second'));
  assert.is(r.body.toString(), '/second 0');
  assert.is(connections, 1);
  pool.close();
});

test('a server that ends each connection after its answer: every request still succeeds', async () => {
  const pool = new Http1Pool(4);
  how.closeAfterAnswer = true;
  try {
    for (let i = 0; i < 5; i++) assert.is((await pool.request(target, req(`/c${i}`))).body.toString(), `/c${i} 0`);
  } finally {
    how.closeAfterAnswer = false;
    pool.close();
  }
});

test('silence: ETIMEDOUT after the timeout; nothing listening: ECONNREFUSED', async () => {
  const pool = new Http1Pool(4);
  how.silent = true;
  try {
    await pool.request(target, { ...req('/silent'), timeoutMs: 200 });
    assert.unreachable('answered');
  } catch (err) {
    assert.is((err as NodeJS.ErrnoException).code, 'ETIMEDOUT', String(err));
  } finally {
    how.silent = false;
  }
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  try {
    await pool.request({ ...target, port }, req('/nobody'));
    assert.unreachable('answered');
  } catch (err) {
    assert.is((err as NodeJS.ErrnoException).code, 'ECONNREFUSED', String(err));
  }
  pool.close();
});

test.run();
