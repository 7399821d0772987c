/**
 * Where an s3:// store is and how to reach it: the URL's bucket and prefix, and the endpoint,
 * region and credentials from the places every S3 tool reads them, in the same order:
 *   endpoint     --s3-endpoint, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's endpoint_url;
 *                else AWS's own (https://s3.REGION.amazonaws.com)
 *   region       AWS_REGION, AWS_DEFAULT_REGION, the profile's region; else us-east-1
 *   credentials  AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); else the
 *                profile (AWS_PROFILE, else "default") in ~/.aws/credentials, then ~/.aws/config
 *                (AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE move them)
 *   extra CAs    AWS_CA_BUNDLE (else the profile's ca_bundle), and NODE_EXTRA_CA_CERTS as the
 *                fxcp launcher passes it on (bin/fxcp.cjs), both besides Node's built-in CAs
 * A custom endpoint is addressed path-style (bucket in the path: Ceph, MinIO and most
 * S3-compatible servers want it); AWS's own virtual-hosted (bucket in the host name).
 *
 * Pure of process state: the caller hands in the environment and a file reader.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ToolkitError, UsageError } from '../errors/index.js';
import type { S3Settings } from './s3-client.js';

export interface S3Url { bucket: string; prefix: string }

/** Bucket names S3 accepts (3-63 of a-z 0-9 . -); anything else is refused before a request. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function isS3Url(arg: string): boolean {
  return arg.startsWith('s3://');
}

/** s3://BUCKET[/PREFIX]: the prefix without leading or trailing slashes ('' for the bucket's root). */
export function parseS3Url(arg: string): S3Url {
  const m = /^s3:\/\/([^/]*)\/*(.*?)\/*$/.exec(arg);
  if (!m || !BUCKET.test(m[1]!)) throw new UsageError(`${arg}: not an S3 location: expected s3://BUCKET/PREFIX with a bucket name of 3-63 lower-case letters, digits, dots and hyphens`, { path: arg });
  const prefix = m[2]!;
  if (prefix !== '' && prefix.split('/').some((s) => s === '' || s === '.' || s === '..')) throw new UsageError(`${arg}: the prefix has an empty, '.' or '..' segment`, { path: arg });
  return { bucket: m[1]!, prefix };
}

export interface SettingsInput {
  env: Readonly<Record<string, string | undefined>>;
  /** Reads a file's text, or null when it does not exist. */
  readFile(path: string): string | null;
  /** --s3-endpoint */
  endpoint?: string;
}

/** The retry budget (FOXING_S3_RETRY_SECONDS, default 30 s). */
const DEFAULT_RETRY_S = 30;
/**
 * The silence timeout (FOXING_S3_TIMEOUT_SECONDS) when not set: a third of the retry budget,
 * between 2 and 10 s, so that a request that goes silent (a half-open connection, a stuck
 * gateway) is dropped and sent again at least twice within the budget. It was the budget
 * itself: one silent request then used all of it and failed the command unretried. The
 * timeout is for silence, not for the whole request: an answer still arriving is never cut.
 */
function defaultTimeoutMs(retryMs: number): number {
  return Math.min(10_000, Math.max(2_000, Math.round(retryMs / 3)));
}

export function resolveS3Settings(input: SettingsInput): S3Settings {
  const { env } = input;
  const home = env.HOME ?? homedir();
  const profileName = env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || 'default';
  const credFile = env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials');
  const confFile = env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config');
  const creds = sectionOf(input.readFile(credFile), profileName);
  // In ~/.aws/config a profile other than default is written [profile NAME].
  const conf = sectionOf(input.readFile(confFile), profileName === 'default' ? 'default' : `profile ${profileName}`);
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || conf.region || 'us-east-1';
  const custom = input.endpoint || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || conf.endpoint_url;
  const endpoint = custom || `https://s3.${region}.amazonaws.com`;
  try {
    const u = new URL(endpoint);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http or https');
  } catch (err) {
    throw new UsageError(`S3 endpoint '${endpoint}' is not an http(s) URL (${(err as Error).message})`, { endpoint });
  }
  let accessKeyId = env.AWS_ACCESS_KEY_ID, secretAccessKey = env.AWS_SECRET_ACCESS_KEY, sessionToken = env.AWS_SESSION_TOKEN;
  if (!accessKeyId || !secretAccessKey) {
    const from = creds.aws_access_key_id ? creds : conf;
    accessKeyId = from.aws_access_key_id;
    secretAccessKey = from.aws_secret_access_key;
    sessionToken = from.aws_session_token;
  }
  if (!accessKeyId || !secretAccessKey) {
    throw new ToolkitError('S3_NO_CREDENTIALS', `${endpoint}: no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a profile in ${credFile}`,
      { endpoint, profile: profileName });
  }
  // Read only for https: NODE_EXTRA_CA_CERTS (passed on as FOXING_EXTRA_CA_CERTS) is often a
  // whole distribution bundle, and an http endpoint has no use for it. Both add to Node's
  // built-in CAs. A file named by the AWS settings must exist; the one Node's variable names is
  // skipped when missing, as Node does.
  let ca: string | undefined;
  if (endpoint.startsWith('https:')) {
    const pems: string[] = [];
    const named = env.AWS_CA_BUNDLE || conf.ca_bundle;
    if (named) {
      const text = input.readFile(named);
      if (text === null) throw new UsageError(`${named}: the CA bundle named by AWS_CA_BUNDLE (or the profile's ca_bundle) does not exist`, { path: named });
      pems.push(text);
    }
    const extra = env.FOXING_EXTRA_CA_CERTS ? input.readFile(env.FOXING_EXTRA_CA_CERTS) : null;
    if (extra !== null) pems.push(extra);
    if (pems.length > 0) ca = pems.join('\n');
  }
  const retryMs = seconds(env.FOXING_S3_RETRY_SECONDS, DEFAULT_RETRY_S, 'FOXING_S3_RETRY_SECONDS') * 1000;
  return {
    endpoint: endpoint.replace(/\/+$/, ''), region, pathStyle: Boolean(custom),
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    ...(ca ? { ca } : {}),
    retryMs,
    timeoutMs: env.FOXING_S3_TIMEOUT_SECONDS ? seconds(env.FOXING_S3_TIMEOUT_SECONDS, 0, 'FOXING_S3_TIMEOUT_SECONDS') * 1000 : defaultTimeoutMs(retryMs),
    ...(env.FOXING_S3_LEASE_MS ? { leaseMs: seconds(env.FOXING_S3_LEASE_MS, 0, 'FOXING_S3_LEASE_MS') } : {}),
  };
}

function seconds(v: string | undefined, dflt: number, name: string): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name}=${v}: expected a number of seconds`, { [name]: v });
  return n;
}

/** The key = value pairs of one [section] of an INI file (the AWS files' format); {} when absent. */
export function sectionOf(text: string | null, section: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === null) return out;
  let inside = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line[0] === '#' || line[0] === ';') continue;
    const head = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (head) { inside = head[1] === section; continue; }
    if (!inside) continue;
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return out;
}

/** The reader resolveS3Settings takes, on the real file system: a file's text, or null when it is missing or unreadable. */
export function readTextOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
