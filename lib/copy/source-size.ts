/**
 * The bytes of regular files under a copy's sources, for the space pre-flight (commands/copy.ts
 * checkSpace): the second bound, asked for when the sources' file systems hold more than the
 * destination has free (any disk over about half full).
 *
 * With the addon, one call for each source tree (native/src/tree_bytes.cc, on the thread pool:
 * getdents64, and fstatat only for regular files); on the bench's series set (1,470
 * directories) that cost about half the CPU of the walk below, which is the fallback: one scan
 * per directory (lib/fs/scan-dir.ts), nothing per entry but a type and a size read. The
 * progress bar's walk (snapshot/scan-totals.ts) runs beside a copy and must not hold the main
 * thread, so it goes through the thread pool a call per entry; that walk cost the `mixed` set
 * 0.4-0.5 s of CPU, ~2.5x the fallback's.
 *
 * Limits: what cannot be listed is not counted (the copy reports it); filters are not applied
 * and hard links count once per name, so the figure is a bound, never below what is written
 * except where a file grows meanwhile. Memory: the subdirectories not yet scanned (depth
 * first: about one listing's worth per level of the current path).
 */
import { lstatSync } from 'node:fs';
import { abortedError, abortPoint, throwIfAborted } from '../errors/index.js';
import { joinPath, newScanWalk, scanDir } from '../fs/index.js';
import { native } from '../native/load.js';
import type { CopyPlan } from './copy-paths.js';

export async function sourceBytes(plan: CopyPlan, signal?: AbortSignal, useNative = true): Promise<number> {
  let bytes = 0;
  for (const t of plan.transfers) {
    if (!t.isDir) {
      const st = lstatSync(t.source, { throwIfNoEntry: false });
      if (st?.isFile()) bytes += st.size;
      continue;
    }
    bytes += native && useNative ? await nativeTreeBytes(t.source, signal) : await treeBytes(t.source, signal);
  }
  return bytes;
}

/** The addon's count of `root`, stopped (AbortedError) when `signal` fires. */
async function nativeTreeBytes(root: Buffer, signal?: AbortSignal): Promise<number> {
  throwIfAborted(signal);
  const stop = new Int32Array(1);
  const onAbort = () => { stop[0] = 1; };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const n = await native!.treeBytesAsync(root, stop);
    if (n < 0) throw abortedError();
    return n;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** The same, one scan per directory (without the addon). */
async function treeBytes(root: Buffer, signal?: AbortSignal): Promise<number> {
  let bytes = 0;
  const walk = newScanWalk();
  const stack: Buffer[] = [root];
  while (stack.length > 0) {
    const turn = abortPoint(signal);
    if (turn) await turn;
    let scan;
    try {
      scan = scanDir(stack.pop()!, false, walk);
    } catch {
      continue;
    }
    const from = stack.length;
    for (let i = 0; i < scan.count; i++) {
      const type = scan.type(i);
      if (type === 'file') bytes += scan.rawSize(i);
      else if (type === 'dir') stack.push(joinPath(scan.dir, scan.name(i)));
    }
    // The first name on top: the walk goes in name order, as the addon's scan-ahead does.
    for (let a = from, b = stack.length - 1; a < b; a++, b--) [stack[a], stack[b]] = [stack[b], stack[a]];
  }
  return bytes;
}
