/**
 * A mirror's outage journal: while its target is away (unmounted, removed, full), the paths
 * that change under the source are appended to a file in the daemon's state directory instead
 * of being held in memory, so an outage of any length costs disk, not memory, and the return
 * starts with exactly those paths (live-sync.ts replays them, then compares the whole target,
 * which makes it exact whatever the journal missed).
 *
 * Records are source-relative paths, each ended by a NUL (a name may hold any other byte); a
 * lost event while away is the one record "everything" (a lone NUL), after which nothing more
 * is written: the comparison that follows the return covers it all. Writes are not synced:
 * after a crash the next start compares the whole target anyway, and then removes the journal.
 *
 * The state directory: $STATE_DIRECTORY (systemd's StateDirectory=), else /var/lib/foxingd as
 * root, else $XDG_STATE_HOME/foxingd (~/.local/state/foxingd).
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const PIECE = 1 << 20;

export function defaultStateDir(): string {
  const systemd = process.env.STATE_DIRECTORY?.split(':')[0];
  if (systemd) return systemd;
  if (process.getuid?.() === 0) return '/var/lib/foxingd';
  return join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'foxingd');
}

/** The journal of the mirror `src` -> `dest`: one file per pair, named by a hash of both. */
export function journalPath(src: Buffer, dest: Buffer, stateDir = defaultStateDir()): string {
  const h = createHash('sha256').update(src).update('\0').update(dest).digest('hex').slice(0, 32);
  return join(stateDir, `outage-${h}.journal`);
}

export class OutageJournal {
  private fd: number | null = null;
  private everything = false;
  /** Records appended since it was opened. */
  count = 0;

  constructor(readonly path: string) {}

  /** Appends a changed path (relative to the source); `null`: everything may have changed. */
  append(rel: Buffer | null): void {
    if (this.everything) return;
    if (this.fd === null) {
      mkdirSync(join(this.path, '..'), { recursive: true });
      this.fd = openSync(this.path, 'a', 0o600);
    }
    if (rel === null) this.everything = true;
    writeSync(this.fd, rel === null ? Buffer.from([0]) : Buffer.concat([rel, Buffer.from([0])]));
    this.count++;
  }

  /**
   * The journal's paths, in batches of at most `batch`, each path once per batch, read in
   * pieces (memory stays bounded by the batch); null ends it early: everything changed.
   */
  *read(batch = 4096): Generator<Buffer[] | null> {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return;  // nothing was journaled
    }
    try {
      const buf = Buffer.allocUnsafe(PIECE);
      let rest = Buffer.alloc(0);
      let paths = new Map<string, Buffer>();
      for (;;) {
        const n = readSync(fd, buf, 0, PIECE, null);
        const data = Buffer.concat([rest, buf.subarray(0, n)]);
        let at = 0;
        for (let end = data.indexOf(0, at); end >= 0; at = end + 1, end = data.indexOf(0, at)) {
          if (end === at) { yield null; return; }
          const rel = Buffer.from(data.subarray(at, end));
          paths.set(rel.toString('latin1'), rel);
          if (paths.size >= batch) { yield [...paths.values()]; paths = new Map(); }
        }
        rest = Buffer.from(data.subarray(at));
        if (n === 0) break;
      }
      if (paths.size > 0) yield [...paths.values()];
    } finally {
      closeSync(fd);
    }
  }

  /** Closes and deletes the journal (after the comparison that follows its replay, or a hydration). */
  remove(): void {
    if (this.fd !== null) { closeSync(this.fd); this.fd = null; }
    rmSync(this.path, { force: true });
    this.count = 0;
    this.everything = false;
  }
}
