/**
 * AWS Signature Version 4 for S3 requests (the header form): a pure function of the request,
 * the credentials and the time, so it is tested against the published example vectors. The
 * payload is signed by its SHA-256 (x-amz-content-sha256), which also lets the server reject a
 * body damaged on the way.
 *
 * Limits: only what the S3 backend sends: header signing (no presigned URLs), no chunked
 * (aws-chunked) payload signing; bodies are whole buffers.
 */
import { nodeCrypto } from '../util/lazy-crypto.js';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface RequestToSign {
  method: string;
  /** host[:port] as sent in the Host header. */
  host: string;
  /** The path, already percent-encoded (s3EncodePath). */
  path: string;
  query: ReadonlyArray<readonly [string, string]>;
  /** Headers to sign besides host and the x-amz ones this adds; names in any case. */
  headers: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body (sha256Hex), or the empty body's. */
  payloadHash: string;
  region: string;
  service?: string;
  credentials: S3Credentials;
  now: Date;
}

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function sha256Hex(data: Uint8Array | string): string {
  return nodeCrypto().createHash('sha256').update(data).digest('hex');
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters. */
export function s3Encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** A key's path: each segment encoded, the slashes kept. */
export function s3EncodePath(path: string): string {
  return path.split('/').map(s3Encode).join('/');
}

export function canonicalQuery(query: ReadonlyArray<readonly [string, string]>): string {
  return query.map(([k, v]) => [s3Encode(k), s3Encode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
}

/** The headers to send: the request's, plus host, x-amz-date, x-amz-content-sha256, the token and Authorization. */
export function signRequest(r: RequestToSign): Record<string, string> {
  const service = r.service ?? 's3';
  const amzDate = r.now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = String(v).trim().replace(/\s+/g, ' ');
  headers.host = r.host;
  headers['x-amz-date'] = amzDate;
  headers['x-amz-content-sha256'] = r.payloadHash;
  if (r.credentials.sessionToken) headers['x-amz-security-token'] = r.credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonical = [
    r.method, r.path, canonicalQuery(r.query),
    names.map((n) => `${n}:${headers[n]}\n`).join(''), signedHeaders, r.payloadHash,
  ].join('\n');
  const scope = `${day}/${r.region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  let key: Buffer = hmac(`AWS4${r.credentials.secretAccessKey}`, day);
  for (const part of [r.region, service, 'aws4_request']) key = hmac(key, part);
  const signature = nodeCrypto().createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${r.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return nodeCrypto().createHmac('sha256', key).update(data).digest();
}
