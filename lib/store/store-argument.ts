/**
 * The one place a STORE argument becomes a StoreLocation: a local directory, or a location a
 * scheme names (s3://BUCKET/PREFIX). A new kind of store (ssh://HOST/PATH) registers its scheme
 * here, and every command that takes a STORE takes it. A scheme's code is loaded only when an
 * argument names it, so commands on local stores do not load it.
 */
import { resolve } from 'node:path';
import type { Warn } from '../errors/index.js';
import { directoryLocation, type RemoteLockRequest, type StoreLocation } from './store-location.js';

export interface LocationOptions {
  /** false: a directory store's packs go through the page cache (FOXING_DIRECT_PACKS=0). */
  directPacks?: boolean;
  /** The environment S3 settings are read from (AWS_*, XDG_CACHE_HOME); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** --s3-endpoint: overrides AWS_ENDPOINT_URL and the profile's endpoint_url. */
  s3Endpoint?: string;
  /** Create an s3:// store's bucket when it does not exist. */
  createBucket?: boolean;
  /** Notes of an ssh:// store's connection (the ssh client's, the server's stderr). */
  onWarn?: Warn;
  /**
   * The lock the command will take (RemoteStore.lock): an s3:// store asks for it beside its
   * config, as its PUT and listing need nothing the config says.
   */
  lock?: RemoteLockRequest;
}

interface Scheme {
  prefix: string;
  open(arg: string, opts: LocationOptions): Promise<StoreLocation>;
}

const SCHEMES: readonly Scheme[] = [
  {
    prefix: 's3://',
    async open(arg, opts) {
      const [{ parseS3Url, readTextOrNull, resolveS3Settings }, { s3Location }] = await Promise.all([import('./s3-settings.js'), import('./s3-location.js')]);
      const { bucket, prefix } = parseS3Url(arg);
      const env = opts.env ?? process.env;
      const settings = resolveS3Settings({ env, endpoint: opts.s3Endpoint, readFile: readTextOrNull });
      return s3Location(bucket, prefix, settings, env, { createBucket: opts.createBucket, lock: opts.lock });
    },
  },
  {
    prefix: 'ssh://',
    async open(arg, opts) {
      const { sshLocation } = await import('../transport/ssh-location.js');
      return sshLocation(arg, { env: opts.env, onWarn: opts.onWarn });
    },
  },
];

/** Whether `arg` names a store by a scheme (a remote store) rather than a directory. */
export function isSchemeStore(arg: string): boolean {
  return SCHEMES.some((s) => arg.startsWith(s.prefix));
}

export async function storeLocation(arg: string, opts: LocationOptions = {}): Promise<StoreLocation> {
  const scheme = SCHEMES.find((s) => arg.startsWith(s.prefix));
  if (scheme) return scheme.open(arg, opts);
  return directoryLocation(resolve(arg), { directPacks: opts.directPacks });
}
