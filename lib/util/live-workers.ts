/**
 * The worker threads alive in this process, and how one is ended: by itself, at a safe point.
 *
 * Ending a worker from outside (worker.terminate(), or process.exit, which stops every worker
 * first) tears its Node environment down wherever it is. A native module caught in the middle
 * of a call then cannot enter JavaScript any more, and several of ours turn that into an abort
 * of the whole process (SIGABRT): lzma-native's xz completion callback (exit-gate.ts), lmdb's
 * module initialisation in a worker still starting up. That is how a second Ctrl-C during
 * `snap create --compress xz` died with SIGABRT instead of exiting 130 (issue 18, D8).
 *
 * So a worker is asked to end with a message: it handles it between two tasks of its event
 * loop, that is never inside a native call nor while its modules are still loading, closes
 * its exit gate (waits for the xz calls in flight), and exits (worker-job.ts). Only a worker
 * that has not ended after `maxWaitMs` is terminated. The wait is bounded by the longest
 * synchronous stretch of a job plus one xz step (XZ_STEP input bytes, codec.ts: a tenth to a
 * few tenths of a second).
 */
import type { Worker } from 'node:worker_threads';

/** How long a worker gets to end by itself before it is terminated. */
export const END_WAIT_MS = 5000;
/** The message that asks a worker to end (worker-job.ts). */
export const END_MESSAGE = { end: true } as const;

interface Live { worker: Worker; exited: Promise<void> }

const live = new Map<Worker, Live>();

/** Tracks a worker just created; it leaves the set when it exits. */
export function trackWorker(worker: Worker): void {
  const exited = new Promise<void>((resolve) => worker.once('exit', () => { live.delete(worker); resolve(); }));
  live.set(worker, { worker, exited });
}

/** Asks `worker` to end, and terminates it if it has not after `maxWaitMs`. */
export async function endWorker(worker: Worker, maxWaitMs = END_WAIT_MS): Promise<void> {
  const l = live.get(worker);
  if (!l) return;
  worker.postMessage(END_MESSAGE);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), maxWaitMs); });
  const tooLate = await Promise.race([l.exited.then(() => false), late]);
  clearTimeout(timer);
  if (tooLate) await worker.terminate();
}

/** Ends every live worker (the forced exit does this before process.exit). */
export async function endAllWorkers(maxWaitMs = END_WAIT_MS): Promise<void> {
  await Promise.all([...live.keys()].map((w) => endWorker(w, maxWaitMs)));
}
