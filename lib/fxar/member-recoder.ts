/**
 * Bundle members on their way into an archive, which has no bundles: each member leaves
 * compressed on its own. Their bytes are gathered here and compressed in the recode pool a batch
 * at a time (BATCH_MEMBERS or BATCH_BYTES), not one zstd call each on the main thread (16 s of
 * the 61 s of an export of 1,000,000 small files, with the main thread the bound) nor one
 * message each (~15 µs of the main thread a message, import-archive.ts found).
 *
 * A member's result resolves when its batch comes back; a batch is sent once full, or when the
 * exporter is about to write one of its members (flushThrough), so nothing waits on a batch that
 * is never sent. Results are each member's own bytes, in the order added: the archive stays
 * deterministic.
 */
import { CODEC_IDS, type CodecSpec } from '../codec/codec.js';
import type { CompressJob, CompressResult } from './recode-worker.js';

const BATCH_MEMBERS = 256;
/** Room for 256 members of 2 KiB (the scale set's); a batch closes when the next member would not fit. */
const BATCH_BYTES = 512 << 10;

export interface Portable { codec: number; stored: Uint8Array }

interface Batch {
  no: number;
  buf: Buffer;
  used: number;
  ends: number[];
  settle: { resolve: (r: CompressResult) => void; reject: (err: unknown) => void };
  done: Promise<CompressResult>;
}

export class MemberRecoder {
  private open: Batch | null = null;
  private sent = 0;

  /** `run` sends a job to the recode pool, with what to transfer (the batch's own buffer). */
  constructor(private readonly to: CodecSpec, private readonly run: (job: CompressJob, transfer: ArrayBuffer[]) => Promise<CompressResult>) {}

  /** Queues a member's bytes (copied: `raw` may be a view of a bundle that is about to go); `batch` names the batch it went into. */
  add(raw: Uint8Array): { work: Promise<Portable>; batch: number } {
    if (this.to.name === 'none') return { work: Promise.resolve({ codec: CODEC_IDS.none, stored: Buffer.from(raw) }), batch: -1 };
    let b = this.open;
    if (b && b.used + raw.byteLength > b.buf.length) { this.flush(); b = null; }
    b ??= this.open = this.newBatch(raw.byteLength);
    b.buf.set(raw, b.used);
    b.used += raw.byteLength;
    b.ends.push(b.used);
    const i = b.ends.length - 1;
    const work = b.done.then((r) => ({ codec: r.codecs[i], stored: r.data.subarray(i === 0 ? 0 : r.ends[i - 1], r.ends[i]) }));
    const no = b.no;
    if (b.ends.length >= BATCH_MEMBERS || b.used >= BATCH_BYTES) this.flush();
    return { work, batch: no };
  }

  /** Sends the open batch if it is batch `no` (a member of it is about to be waited for). */
  flushThrough(no: number): void {
    if (this.open?.no === no) this.flush();
  }

  /**
   * The open batch will not be sent (the export failed or was stopped): its members' work fails,
   * so nothing waits on it. Batches already sent settle as their jobs do.
   */
  abandon(reason: unknown): void {
    const b = this.open;
    this.open = null;
    b?.settle.reject(reason);
  }

  private newBatch(atLeast: number): Batch {
    let settle!: Batch['settle'];
    const done = new Promise<CompressResult>((resolve, reject) => { settle = { resolve, reject }; });
    done.catch(() => {}); // each member's work reports it
    return { no: this.sent + 1, buf: Buffer.allocUnsafeSlow(Math.max(atLeast, BATCH_BYTES)), used: 0, ends: [], settle, done };
  }

  private flush(): void {
    const b = this.open;
    if (!b) return;
    this.open = null;
    this.sent = b.no;
    const job: CompressJob = { op: 'compress', data: b.buf.subarray(0, b.used), ends: Uint32Array.from(b.ends), to: this.to };
    this.run(job, [b.buf.buffer as ArrayBuffer, job.ends.buffer as ArrayBuffer]).then(b.settle.resolve, b.settle.reject);
  }
}
