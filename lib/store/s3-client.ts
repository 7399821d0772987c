/**
 * A small S3 client: signed requests (s3-signer.ts) on kept-alive connections of its own
 * (http1-pool.ts: node:http's parser cost a restore 2.5x the CPU per byte fetched),
 * retried with backoff on what is worth retrying (5xx, 429, a reset or refused connection, a
 * timeout) until a bounded total time is spent, and failures that name the object, the method
 * and the HTTP status. The AWS SDK does the same with ~300 modules to load; the store needs a
 * dozen requests, and its own client keeps `fxcp` start-up, retries and errors in our hands.
 *
 * Every response body is read whole (an unread body keeps a socket, and the process, alive):
 * callers ask for ranges that fit in memory (packs are read by record, or in windows).
 */
import { nodeCrypto } from '../util/lazy-crypto.js';
import { NotFoundError, ToolkitError } from '../errors/index.js';
import { Http1Pool, type Http1Target } from './http1-pool.js';
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
}

export interface S3Response {
  status: number;
  /** Names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
}

/** Errors of the connection itself: the request may be sent again. */
const RETRY_ERRNO = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 2000;
/** Connections per host, as node's Agent had. */
const MAX_SOCKETS = 16;
/** The largest response body taken (the store's GETs are records, windows and packs of 16-64 MiB). */
const MAX_BODY_BYTES = 1 << 30;

export class S3Client {
  private readonly url: URL;
  private readonly pool = new Http1Pool(MAX_SOCKETS);
  /** HTTP requests sent, retries included (a restore says how many it took). */
  requests = 0;

  constructor(readonly settings: S3Settings) {
    this.url = new URL(settings.endpoint);
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
      const h = nodeCrypto().createHash('sha256');
      for (const p of parts) h.update(p);
      payloadHash = h.digest('hex');
    }
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
    const tls = this.url.protocol === 'https:';
    const target: Http1Target = {
      hostname: this.url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(this.url.port) || (tls ? 443 : 80), tls,
      servername: this.settings.pathStyle ? undefined : host.replace(/:\d+$/, ''), ca: this.settings.ca,
    };
    return this.pool.request(target, {
      method: req.method, path: s3EncodePath(path) + search, headers, body: parts, timeoutMs: this.settings.timeoutMs,
      maxBody: MAX_BODY_BYTES,
    });
  }

  close(): void {
    this.pool.close();
  }
}
