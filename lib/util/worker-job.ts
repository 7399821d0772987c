/**
 * The worker side of worker-pool.ts: registers a job handler that receives `emit` for partial
 * results. `emit` resolves once the main thread has caught up to within `window` parts, which
 * bounds memory per job.
 */
import { parentPort, type TransferListItem } from 'node:worker_threads';
import { errorToJSON } from '../errors/index.js';
import { closeExitGate } from './exit-gate.js';

/**
 * Sends a part. Resolves once the main thread is within `window` parts; `onHandled`, if given,
 * runs when the main thread has handled this part (its acknowledgement arrived), even after
 * the job itself has finished.
 */
const FATAL = Symbol('fatal');

/**
 * Marks `err` as a failure of the worker, not of the job it was running (a store that cannot be
 * written): every later job fails the same way, so the caller stops at the first one
 * (workerReport(err).fatal, worker-pool.ts) instead of reporting each job's input as the problem.
 */
export function workerFailure<T>(err: T): T {
  if (err !== null && typeof err === 'object' && !(FATAL in err)) Object.defineProperty(err, FATAL, { value: true });
  return err;
}

/** Whether `err` was marked by workerFailure. */
export function isWorkerFailure(err: unknown): boolean {
  return err !== null && typeof err === 'object' && FATAL in err;
}

export type Emit = (part: unknown, transfer?: TransferListItem[], onHandled?: () => void) => Promise<void>;

interface JobState {
  unacked: number;
  wake: (() => void) | null;
  cancelled: boolean;
  /** One entry per part not yet acknowledged, in order (acks arrive in emission order). */
  onAck: Array<(() => void) | undefined>;
  finished: boolean;
}

/** Resolves when the main thread has handled every part emitted so far. */
export type Settled = () => Promise<void>;

/**
 * `onArrive`, if given, sees each job as its message arrives, before the jobs queued ahead of it
 * have run (a chunk worker starts reading the files of its next batch: chunk-worker.ts).
 */
export function serveJobs(handler: (job: any, emit: Emit, settled: Settled) => Promise<{ result: unknown; transfer?: TransferListItem[] }>, window = 2,
  onArrive?: (job: any) => void): void {
  const port = parentPort;
  if (!port) throw new Error('serveJobs must run in a worker thread');
  const jobs = new Map<number, JobState>();
  let chain = Promise.resolve();
  port.on('message', (m: { id: number; job?: unknown; ack?: boolean; cancel?: boolean; end?: boolean }) => {
    if (m.end) {
      // Asked to end (live-workers.ts): here, between two tasks, no native call is running;
      // once the xz calls in flight are done, this worker exits, whatever its jobs were doing.
      void closeExitGate().then(() => process.exit(0));
      return;
    }
    const st = jobs.get(m.id);
    if (m.ack || m.cancel) {
      if (!st) return;
      if (m.cancel) st.cancelled = true;
      st.unacked--;
      const handled = st.onAck.shift();
      if (!m.cancel) handled?.();
      st.wake?.();
      st.wake = null;
      if (st.finished && st.unacked <= 0) jobs.delete(m.id);
      return;
    }
    onArrive?.(m.job);
    // Jobs run one at a time per worker, in arrival order.
    chain = chain.then(async () => {
      const state: JobState = { unacked: 0, wake: null, cancelled: false, onAck: [], finished: false };
      jobs.set(m.id, state);
      const emit: Emit = async (part, transfer = [], onHandled) => {
        if (state.cancelled) throw new Error('cancelled');
        state.unacked++;
        state.onAck.push(onHandled);
        port.postMessage({ id: m.id, part }, transfer);
        while (state.unacked > window && !state.cancelled) await new Promise<void>((r) => { state.wake = r; });
      };
      const settled: Settled = async () => {
        while (state.unacked > 0 && !state.cancelled) await new Promise<void>((r) => { state.wake = r; });
        if (state.cancelled) throw new Error('cancelled');
      };
      try {
        const { result, transfer } = await handler(m.job, emit, settled);
        port.postMessage({ id: m.id, done: result }, transfer ?? []);
      } catch (err) {
        // Every worker's errors go the same way: as JSON, rebuilt by the pool (worker-pool.ts).
        const fatal = isWorkerFailure(err);
        port.postMessage({ id: m.id, error: errorToJSON(err), fatal });
      } finally {
        // Kept until the last acknowledgement, which may still run an onHandled.
        state.finished = true;
        if (state.unacked <= 0 || state.cancelled) jobs.delete(m.id);
      }
    });
  });
}
