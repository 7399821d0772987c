/**
 * A fixed pool of worker threads running one script. A job may stream partial results back
 * ("parts"); the caller handles each part and the pool acknowledges it, and the worker waits
 * for acknowledgements when more than a few parts are unhandled. So a 10 GB file never piles up
 * in memory: memory is bounded by workers × window × part size, whatever the input.
 *
 * Protocol (structured clone; large byte arrays are transferred, not copied):
 *   main → worker  { id, job }        start a job
 *   main → worker  { id, ack: true }  one part was handled
 *   worker → main  { id, part }       a partial result
 *   worker → main  { id, done }       the final result
 *   worker → main  { id, error, fatal } the job failed: the error's toJSON() form (errorToJSON);
 *                                    `fatal`: the worker itself failed (worker-job.ts workerFailure)
 *
 * A failed job rejects with the error the worker threw, rebuilt here and nowhere else
 * (errorFromJSON: its class, code, message and data); workerReport() tells it from other errors.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import type { ResourceLimits, TransferListItem, Worker } from 'node:worker_threads';
import { errorFromJSON } from '../errors/index.js';
import { endWorker, trackWorker } from './live-workers.js';
import { type WorkerEntry, workerEntry, type WorkerScript } from './worker-bundles.js';

interface Pending {
  onPart: (part: unknown) => void | Promise<void>;
  /** Parts of one job are handled strictly in order, and the job ends after its last part. */
  chain: Promise<void>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  worker: PoolWorker;
}

interface PoolWorker { worker: Worker; load: number }

interface JobMessage { id: number; part?: unknown; done?: unknown; error?: Record<string, unknown>; fatal?: boolean }

/** Data of one worker of a pool, and what is transferred with it. */
export type PerWorkerData = () => { data: unknown; transfer: TransferListItem[] };

/** How a worker's job failed: `fatal` when the worker itself failed (worker-job.ts workerFailure), not just this job. */
export interface WorkerReport { fatal: boolean }

const REPORT = Symbol('worker report');

/**
 * The report of a job failure a worker sent, for an error a job was rejected with; undefined
 * for any other error (the pool's own failure, a part handler's, the caller's).
 */
export function workerReport(err: unknown): WorkerReport | undefined {
  return err !== null && typeof err === 'object' ? (err as { [REPORT]?: WorkerReport })[REPORT] : undefined;
}

/** The error a worker sent, rebuilt (the pool's one conversion back from JSON). */
function reportedError(m: JobMessage): Error {
  const err = errorFromJSON(m.error!);
  Object.defineProperty(err, REPORT, { value: { fatal: m.fatal === true } satisfies WorkerReport });
  return err;
}

export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly waiting: Array<() => void> = [];
  private nextId = 1;
  private failure: unknown = null;

  /** `perWorker` jobs may be queued on one worker so it never idles between messages. */
  /** `script` is a worker script (worker-bundles.ts), e.g. 'store/chunk-worker.js': its bundle, or its compiled module under build/lib. */
  /**
   * `workerData`: what every worker receives, or a function giving each its own and what to
   * transfer with it (a MessagePort cannot be shared: port-storage.ts). `resourceLimits`: each
   * worker's heap limits (CHUNK_WORKER_LIMITS). `start`: workers started now, when fewer than
   * `max`; `grow` starts the others.
   */
  constructor(script: WorkerScript, private readonly workerData: unknown | PerWorkerData, private readonly max = defaultPoolSize(), private readonly perWorker = 32,
    private readonly resourceLimits?: ResourceLimits, start = max) {
    this.entry = workerEntry(script);
    for (let i = 0; i < Math.min(start, max); i++) this.spawn();
  }

  private readonly entry: WorkerEntry;

  /** Starts one more worker, up to the pool's size; false when it has them all (grow on demand: `start`). */
  grow(): boolean {
    if (this.workers.length >= this.max || this.closing || this.failure) return false;
    this.spawn();
    return true;
  }

  private spawn(): void {
    // node:worker_threads loads with the first pool, not at start-up: many runs never make one.
    const { Worker } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
    const own = typeof this.workerData === 'function' ? (this.workerData as PerWorkerData)() : { data: this.workerData, transfer: [] };
    const worker = new Worker(this.entry.path, { argv: this.entry.argv, workerData: own.data, transferList: own.transfer, resourceLimits: this.resourceLimits });
    trackWorker(worker);
    const pw: PoolWorker = { worker, load: 0 };
    worker.on('message', (m: JobMessage) => this.onMessage(pw, m));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => { if (code !== 0 && !this.closing) this.fail(new Error(`worker exited with code ${code}`)); });
    this.workers.push(pw);
  }

  private closing = false;
  get size(): number { return this.workers.length; }

  private fail(err: unknown): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const w of this.waiting.splice(0)) w();
  }

  private onMessage(pw: PoolWorker, m: JobMessage): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.part !== undefined) {
      p.chain = p.chain
        .then(() => p.onPart(m.part))
        .then(() => pw.worker.postMessage({ id: m.id, ack: true }), (err) => {
          pw.worker.postMessage({ id: m.id, cancel: true });
          throw err;
        });
      // The job's end (or the pool's failure) reports a failed part; until then the rejection
      // is held here, never unhandled (that ended the process with a stack trace).
      p.chain.catch(() => {});
      return;
    }
    p.chain.then(() => {
      this.finish(m.id, pw);
      if (m.error) p.reject(reportedError(m));
      else p.resolve(m.done);
    }, (err) => {
      this.finish(m.id, pw);
      p.reject(err);
    });
  }

  private finish(id: number, pw: PoolWorker): void {
    if (!this.pending.delete(id)) return;
    pw.load--;
    this.waiting.shift()?.();
  }

  /** Runs a job on the least loaded worker; parts are handled in order by onPart. */
  async run<T>(job: unknown, transfer: TransferListItem[] = [], onPart: (part: any) => void | Promise<void> = () => {}): Promise<T> {
    for (;;) {
      if (this.failure) throw this.failure;
      const pw = this.workers.reduce((a, b) => (b.load < a.load ? b : a));
      if (pw.load < this.perWorker) {
        pw.load++;
        const id = this.nextId++;
        return new Promise<T>((resolve, reject) => {
          this.pending.set(id, { onPart, chain: Promise.resolve(), resolve: resolve as (v: unknown) => void, reject, worker: pw });
          pw.worker.postMessage({ id, job }, transfer);
        });
      }
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }

  /** Runs `job` once on every worker (after the jobs already queued there); results in worker order. */
  async runOnEach<T>(job: unknown): Promise<T[]> {
    if (this.failure) throw this.failure;
    return Promise.all(this.workers.map((pw) => {
      pw.load++;
      const id = this.nextId++;
      return new Promise<T>((resolve, reject) => {
        this.pending.set(id, { onPart: () => {}, chain: Promise.resolve(), resolve: resolve as (v: unknown) => void, reject, worker: pw });
        pw.worker.postMessage({ id, job });
      });
    }));
  }

  /** Ends the workers, each at a safe point (live-workers.ts), not by terminating them mid-call. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => endWorker(w.worker)));
  }
}

/**
 * The heap limits of the chunk workers (snapshots, tar import), the restore workers and the
 * export's recode workers. Their
 * objects live for one block or one file, so a small young generation costs no measurable CPU;
 * V8's default let each grow to 16 MiB, resident, and a first snapshot of the real set (issue 25)
 * peaked 25 MiB higher.
 */
export const CHUNK_WORKER_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 4 };

/** `workers` when it is a positive integer (the CLI's FOXING_WORKERS, lib/cli/run-options.ts), else one per core. */
export function defaultPoolSize(workers?: number): number {
  return workers !== undefined && Number.isInteger(workers) && workers > 0 ? workers : Math.max(1, availableParallelism());
}
