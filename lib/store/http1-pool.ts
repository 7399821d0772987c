/**
 * The S3 client's connections: HTTP/1.1 requests written by hand on kept-alive TCP or TLS
 * sockets, responses read by http1-response.ts. It replaces node:http's Agent and parser, whose
 * per-piece events and copies made a restore's GETs cost 2.5x the CPU (http1-response.ts).
 *
 * What it keeps of node:http's behaviour, and why:
 *   - at most `maxSockets` connections per host; requests beyond wait for one in call order;
 *   - a connection is reused only after a complete response that allows it (http1-response.ts
 *     says when), and an idle one does not keep the process alive (unref);
 *   - silence for `timeoutMs` while a request is out (connecting, sending or waiting) drops
 *     the connection with ETIMEDOUT, which S3Client retries;
 *   - errors keep their errno codes (ECONNREFUSED, ECONNRESET, TLS certificate codes), which
 *     S3Client sorts into retried and reported.
 * One thing more: a kept-alive connection the server closed while it was idle fails the next
 * request before any byte of an answer. That request is sent once more at once on a new
 * connection, instead of waiting out S3Client's backoff (every request S3Client sends may be sent
 * twice: PUTs and DELETEs are idempotent, a repeated CreateMultipartUpload leaves an unused
 * upload that `store gc` removes).
 */
import { createRequire } from 'node:module';
import type * as net from 'node:net';
import type * as tlsModule from 'node:tls';
import { type Http1Response, Http1ResponseParser } from './http1-response.js';

export interface Http1Target {
  /** Host name or address to connect to, and port. */
  hostname: string;
  port: number;
  tls: boolean;
  /** TLS server name (SNI and the certificate check); the hostname when absent. */
  servername?: string;
  /** Extra certificate authorities (PEM) trusted beside the built-in ones. */
  ca?: string;
}

export interface Http1Request {
  method: string;
  /** Path and query, already encoded. */
  path: string;
  /** Every header to send, `host` and `content-length` included. */
  headers: Record<string, string>;
  body: readonly Uint8Array[];
  timeoutMs: number;
  maxBody: number;
}

/** A connection, and for an idle one the removal of its idle watchers. */
/**
 * A connection. Its bytes go to `sink`, the exchange under way; bytes, an end or an error while
 * no exchange is under way (idle) make it unusable.
 */
interface Conn { socket: net.Socket; used: boolean; sink: ((data: Buffer) => void) | null; unwatch: (() => void) | null }

/** What a plain TCP connection reads into (net's `onread`): one buffer for the pool, no Buffer per read. */
const READ_BUFFER_BYTES = 64 * 1024;

export class Http1Pool {
  private readonly idle = new Map<string, Conn[]>();
  private readonly busy = new Map<string, number>();
  private readonly queued = new Map<string, Array<() => void>>();
  /**
   * Plain connections read into this buffer, and the parser copies out what it keeps before the
   * next read. Socket 'data' events allocate a Buffer per read instead: at 4 MiB windows those
   * were tens of MiB of garbage between collections (V8 counts them as external memory only).
   */
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private closed = false;

  constructor(private readonly maxSockets: number) {}

  async request(target: Http1Target, req: Http1Request): Promise<Http1Response> {
    const key = `${target.tls ? 's' : ''}${target.servername ?? ''}@${target.hostname}:${target.port}`;
    await this.slot(key);
    try {
      const conn = this.take(key) ?? this.connect(target);
      try {
        return await this.exchange(key, conn, req);
      } catch (err) {
        // A kept-alive connection the server had closed: once more on a fresh one.
        if (!conn.used || !(err as { stale?: boolean }).stale) throw err;
        return await this.exchange(key, this.connect(target), req);
      }
    } finally {
      this.release(key);
    }
  }

  close(): void {
    this.closed = true;
    for (const conns of this.idle.values()) for (const c of conns) c.socket.destroy();
    this.idle.clear();
  }

  /** A connection slot for `key`: at once under the limit, else handed over by a release. */
  private async slot(key: string): Promise<void> {
    const n = this.busy.get(key) ?? 0;
    if (n < this.maxSockets) {
      this.busy.set(key, n + 1);
      return;
    }
    await new Promise<void>((r) => { const q = this.queued.get(key) ?? []; q.push(r); this.queued.set(key, q); });
  }

  private release(key: string): void {
    const next = this.queued.get(key)?.shift();
    if (next) next();
    else this.busy.set(key, (this.busy.get(key) ?? 1) - 1);
  }

  private take(key: string): Conn | null {
    const conns = this.idle.get(key);
    while (conns && conns.length > 0) {
      const c = conns.pop()!;
      c.unwatch?.();
      c.unwatch = null;
      if (!c.socket.destroyed) return c;
    }
    return null;
  }

  private connect(target: Http1Target): Conn {
    // net and tls are loaded at the first connection, not with the module: commands that never
    // reach a bucket (most) do not pay for them, and a text command must not load net (it
    // would make a stdout pipe non-blocking: test/cli/launcher.test.ts).
    const require = createRequire(import.meta.url);
    const net = require('node:net') as typeof import('node:net');
    const conn: Conn = { socket: null as unknown as net.Socket, used: false, sink: null, unwatch: null };
    const route = (data: Buffer) => {
      if (conn.sink) conn.sink(data);
      else conn.socket.destroy();
    };
    if (!target.tls) {
      conn.socket = net.connect({
        host: target.hostname, port: target.port, noDelay: true, keepAlive: true,
        onread: { buffer: this.readBuffer, callback: (n: number, buf: Uint8Array) => { route(Buffer.from(buf.buffer, buf.byteOffset, n)); return true; } },
      });
    } else {
      const tls = require('node:tls') as typeof tlsModule;
      conn.socket = tls.connect({
        host: target.hostname, port: target.port, servername: net.isIP(target.servername ?? target.hostname) ? undefined : (target.servername ?? target.hostname),
        ...(target.ca ? { ca: [...tls.rootCertificates, target.ca] } : {}),
        noDelay: true, keepAlive: true,
      } as tlsModule.ConnectionOptions);
      conn.socket.on('data', route);
    }
    // Errors are taken by the exchange under way; one that comes while none is (after a
    // connection was given up) must not become an uncaught exception.
    conn.socket.on('error', () => {});
    return conn;
  }

  private exchange(key: string, conn: Conn, req: Http1Request): Promise<Http1Response> {
    const { socket, used: reused } = conn;
    socket.ref();
    const parser = new Http1ResponseParser({ head: req.method === 'HEAD', maxBody: req.maxBody });
    return new Promise<Http1Response>((resolve, reject) => {
      const finish = (err: Error | null) => {
        conn.sink = null;
        socket.off('end', onEnd);
        socket.off('close', onEnd);
        socket.off('error', onError);
        socket.off('timeout', onTimeout);
        socket.setTimeout(0);
        if (err) {
          socket.destroy();
          if (reused && !parser.started && (err as NodeJS.ErrnoException).code !== 'ETIMEDOUT') (err as { stale?: boolean }).stale = true;
          reject(err);
          return;
        }
        const res = parser.result();
        if (res.reusable && !this.closed) this.park(key, conn);
        else socket.destroy();
        resolve(res);
      };
      conn.sink = (d: Buffer) => {
        try {
          parser.push(d);
        } catch (err) {
          finish(err as Error);
          return;
        }
        if (parser.done) finish(null);
      };
      const onEnd = () => {
        try {
          parser.end();
          finish(null);
        } catch (err) {
          finish(err as Error);
        }
      };
      const onError = (err: Error) => finish(err);
      const onTimeout = () => finish(Object.assign(new Error(`no answer for ${req.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' }));
      socket.on('end', onEnd);
      socket.on('close', onEnd);
      socket.on('error', onError);
      socket.on('timeout', onTimeout);
      socket.setTimeout(req.timeoutMs);
      let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(req.headers)) head += `${k}: ${v}\r\n`;
      socket.cork();
      socket.write(head + '\r\n', 'latin1');
      for (const p of req.body) if (p.byteLength > 0) socket.write(p);
      socket.uncork();
    });
  }

  /** An idle connection: kept for the next request to the host, dropped when the server ends it. */
  private park(key: string, conn: Conn): void {
    conn.used = true;
    conn.socket.unref();
    const conns = this.idle.get(key) ?? [];
    this.idle.set(key, conns);
    conns.push(conn);
    const gone = () => {
      conn.unwatch?.();
      conn.socket.destroy();
      const i = conns.indexOf(conn);
      if (i >= 0) conns.splice(i, 1);
    };
    conn.unwatch = () => {
      conn.socket.off('end', gone);
      conn.socket.off('close', gone);
      conn.unwatch = null;
    };
    conn.socket.on('end', gone);
    conn.socket.on('close', gone);
  }
}
