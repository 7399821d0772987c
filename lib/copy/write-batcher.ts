/**
 * Where each file write of a copy runs: on the main thread, or, for small files once a copy has
 * shown it has many of them, in batches on the copy workers (copy-worker.ts), one message per
 * batch. A tree of small files is bound by per-file system calls (open, create, rename, chown,
 * utimensat), which the workers spread over every core; a large file is one long copy, which
 * gains nothing from crossing a thread, and a small copy does not pay for starting the pool.
 *
 * A batch goes when it is full, or as soon as the main thread waits (setImmediate), so a walk
 * that runs out of free slots never waits on a batch that is waiting for it.
 */
import { errorFromJSON, type Warn } from '../errors/index.js';
import type { CopyDataResult } from '../fs/copy-data.js';
import type { Materializer } from '../fs/materialize.js';
import { defaultPoolSize, WorkerPool } from '../util/worker-pool.js';
import type { CopyWorkerData, WriteFilesJob, WriteOutcome } from './copy-worker.js';
import { type FileWrite, writeFileCopy } from './file-write.js';

/** Files at most this large are batched; larger ones are written on the main thread. */
const SMALL_FILE_BYTES = 256 << 10;
/** Files per batch (one message each way). */
export const BATCH_FILES = 32;
/** The pool starts after this many small files (its workers load their modules meanwhile) ... */
const POOL_START_AFTER = 64;
/** ... and takes the small files from this many on: a copy of fewer never starts it. */
const POOL_USE_AFTER = 256;

interface Queued { w: FileWrite; resolve: (r: CopyDataResult) => void; reject: (e: unknown) => void }

export class WriteBatcher {
  private pool: WorkerPool | null = null;
  private batch: Queued[] = [];
  private scheduled = false;
  private small = 0;

  constructor(private readonly out: Materializer, private readonly root: Buffer, private readonly owner: boolean,
    private readonly onWarn: Warn, private readonly signal?: AbortSignal, private readonly workers?: number) {}

  /** Writes `w` (file-write.ts), here or in a worker. */
  write(w: FileWrite): Promise<CopyDataResult> {
    if (w.inplace || w.meta.size > SMALL_FILE_BYTES) return writeFileCopy(this.out, w, this.onWarn, this.signal);
    this.small++;
    if (this.small === POOL_START_AFTER) this.startPool();
    if (this.small <= POOL_USE_AFTER) return writeFileCopy(this.out, w, this.onWarn, this.signal);
    return new Promise((resolve, reject) => {
      this.batch.push({ w, resolve, reject });
      if (this.batch.length >= BATCH_FILES) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends what is queued, and stops the workers once their batches are done. */
  async close(): Promise<void> {
    this.flush();
    await this.pool?.close();
  }

  private startPool(): WorkerPool {
    const data: CopyWorkerData = { root: new Uint8Array(this.root), owner: this.owner };
    return this.pool ??= new WorkerPool('copy/copy-worker.js', data, defaultPoolSize(this.workers));
  }

  private flush(): void {
    this.scheduled = false;
    const b = this.batch.splice(0);
    if (b.length === 0) return;
    const job: WriteFilesJob = { op: 'write-files', files: b.map((q) => q.w) };
    this.startPool().run<WriteOutcome[]>(job).then((results) => {
      results.forEach((r, i) => {
        for (const [code, message, data] of r.warnings) this.onWarn(code, message, data);
        if ('error' in r) b[i].reject(errorFromJSON(r.error));
        else b[i].resolve({ strategy: r.strategy, bytes: r.bytes, endedEarly: r.endedEarly });
      });
    }, (err: unknown) => { for (const q of b) q.reject(err); });
  }
}
