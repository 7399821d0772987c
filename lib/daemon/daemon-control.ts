/**
 * A running daemon's outside: Prometheus metrics over HTTP (GET /metrics), a Unix socket for
 * `foxingd status` and `foxingd metrics` (the client writes one request line, `status` or
 * `metrics`, reads the answer, and the daemon closes; the metrics come this way too, so they
 * can be read where no metrics address is configured), and systemd's readiness protocol
 * (READY=1, STOPPING=1 and RELOADING=1 to $NOTIFY_SOCKET; nothing outside systemd).
 *
 * The status socket is made with mode 0600 (it tells paths), replacing a stale one only when
 * nothing answers on it: a second daemon with the same socket is refused, not silently
 * disconnected from its users.
 */
import { chmodSync, lstatSync, rmSync } from 'node:fs';
import { createServer as httpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import type { Registry } from 'prom-client';
import { NotFoundError, ToolkitError } from '../errors/index.js';
import { native } from '../native/load.js';

/** Where `foxingd status` and the daemon meet by default: /run as root, else the user's runtime directory. */
export function defaultStatusSocket(): string {
  if (process.getuid?.() === 0) return '/run/foxingd.sock';
  return process.env.XDG_RUNTIME_DIR ? `${process.env.XDG_RUNTIME_DIR}/foxingd.sock` : `/tmp/foxingd-${process.getuid?.() ?? 'user'}.sock`;
}

/** How long the socket waits for a client's request line. */
const REQUEST_WAIT_MS = 5000;

export class DaemonControl {
  private constructor(private readonly http: HttpServer | null, private readonly socket: Server, private readonly socketPath: string) {}

  /** Starts both servers; `metrics` is "HOST:PORT" or null for none. */
  static async start(opts: { metrics: string | null; socketPath: string; registry: Registry; status: () => unknown }): Promise<DaemonControl> {
    await claimSocket(opts.socketPath);
    const socket = createServer((c) => {
      c.on('error', () => {});  // a client that went away is no concern of the daemon's
      c.setEncoding('utf8');
      let line = '';
      const answer = (request: string) => {
        c.removeAllListeners('data');
        clearTimeout(idle);
        if (request === 'metrics') {
          opts.registry.metrics().then((text) => c.end(text), (err: Error) => c.end(`# error: ${err.message}\n`));
        } else {
          c.end(request === 'status' ? `${JSON.stringify(opts.status())}\n` : `${JSON.stringify({ error: `unknown request ${JSON.stringify(request.slice(0, 40))}: status or metrics` })}\n`);
        }
      };
      // A client that says nothing gets nothing and is let go: the socket serves one daemon's
      // few users, and must not be held open by a stuck one.
      const idle = setTimeout(() => c.destroy(), REQUEST_WAIT_MS);
      c.on('data', (d: string) => {
        line += d;
        const end = line.indexOf('\n');
        if (end >= 0) answer(line.slice(0, end).trim());
        else if (line.length > 64) answer(line.slice(0, 64));
      });
    });
    await listen(socket, opts.socketPath);
    chmodSync(opts.socketPath, 0o600);
    let http: HttpServer | null = null;
    if (opts.metrics) {
      const at = opts.metrics.lastIndexOf(':');
      const host = opts.metrics.slice(0, at), port = Number(opts.metrics.slice(at + 1));
      http = httpServer((req, res) => {
        if (req.url !== '/metrics') { res.writeHead(404).end('foxingd: see /metrics\n'); return; }
        opts.registry.metrics().then((text) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text),
          (err: Error) => res.writeHead(500).end(`${err.message}\n`));
      });
      try {
        await listen(http, port, host);
      } catch (err) {
        socket.close();
        throw new ToolkitError('IO', `metrics: cannot listen on ${opts.metrics}: ${(err as Error).message}`);
      }
    }
    return new DaemonControl(http, socket, opts.socketPath);
  }

  async close(): Promise<void> {
    await Promise.all([new Promise((r) => this.socket.close(r)), this.http ? new Promise((r) => this.http!.close(r)) : null]);
    rmSync(this.socketPath, { force: true });
  }
}

/** Tells systemd (Type=notify) `state`; a no-op outside systemd, and when the addon is absent. */
export function sdNotify(state: string): void {
  const path = process.env.NOTIFY_SOCKET;
  if (!path || !native) return;
  try {
    native.sendUnixDatagram(path, state);
  } catch { /* systemd went away: nothing to tell */ }
}

/** The status document of the daemon listening on `socketPath`. */
export async function readStatus(socketPath: string): Promise<unknown> {
  return JSON.parse(await ask(socketPath, 'status'));
}

/** The metrics of the daemon listening on `socketPath`, in Prometheus' text format. */
export function readMetrics(socketPath: string): Promise<string> {
  return ask(socketPath, 'metrics');
}

function ask(socketPath: string, request: 'status' | 'metrics'): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const c = connect(socketPath);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(`${request}\n`));
    c.on('data', (d) => { text += d; });
    c.on('end', () => resolve(text));
    c.on('error', (err: NodeJS.ErrnoException) => reject(new NotFoundError(`${socketPath}: no foxingd answers here (${err.code ?? err.message}); is it running, with this status_socket?`, { path: socketPath })));
  });
}

/** Removes a socket file nobody answers on; refuses one a live daemon holds. */
async function claimSocket(path: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
  if (alive) throw new ToolkitError('IO', `${path}: another foxingd answers on this status socket (status_socket chooses another)`, { path });
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st && !st.isSocket()) throw new ToolkitError('IO', `${path}: status_socket names a file that is not a socket; refused (nothing is removed)`, { path });
  rmSync(path, { force: true });
}

function listen(server: Server | HttpServer, ...args: [string] | [number, string]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(...(args as [number, string]), () => { server.off('error', reject); resolve(); });
  });
}
