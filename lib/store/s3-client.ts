/**
 * A small S3 client over node:http(s): signed requests (s3-signer.ts) on kept-alive connections,
 * retried with backoff on what is worth retrying (5xx, 429, a reset or refused connection, a
 * timeout) until a bounded total time is spent, and failures that name the object, the method
 * and the HTTP status. The AWS SDK does the same with ~300 modules to load; the store needs a
 * dozen requests, and its own client keeps `fxcp` start-up, retries and errors in our hands.
 *
 * Every response body is read whole (an unread body keeps a socket, and the process, alive):
 * callers ask for ranges that fit in memory (packs are read by record, or in windows).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Agent as HttpAgent, IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { NotFoundError, ToolkitError } from '../errors/index.js';
import { EMPTY_SHA256, type S3Credentials, s3Encode, s3EncodePath, signRequest } from './s3-signer.js';
import { parseErrorBody } from './s3-xml.js';

export interface S3Settings {
  /** Scheme, host and port: http://127.0.0.1:7480, https://s3.eu-west-1.amazonaws.com. */
  endpoint: string;
  region: string;
  credentials: S3Credentials;
  /** Bucket in the path (custom endpoints: Ceph, MinIO) rather than in the host name (AWS). */
  pathStyle: boolean;
  /** PEM text of extra certificate authorities to trust besides the built-in ones. */
  ca?: string;
  /** The whole time one request may spend on retries (ms). */
  retryMs: number;
  /** A connection, or a response, silent for this long is dropped (and retried) (ms). */
  timeoutMs: number;
  /** How long a store lock holds unless written again (s3-lock.ts); default 90 s. */
  leaseMs?: number;
}

export interface S3Request {
  method: 'GET' | 'PUT' | 'HEAD' | 'DELETE' | 'POST';
  bucket: string;
  key?: string;
  query?: Array<[string, string]>;
  headers?: Record<string, string>;
  body?: Uint8Array | readonly Uint8Array[];
  /** Hex SHA-256 of the body, when the caller computed it as it filled the body (s3-blob-writer.ts). */
  payloadHash?: string;
  /** Statuses handed back to the caller rather than thrown (2xx always are). */
  accept?: readonly number[];
  /**
   * The response body in memory that worker threads can read without a copy (a
   * SharedArrayBuffer): read-ahead windows whose records a restore hands to its workers.
   */
  sharedBody?: boolean;
}

export interface S3Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Errors of the connection itself: the request may be sent again. */
const RETRY_ERRNO = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 2000;

export class S3Client {
  private readonly url: URL;
  private agent: HttpAgent | null = null;
  /** HTTP requests sent, retries included (a restore says how many it took). */
  requests = 0;
  private send1: typeof httpRequest | null = null;

  constructor(readonly settings: S3Settings) {
    this.url = new URL(settings.endpoint);
  }

  /**
   * node:http(s) and tls are loaded at the first request, not when a module that names S3 is
   * loaded: commands on a local store do not pay for them (https and tls cost a few ms of start-up).
   */
  private transport(): void {
    if (this.send1) return;
    // createRequire, not import(): the CLI bundle is CommonJS run from a code cache, where a
    // dynamic import of a built-in has no loader.
    const require = createRequire(import.meta.url);
    if (this.url.protocol === 'https:') {
      const https = require('node:https') as typeof import('node:https');
      const tls = require('node:tls') as typeof import('node:tls');
      const ca = this.settings.ca ? { ca: [...tls.rootCertificates, this.settings.ca] } : {};
      this.agent ??= new https.Agent({ keepAlive: true, maxSockets: 16, ...ca });
      this.send1 = https.request;
    } else {
      const http = require('node:http') as typeof import('node:http');
      this.agent ??= new http.Agent({ keepAlive: true, maxSockets: 16 });
      this.send1 = http.request;
    }
  }

  /** s3://bucket/key, as messages name objects. */
  static where(bucket: string, key?: string): string {
    return `s3://${bucket}${key === undefined ? '' : '/' + key}`;
  }

  async send(req: S3Request): Promise<S3Response> {
    // A listing is named by the prefix it lists.
    const where = S3Client.where(req.bucket, req.key ?? req.query?.find(([k]) => k === 'prefix')?.[1]);
    const parts = req.body === undefined ? [] : req.body instanceof Uint8Array ? [req.body] : req.body;
    const length = parts.reduce((n, p) => n + p.byteLength, 0);
    let payloadHash = req.payloadHash ?? EMPTY_SHA256;
    if (length > 0 && req.payloadHash === undefined) {
      const h = createHash('sha256');
      for (const p of parts) h.update(p);
      payloadHash = h.digest('hex');
    }
    this.transport();
    const started = Date.now();
    let delay = BACKOFF_FIRST_MS;
    for (let attempt = 1; ; attempt++) {
      let failure: { status?: number; code?: string; message: string };
      try {
        const res = await this.once(req, parts, length, payloadHash);
        if (res.status < 300 || req.accept?.includes(res.status)) return res;
        const body = parseErrorBody(res.body.toString('utf8'));
        if (!(res.status >= 500 || res.status === 429)) throw this.httpError(req, where, res.status, body, attempt);
        failure = { status: res.status, code: body.code, message: `HTTP ${res.status}${body.code ? ' ' + body.code : ''}` };
      } catch (err) {
        if (err instanceof ToolkitError) throw err;
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (!RETRY_ERRNO.has(code) && !/socket hang up/.test((err as Error).message)) {
          // A certificate no CA vouches for: the usual cause is an in-house CA not given.
          const hint = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code) ? ' (a private CA? name its certificate in AWS_CA_BUNDLE)' : '';
          throw new ToolkitError('S3_UNREACHABLE', `${where}: ${req.method} to ${this.settings.endpoint} failed: ${(err as Error).message}${hint}`,
            { path: where, endpoint: this.settings.endpoint, errno: code || undefined }, { cause: err });
        }
        failure = { code, message: (err as Error).message };
      }
      const wait = Math.min(delay, BACKOFF_MAX_MS) * (0.5 + Math.random() / 2);
      if (Date.now() - started + wait > this.settings.retryMs) {
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        if (failure.status === undefined) {
          throw new ToolkitError('S3_UNREACHABLE', `${where}: ${req.method} failed: ${this.settings.endpoint} unreachable (${failure.message}) after ${attempt} attempts in ${secs} s`,
            { path: where, endpoint: this.settings.endpoint, errno: failure.code, attempts: attempt });
        }
        throw new ToolkitError('S3_ERROR', `${where}: ${req.method} failed: ${failure.message} after ${attempt} attempts in ${secs} s`,
          { path: where, status: failure.status, s3Code: failure.code, attempts: attempt });
      }
      await new Promise((r) => setTimeout(r, wait));
      delay *= 2;
    }
  }

  /** A failure the server meant (4xx): not retried. */
  private httpError(req: S3Request, where: string, status: number, body: { code?: string; message?: string }, attempt: number): ToolkitError {
    const what = `HTTP ${status}${body.code ? ' ' + body.code : ''}${body.message ? ': ' + body.message : ''}`;
    if (body.code === 'NoSuchBucket') {
      return new NotFoundError(`${S3Client.where(req.bucket)}: no such bucket at ${this.settings.endpoint} (${req.method} ${where}: ${what})`,
        { path: where, bucket: req.bucket, status }, 'NO_BUCKET');
    }
    if (status === 403 || status === 401) {
      return new ToolkitError('S3_AUTH', `${where}: ${req.method} refused by ${this.settings.endpoint} (${what}): check the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE) and the bucket's permissions`,
        { path: where, status, s3Code: body.code });
    }
    return new ToolkitError('S3_ERROR', `${where}: ${req.method} failed: ${what}`, { path: where, status, s3Code: body.code, attempts: attempt });
  }

  private once(req: S3Request, parts: readonly Uint8Array[], length: number, payloadHash: string): Promise<S3Response> {
    const key = req.key === undefined ? '' : '/' + req.key;
    const path = this.settings.pathStyle ? `/${req.bucket}${key}` : key || '/';
    const host = this.settings.pathStyle ? this.url.host : `${req.bucket}.${this.url.host}`;
    const query = req.query ?? [];
    const headers = signRequest({
      method: req.method, host, path: s3EncodePath(path), query, payloadHash, region: this.settings.region,
      credentials: this.settings.credentials, now: new Date(),
      headers: { ...req.headers, ...(length > 0 || req.method === 'PUT' || req.method === 'POST' ? { 'content-length': String(length) } : {}) },
    });
    this.requests++;
    const search = query.length === 0 ? '' : '?' + query.map(([k, v]) => `${s3Encode(k)}${v === '' ? '' : '=' + s3Encode(v)}`).join('&');
    return new Promise((resolve, reject) => {
      const r = this.send1!({
        protocol: this.url.protocol, hostname: this.url.hostname, port: this.url.port || undefined,
        method: req.method, path: s3EncodePath(path) + search, headers, agent: this.agent!, timeout: this.settings.timeoutMs,
        ...(this.settings.pathStyle ? {} : { servername: host.replace(/:\d+$/, '') }),
      }, (res) => {
        // Into one buffer of the announced length as the pieces arrive (a window of 8 MiB comes
        // in hundreds of pieces: gathered and concatenated, it was held twice). HTTP framing
        // (node's parser) delivers no more than Content-Length.
        const announced = Number(res.headers['content-length']);
        const whole = !(Number.isSafeInteger(announced) && announced > 0) ? null
          : req.sharedBody ? Buffer.from(new SharedArrayBuffer(announced)) : Buffer.allocUnsafe(announced);
        const chunks: Buffer[] = [];
        let got = 0;
        res.on('data', (c: Buffer) => {
          if (whole) c.copy(whole, got);
          else chunks.push(c);
          got += c.byteLength;
        });
        res.on('error', reject);
        res.on('end', () => {
          const body = whole ? whole.subarray(0, got) : req.sharedBody ? sharedCopy(chunks, got) : Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      });
      r.on('timeout', () => r.destroy(Object.assign(new Error(`no answer for ${this.settings.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
      r.on('error', reject);
      for (const p of parts) r.write(p);
      r.end();
    });
  }

  close(): void {
    this.agent?.destroy();
  }
}

/** `chunks` (`length` bytes in all) gathered into shared memory. */
function sharedCopy(chunks: readonly Buffer[], length: number): Buffer {
  const out = Buffer.from(new SharedArrayBuffer(length));
  let at = 0;
  for (const c of chunks) at += c.copy(out, at);
  return out;
}
