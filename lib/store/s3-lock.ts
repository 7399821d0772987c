/**
 * Store locks as objects in PREFIX/locks/, for stores that several hosts reach: the same
 * protocol as the lock files of store-lock.ts (create ours, then look at the others; a
 * conflicting live lock means remove ours and fail or wait), with a lease in place of the pid.
 * A pid means nothing to another machine, so each lock object says until when it holds
 * (`expires`), and its holder writes it again every LEASE_MS / 3. A lock whose lease ran out
 * is stale (its holder died or lost the bucket): it is deleted with a warning.
 *
 * Ours is created with `If-None-Match: *` (create-if-absent, atomic on radosgw and AWS): a name
 * that exists already is never overwritten. Listing after the PUT sees it (S3 lists are
 * strongly consistent), so two exclusive lockers cannot both win; both may back off, and the
 * wait (--lock-wait) retries with jitter.
 *
 * Limits: hosts' clocks must agree within the lease's margin (LEASE_MS - the refresh period);
 * a holder cut off from the bucket for longer than its lease loses its lock silently, and
 * finds out at its next request that fails (or, for a writer, never: its packs stay valid, and
 * only prune/gc could run meanwhile, which is why the lease is generous).
 */
import { hostname } from 'node:os';
import { LockedError, throwIfAborted, type Warn } from '../errors/index.js';
import { randomTag } from '../util/random-tag.js';
import type { S3Storage } from './s3-storage.js';
import { DIRS } from './store-layout.js';

/** How long a lock holds without being written again, unless the settings say (FOXING_S3_LEASE_MS). */
export const LEASE_MS = 90_000;

export interface S3LockInfo {
  host: string;
  pid: number;
  command: string;
  exclusive: boolean;
  time: string;
  /** Until when the lock holds unless written again (ISO time). */
  expires: string;
}

export class S3StoreLock {
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<unknown> = Promise.resolve();

  private constructor(private readonly storage: S3Storage, private readonly key: string, readonly info: S3LockInfo, private readonly leaseMs: number) {}

  static async acquire(storage: S3Storage, opts: { exclusive: boolean; command: string; waitMs?: number; signal?: AbortSignal; onWarn?: Warn }): Promise<S3StoreLock> {
    const name = `${opts.exclusive ? 'exclusive' : 'shared'}-${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-${process.pid}-${randomTag()}.lock`;
    const key = storage.key(`${DIRS.locks}/${name}`);
    const deadline = Date.now() + (opts.waitMs ?? 0);
    const where = storage.key('').replace(/\/$/, '');
    const leaseMs = storage.settings.leaseMs || LEASE_MS;
    for (;;) {
      const info = lockInfo(opts.exclusive, opts.command, leaseMs);
      await storage.client.send({ method: 'PUT', bucket: storage.bucket, key, headers: { 'if-none-match': '*', 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(info)), accept: [412] });
      // 412: the name exists (a retried PUT whose first attempt landed): it is ours all the same.
      const holder = await conflicting(storage, key, opts.exclusive, opts.onWarn);
      if (!holder) {
        const lock = new S3StoreLock(storage, key, info, leaseMs);
        lock.startRefresh();
        return lock;
      }
      await storage.client.send({ method: 'DELETE', bucket: storage.bucket, key, accept: [404] });
      if (Date.now() >= deadline) {
        throw new LockedError(`s3://${storage.bucket}/${where}: store is locked ${holder.exclusive ? 'exclusively' : 'shared'} by pid ${holder.pid} on ${holder.host} (${holder.command}, since ${holder.time}, lease until ${holder.expires})`,
          { path: `s3://${storage.bucket}/${where}`, holder });
      }
      throwIfAborted(opts.signal);
      await new Promise<void>((r) => {
        const done = () => { clearTimeout(timer); opts.signal?.removeEventListener('abort', done); r(); };
        const timer = setTimeout(done, 200 + Math.random() * 300);
        opts.signal?.addEventListener('abort', done, { once: true });
      });
      throwIfAborted(opts.signal);
    }
  }

  /** Writes the lock again every third of its lease (the timer does not keep the process alive). */
  private startRefresh(): void {
    this.timer = setInterval(() => {
      const info = { ...this.info, expires: new Date(Date.now() + this.leaseMs).toISOString() };
      this.refreshing = this.storage.client.send({ method: 'PUT', bucket: this.storage.bucket, key: this.key, body: Buffer.from(JSON.stringify(info)) }).catch(() => {});
    }, this.leaseMs / 3);
    this.timer.unref();
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.refreshing;
    await this.storage.client.send({ method: 'DELETE', bucket: this.storage.bucket, key: this.key, accept: [404] }).catch(() => {});
  }
}

function lockInfo(exclusive: boolean, command: string, leaseMs: number): S3LockInfo {
  const now = Date.now();
  return { host: hostname(), pid: process.pid, command, exclusive, time: new Date(now).toISOString(), expires: new Date(now + leaseMs).toISOString() };
}

/**
 * A lock object's JSON, as another host (or anything with write access to the bucket) wrote
 * it: null unless every field has its type and `expires` is a time, so that a message never
 * prints what is not a host, pid or command, and a lease is never judged from a non-time.
 */
export function parseLockInfo(bytes: Uint8Array): S3LockInfo | null {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const text = (x: unknown) => typeof x === 'string' && x.length <= 1024;
  if (!text(o.host) || !text(o.command) || !text(o.time) || !text(o.expires) || typeof o.exclusive !== 'boolean' || !Number.isSafeInteger(o.pid)) return null;
  if (Number.isNaN(Date.parse(o.expires as string))) return null;
  return { host: o.host as string, pid: o.pid as number, command: o.command as string, exclusive: o.exclusive, time: o.time as string, expires: o.expires as string };
}

/** A live lock that conflicts with ours, deleting expired ones on the way. */
async function conflicting(storage: S3Storage, ours: string, exclusive: boolean, onWarn?: Warn): Promise<S3LockInfo | null> {
  // A shared lock conflicts only with exclusive ones: listed alone (names start with the kind),
  // a store many hosts write into lists none of their shared locks.
  for await (const o of storage.listKeys(`${DIRS.locks}/${exclusive ? '' : 'exclusive'}`)) {
    if (o.key === ours || !o.key.endsWith('.lock')) continue;
    const isExclusive = o.key.slice(o.key.lastIndexOf('/') + 1).startsWith('exclusive');
    if (!exclusive && !isExclusive) continue;
    const res = await storage.client.send({ method: 'GET', bucket: storage.bucket, key: o.key, accept: [404] });
    if (res.status === 404) continue;
    const info = parseLockInfo(res.body);
    // Not a lock we can read: held, as an unreadable lock file is (it is never broken silently).
    if (!info) return { host: '?', pid: 0, command: `unreadable lock ${o.key}`, exclusive: true, time: '?', expires: '?' };
    if (Date.parse(info.expires) < Date.now()) {
      await storage.client.send({ method: 'DELETE', bucket: storage.bucket, key: o.key, accept: [404] });
      onWarn?.('STALE_LOCK', `removed stale lock s3://${storage.bucket}/${o.key} of pid ${info.pid} on ${info.host} (${info.command}, since ${info.time}; its lease ran out at ${info.expires})`, { lock: o.key });
      continue;
    }
    return info;
  }
  return null;
}
