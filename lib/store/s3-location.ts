/**
 * A store in an S3 bucket (s3://BUCKET/PREFIX) as a StoreLocation: packs and snapshot records
 * are objects (s3-storage.ts), the config is the object PREFIX/config, locks are objects with
 * leases (s3-lock.ts), and the index is a local cache in $XDG_CACHE_HOME/foxing/STORE-ID/
 * (~/.cache when unset): each host that uses the store keeps its own, checked against the
 * bucket's pack list at every open (Store.open) and rebuilt from pack trailers when missing.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { preloadZstd } from '../codec/codec.js';
import { FormatError, NotFoundError } from '../errors/index.js';
import { lmdb } from '../index/load-lmdb.js';
import { S3StoreLock } from './s3-lock.js';
import type { S3Settings } from './s3-client.js';
import { S3Storage } from './s3-storage.js';
import { newStoreConfig, upgradeConfigText } from './store-config.js';
import { CONFIG_FILE, DIRS } from './store-layout.js';
import type { RemoteLockRequest, RemoteStore, StoreLocation } from './store-location.js';

/** How old a temporary object or unfinished upload must be before gc removes it (a live writer's are minutes old at most). */
const TEMPORARY_MAX_AGE_MS = 24 * 3600_000;

export async function s3Location(bucket: string, prefix: string, settings: S3Settings, env: Readonly<Record<string, string | undefined>>,
  opts: { createBucket?: boolean; lock?: RemoteLockRequest } = {}): Promise<StoreLocation> {
  const storage = new S3Storage(bucket, prefix, settings);
  const name = `s3://${bucket}${prefix ? '/' + prefix : ''}`;
  // 409 BucketAlreadyOwnedByYou: it exists, which is what was asked.
  if (opts.createBucket) await storage.client.send({ method: 'PUT', bucket, accept: [409] });
  const configKey = storage.key(CONFIG_FILE);
  // Store.open lists packs and snapshot records next: asked for now, side by side with the config.
  storage.listAhead();
  // The lock's PUT and listing need nothing the config says: asked for beside it, they cost one
  // round trip less. remote.lock hands it over; a location without a config (no store: an archive
  // object of that name, a typo) gives it back (open-store.ts).
  let early = opts.lock ? S3StoreLock.acquire(storage, opts.lock) : null;
  early?.catch(() => {});
  const configAnswer = storage.client.send({ method: 'GET', bucket, key: configKey, accept: [404] });
  configAnswer.catch(() => {});
  let configText: string | null = null;
  let fresh: ReturnType<typeof newStoreConfig> | null = null;
  let root: string;
  try {
    await preloadWhileWaiting();
    const res = await configAnswer;
    if (res.status === 404) {
      if (/<Code>NoSuchBucket<\/Code>/.test(res.body.toString('utf8'))) {
        throw new NotFoundError(`s3://${bucket}: no such bucket at ${settings.endpoint} (create it, or run 'fxcp store init ${name} --create-bucket')`, { path: name, bucket }, 'NO_BUCKET');
      }
    } else {
      configText = res.body.toString('utf8');
    }
    // The id names the cache: from the config, or from the config about to be created.
    fresh = configText === null ? newStoreConfig() : null;
    let id = fresh?.id;
    if (configText !== null) {
      try { id = String((JSON.parse(configText) as { id?: unknown }).id); } catch { id = undefined; }
      if (!id || !/^[0-9a-f]{8,64}$/.test(id)) throw new FormatError(`${name}/${CONFIG_FILE}: not a foxing store (config is not a foxing config)`, { path: name }, 'NOT_A_STORE');
    }
    const cacheHome = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
    root = join(cacheHome, 'foxing', id!);
    mkdirSync(root, { recursive: true });
  } catch (err) {
    await early?.then((l) => l.release(), () => {});
    throw err;
  }
  const remote: RemoteStore = {
    name,
    configText,
    freshConfig: fresh,
    async createConfig(text) {
      const put = await storage.client.send({ method: 'PUT', bucket, key: configKey, headers: { 'if-none-match': '*' }, body: Buffer.from(text), accept: [412] });
      return put.status !== 412;
    },
    async missingStore() {
      for await (const o of storage.listKeys('')) {
        const rest = o.key.slice(storage.key('').length);
        if (!rest.startsWith(`${DIRS.locks}/`) && !rest.startsWith(`${DIRS.tmp}/`)) {
          return new FormatError(`${name}: not a foxing store (no config object, and the prefix holds ${o.key})`, { path: name }, 'NOT_A_STORE');
        }
      }
      return new NotFoundError(`${name}: no such store`, { path: name }, 'NO_STORE');
    },
    lock(request) {
      const lock = early ?? S3StoreLock.acquire(storage, request);
      early = null;
      return lock;
    },
    async upgradeConfig(to) {
      // Read again under the caller's exclusive lock: the text read at open may be stale.
      const res = await storage.client.send({ method: 'GET', bucket, key: configKey });
      const u = upgradeConfigText(res.body.toString('utf8'), `${name}/${CONFIG_FILE}`, to);
      if (u.text !== null) await storage.client.send({ method: 'PUT', bucket, key: configKey, body: Buffer.from(u.text) });
      return { from: u.from, to: u.to, changed: u.text !== null };
    },
    cleanTemporaries: () => storage.cleanTemporaries(TEMPORARY_MAX_AGE_MS),
    async removeIfUnused() {
      for (const kind of ['pack', 'snapshot'] as const) for await (const _ of storage.list(kind)) return;
      await storage.client.send({ method: 'DELETE', bucket, key: configKey, accept: [404] });
    },
  };
  return { root, storage, indexDir: join(root, DIRS.index), remote };
}

/**
 * Loads what opening the index and reading chunks need (lmdb, zstd: 20-40 ms on a loaded 2-core
 * machine) while the first answers from the bucket are on their way, instead of after them.
 * Two turns of the event loop first: the requests are then on the wire (a connection on the
 * loopback completes in the first, its requests are written with it).
 */
async function preloadWhileWaiting(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
  lmdb();
  preloadZstd();
}
