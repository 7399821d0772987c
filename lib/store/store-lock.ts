/**
 * Store locks, as lock files in STORE/locks/: writers (snapshot create, import, the daemon)
 * take shared locks, prune/gc take an exclusive one. Taking a lock = create our lock file,
 * then look at the others: a conflicting live lock means back off (remove ours) and fail or
 * wait. A lock whose process is dead (same host, and the pid is gone or now belongs to a
 * process started later) is stale: it is removed with a warning, so a kill -9 never needs a
 * manual unlock. Locks of other hosts are never judged stale by pid (we cannot see them).
 *
 * The file operations are synchronous: a lock is taken at a command's start and dropped at its
 * end, when nothing else is in flight, and a handful of thread-pool round trips cost a small
 * command (restoring one file) about 3 ms of its start-up.
 */
import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LockedError, throwIfAborted, type Warn } from '../errors/index.js';
import { isNoSpace, noSpaceError } from '../fs/free-space.js';
import { DIRS } from './store-layout.js';
import { randomTag } from '../util/random-tag.js';

export interface LockInfo {
  pid: number;
  host: string;
  /** Process start time in clock ticks since boot (/proc/PID/stat field 22), to detect pid reuse. */
  start: number | null;
  command: string;
  exclusive: boolean;
  time: string;
}

function procStart(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return null;
  }
}

/** This process's own start time and host: read once (neither changes while it runs), not at every lock. */
let own: { start: number | null; host: string } | null = null;
function ownInfo(): { start: number | null; host: string } {
  own ??= { start: procStart(process.pid), host: hostname() };
  return own;
}

function isAlive(info: LockInfo): boolean {
  if (info.host !== ownInfo().host) return true;
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = info.pid === process.pid ? ownInfo().start : procStart(info.pid);
  return !(info.start !== null && start !== null && start !== info.start);
}

export class StoreLock {
  private constructor(private readonly file: string, readonly info: LockInfo) {}

  static async acquire(root: string, opts: { exclusive: boolean; command: string; waitMs?: number; signal?: AbortSignal; onWarn?: Warn }): Promise<StoreLock> {
    const dir = join(root, DIRS.locks);
    mkdirSync(dir, { recursive: true });
    const info: LockInfo = {
      pid: process.pid, host: ownInfo().host, start: ownInfo().start, command: opts.command,
      exclusive: opts.exclusive, time: new Date().toISOString(),
    };
    const name = `${opts.exclusive ? 'exclusive' : 'shared'}-${process.pid}-${randomTag()}.lock`;
    const file = join(dir, name);
    const deadline = Date.now() + (opts.waitMs ?? 0);
    for (;;) {
      writeLockFile(root, file, JSON.stringify(info) + '\n');
      const holder = conflicting(dir, name, opts.exclusive, opts.onWarn);
      if (!holder) return new StoreLock(file, info);
      removeLockFile(file);
      if (Date.now() >= deadline) {
        throw new LockedError(
          `${root}: store is locked ${holder.exclusive ? 'exclusively' : 'shared'} by pid ${holder.pid} on ${holder.host} (${holder.command}, since ${holder.time})`,
          { path: root, holder });
      }
      // The wait ends on the first signal: a loop that waits must end on what asks it to stop.
      throwIfAborted(opts.signal);
      await new Promise<void>((r) => {
        const done = () => { clearTimeout(timer); opts.signal?.removeEventListener('abort', done); r(); };
        const timer = setTimeout(done, 200 + Math.random() * 300);
        opts.signal?.addEventListener('abort', done, { once: true });
      });
      throwIfAborted(opts.signal);
    }
  }

  release(): void {
    removeLockFile(this.file);
  }
}

/**
 * Creates our lock file. A write that fails (a full file system) removes what it created: an
 * empty lock file would read as a lock being written and hold exclusive lockers off for ever.
 * A full file system is NO_SPACE naming the store (issue 18, D6).
 */
function writeLockFile(root: string, file: string, text: string): void {
  try {
    writeFileSync(file, text, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') removeLockFile(file);
    throw isNoSpace(err) ? noSpaceError(root, LOCK_FILE_BYTES, err) : err;
  }
}

/** What a lock file takes on disk: one block. */
const LOCK_FILE_BYTES = 4096;

/** unlink, quiet when the file is gone already: rmSync's first call loads Node's rimraf (0.7 ms). */
function removeLockFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Returns a live lock that conflicts with ours, removing stale ones on the way. */
function conflicting(dir: string, ours: string, exclusive: boolean, onWarn?: Warn): LockInfo | null {
  for (const f of readdirSync(dir)) {
    if (f === ours || !f.endsWith('.lock')) continue;
    let info: LockInfo;
    try {
      info = JSON.parse(readFileSync(join(dir, f), 'utf8')) as LockInfo;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      // A lock file being written right now reads empty: treat it as live and conflicting
      // only if one of us is exclusive; it will be readable on the next try.
      if (exclusive || f.startsWith('exclusive')) return { pid: 0, host: '?', start: null, command: 'unknown', exclusive: true, time: '?' };
      continue;
    }
    if (!isAlive(info)) {
      removeLockFile(join(dir, f));
      onWarn?.('STALE_LOCK', `removed stale lock of dead process ${info.pid} on ${info.host} (${info.command}, since ${info.time})`, { lock: f });
      continue;
    }
    if (exclusive || info.exclusive) return info;
  }
  return null;
}
