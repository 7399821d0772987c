/**
 * The pre-scan of a snapshot's source, for the progress bar's total: how many regular files and
 * bytes the snapshot will count (archiver.ts counts every file's size, read or unchanged, with
 * the same exclusions), found by a stat-only walk that runs beside the snapshot.
 *
 * Why parallel: one awaited lstat at a time leaves the disk and the thread pool idle between
 * calls, and the total came too late to help (often after the snapshot itself). Here up to
 * `concurrency` readdir/lstat calls are in flight at once. They are asynchronous on purpose:
 * the main thread drives the snapshot, so the pre-scan must not hold it the way the native
 * scanDir would; and the bound keeps it from crowding the snapshot's own I/O off the pool.
 *
 * Memory: a stack of the directories and files seen but not yet stat'ed. Depth first, so it
 * holds about one directory listing per level of the current path, never the whole tree.
 *
 * It never fails: what cannot be read is not counted (the snapshot reports it). It stops when
 * `signal` aborts, and then gives null: a partial count must not pass for a total.
 * Limits: files that change while both run make the total approximate (the bar caps at 100%);
 * hard links count once per name, as the snapshot counts them.
 */
import { type Dirent, promises as fsp } from 'node:fs';
import type { ExcludeTest } from '../filter/exclude-rules.js';
import { joinPath, toBuffer } from '../fs/index.js';

export interface SourceTotals { files: number; bytes: number }

export interface ScanTotalsOptions {
  exclude?: ExcludeTest;
  signal?: AbortSignal;
  /** A directory not to enter (the store, when it lies inside the source: the snapshot skips it too). */
  skip?: string;
  /** Calls in flight at once (default 8: twice libuv's default pool of 4 threads). */
  concurrency?: number;
}

/** 'dir' and 'file' come from readdir's entry types; 'unknown' (a file system that gives none) needs an lstat first. */
interface Job { path: Buffer; rel: string; kind: 'dir' | 'file' | 'unknown' }

export function scanTotals(root: string, opts: ScanTotalsOptions = {}): Promise<SourceTotals | null> {
  const totals: SourceTotals = { files: 0, bytes: 0 };
  const limit = Math.max(1, opts.concurrency ?? 8);
  const skip = opts.skip === undefined ? null : toBuffer(opts.skip);
  const stack: Job[] = [];
  let active = 0;

  const listed = (job: Job, entries: Array<Dirent<Buffer>>) => {
    for (const d of entries) {
      const path = joinPath(job.path, d.name);
      const rel = job.rel ? `${job.rel}/${d.name.toString('utf8')}` : d.name.toString('utf8');
      if (d.isDirectory()) stack.push({ path, rel, kind: 'dir' });
      else if (d.isFile()) stack.push({ path, rel, kind: 'file' });
      else if (!d.isSymbolicLink() && !d.isFIFO() && !d.isSocket() && !d.isBlockDevice() && !d.isCharacterDevice()) stack.push({ path, rel, kind: 'unknown' });
    }
  };

  const visit = async (job: Job): Promise<void> => {
    let kind = job.kind;
    let size = 0;
    if (kind !== 'dir') {
      const st = await fsp.lstat(job.path);
      kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'unknown';
      size = st.size;
    }
    if (kind === 'unknown' || opts.exclude?.(job.rel, kind === 'dir')) return;
    if (kind === 'file') {
      totals.files++;
      totals.bytes += size;
    } else if (!(skip && skip.equals(job.path))) {
      listed(job, await fsp.readdir(job.path, { withFileTypes: true, encoding: 'buffer' }));
    }
  };

  return new Promise((resolve) => {
    let settled = false;
    const pump = () => {
      if (settled) return;
      if (opts.signal?.aborted) { settled = true; resolve(null); return; }
      while (active < limit && stack.length > 0) {
        active++;
        visit(stack.pop()!).catch(() => {}).finally(() => { active--; pump(); });
      }
      if (active === 0 && stack.length === 0) { settled = true; resolve(totals); }
    };
    fsp.stat(root).then((st) => {
      if (st.isDirectory()) {
        // The root itself is never excluded (the snapshot always takes it).
        active++;
        const job: Job = { path: toBuffer(root), rel: '', kind: 'dir' };
        fsp.readdir(job.path, { withFileTypes: true, encoding: 'buffer' })
          .then((entries) => listed(job, entries), () => {})
          .finally(() => { active--; pump(); });
      } else {
        if (st.isFile()) { totals.files = 1; totals.bytes = st.size; }
        pump();
      }
    }, () => pump());
  });
}
