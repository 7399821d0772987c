/**
 * An archive in a bucket, read by ranged GETs (`fxcp snap restore s3://BUCKET/KEY.fxar`): the
 * positional reader the seekable archive reader takes (lib/fxar/positional-file.ts), so a
 * one-file restore fetches only the footer, the index pages and that file's chunks.
 *
 * That reader's reads are synchronous (a local archive is read with pread, cheaper than a
 * promise per read). The HTTP requests run on a worker thread, and each read waits for its
 * answer with Atomics.wait: the caller is blocked only for the request it needs anyway.
 * Limits: one request at a time per archive (no read-ahead); each read is one GET.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { errorFromJSON, FormatError, NotFoundError, ToolkitError } from '../errors/index.js';
import { libModule } from '../util/package-paths.js';
import type { S3Settings } from './s3-client.js';
import type { RangeAnswer, RangeRequest, RangeWorkerData } from './s3-range-worker.js';

export class S3RangeReader {
  /** Bytes received (what a restore fetched). */
  bytesRead = 0;
  requests = 0;

  private constructor(readonly path: string, private readonly worker: Worker, private readonly ctl: Int32Array,
    private readonly port: MessagePort, private readonly waitMs: number, public size = 0) {}

  /** The reader of `s3://bucket/key`, or null when there is no such object (then it may be a store). */
  static open(bucket: string, key: string, settings: S3Settings): S3RangeReader | null {
    const ctl = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    const data: RangeWorkerData = { settings, bucket, key, ctl, port: port2 };
    const worker = new Worker(libModule('store/s3-range-worker.js'), { workerData: data, transferList: [port2] });
    worker.unref();
    const r = new S3RangeReader(`s3://${bucket}/${key}`, worker, ctl, port1, settings.retryMs + settings.timeoutMs + 10_000);
    try {
      r.size = r.ask({ op: 'size' }).size!;
    } catch (err) {
      r.close();
      if (err instanceof NotFoundError) return null;
      throw err;
    }
    return r;
  }

  private ask(req: RangeRequest): Extract<RangeAnswer, { ok: true }> {
    Atomics.store(this.ctl, 0, 0);
    this.worker.postMessage(req);
    this.requests++;
    if (Atomics.wait(this.ctl, 0, 0, this.waitMs) === 'timed-out') {
      throw new ToolkitError('S3_UNREACHABLE', `${this.path}: no answer from the S3 reader within ${Math.round(this.waitMs / 1000)} s`, { path: this.path });
    }
    const a = receiveMessageOnPort(this.port)?.message as RangeAnswer | undefined;
    if (!a) throw new ToolkitError('INTERNAL', `${this.path}: the S3 reader answered nothing`, { path: this.path });
    if (!a.ok) {
      if (a.error.code === 'NOT_FOUND') throw new NotFoundError(`${this.path}: no such object`, { path: this.path });
      throw errorFromJSON(a.error);
    }
    return a;
  }

  read(offset: number, length: number): Buffer {
    if (offset < 0 || offset + length > this.size) {
      throw new FormatError(`${this.path}: truncated (wanted ${length} bytes at offset ${offset}, got ${Math.max(0, this.size - offset)})`, { path: this.path, offset }, 'TRUNCATED');
    }
    if (length === 0) return Buffer.alloc(0);
    const data = this.ask({ op: 'read', offset, length }).data!;
    this.bytesRead += data.byteLength;
    if (data.byteLength !== length) {
      throw new FormatError(`${this.path}: truncated (wanted ${length} bytes at offset ${offset}, got ${data.byteLength})`, { path: this.path, offset }, 'TRUNCATED');
    }
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }

  close(): void {
    this.port.close();
    void this.worker.terminate();
  }
}
