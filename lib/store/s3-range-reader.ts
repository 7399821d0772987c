/**
 * An archive in a bucket, read by ranged GETs (`fxcp snap restore s3://BUCKET/KEY.fxar`): the
 * positional reader the seekable archive reader takes (lib/fxar/positional-file.ts), so a
 * one-file restore fetches only the footer, the index pages and that file's chunks.
 *
 * Open fetches the archive's tail (TAIL_BYTES: footer, index and the snapshot records before
 * it, for archives of up to about 9,000 chunks) and its head (HEAD_BYTES: header and the
 * first records) in two GETs side by side on this thread; the tail's answer also gives the
 * size, and a 404 says there is no such object (the caller then opens a store's prefix: no
 * other request, and no thread, was spent on it). Reads are then served, in this order:
 *   - from what is held (read-ahead.ts: the tail and head, and windows fetched for chunks);
 *   - readAsync (chunk records: ArchiveReader.loadChunk) by GETs on this thread, with the
 *     read-ahead's windows for reads in order (a full restore);
 *   - read, which is synchronous (the archive reader's lookups in an index larger than the
 *     tail): a GET on a worker thread, waited for with Atomics.wait. The worker is started at
 *     the first such read only; its start costs a few hundred ms on a busy 2-core machine.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { errorFromJSON, FormatError, ToolkitError } from '../errors/index.js';
import { workerEntry } from '../util/worker-bundles.js';
import { ReadAhead } from './read-ahead.js';
import { S3Client, type S3Settings } from './s3-client.js';
import { type AskedRange, rangeHeader, type RangeReply, rangeReply } from './s3-range-reply.js';
import type { RangeAnswer, RangeRequest, RangeWorkerData } from './s3-range-worker.js';

/** The archive's tail fetched at open: 512 KiB holds the index of about 9,000 chunks (56 bytes each). */
const TAIL_BYTES = 512 * 1024;
/** The archive's head fetched at open (header, sniffed kind, the first records). */
const HEAD_BYTES = 64 * 1024;
const KEY = '';

interface SyncReader { worker: Worker; ctl: Int32Array; port: MessagePort }

export class S3RangeReader {
  /** Bytes received (what a restore fetched). */
  bytesRead = 0;
  requests = 0;
  private readonly ahead = new ReadAhead();
  private sync: SyncReader | null = null;

  private constructor(readonly path: string, private readonly client: S3Client, private readonly bucket: string,
    private readonly key: string, private readonly settings: S3Settings, public size = 0) {}

  /** The reader of `s3://bucket/key`, or null when there is no such object (then it may be a store). */
  static async open(bucket: string, key: string, settings: S3Settings): Promise<S3RangeReader | null> {
    const r = new S3RangeReader(`s3://${bucket}/${key}`, new S3Client(settings), bucket, key, settings);
    try {
      const [tail, head] = await Promise.all([r.get({ suffix: TAIL_BYTES }), r.get({ offset: 0, length: HEAD_BYTES })]);
      if (tail === null || head === null) {
        r.close();
        return null;
      }
      // No size said: a 416, an empty object (no byte satisfies any range).
      r.size = tail.size ?? tail.data.byteLength;
      r.ahead.hold(KEY, tail.start, tail.data, r.size);
      r.ahead.hold(KEY, 0, head.data, r.size);
      return r;
    } catch (err) {
      r.close();
      throw err;
    }
  }

  /** A ranged GET on this thread, its answer checked (s3-range-reply.ts); null for a missing object. */
  private async get(asked: AskedRange): Promise<RangeReply | null> {
    this.requests++;
    const res = await this.client.send({ method: 'GET', bucket: this.bucket, key: this.key, headers: { range: rangeHeader(asked) }, accept: [404, 416] });
    if (res.status === 404) return null;
    if (res.status !== 416) this.bytesRead += res.body.byteLength;
    return rangeReply(this.path, asked, res);
  }

  private truncated(offset: number, length: number, got: number): FormatError {
    return new FormatError(`${this.path}: truncated (wanted ${length} bytes at offset ${offset}, got ${got})`, { path: this.path, offset }, 'TRUNCATED');
  }

  async readAsync(offset: number, length: number): Promise<Buffer> {
    return this.readVia(offset, length, false);
  }

  /** readAsync, the bytes usually a view of a read-ahead window (ReadAhead.view): for a caller that copies what it keeps. */
  async readView(offset: number, length: number): Promise<Buffer> {
    return this.readVia(offset, length, true);
  }

  private async readVia(offset: number, length: number, view: boolean): Promise<Buffer> {
    if (offset < 0 || offset + length > this.size) throw this.truncated(offset, length, Math.max(0, this.size - offset));
    if (length === 0) return Buffer.alloc(0);
    const fetch = async (at: number, n: number) => {
      const got = await this.get({ offset: at, length: n });
      if (got === null) throw new ToolkitError('S3_ERROR', `${this.path}: the archive is gone from the bucket`, { path: this.path });
      return { data: got.data, size: got.size };
    };
    const data = await (view ? this.ahead.view(KEY, offset, length, fetch) : this.ahead.read(KEY, offset, length, fetch));
    if (data.byteLength !== length) throw this.truncated(offset, length, data.byteLength);
    return data;
  }

  read(offset: number, length: number): Buffer {
    if (offset < 0 || offset + length > this.size) throw this.truncated(offset, length, Math.max(0, this.size - offset));
    if (length === 0) return Buffer.alloc(0);
    const held = this.ahead.peek(KEY, offset, length);
    if (held) return held;
    const data = this.ask({ op: 'read', offset, length }).data;
    this.bytesRead += data.byteLength;
    if (data.byteLength !== length) throw this.truncated(offset, length, data.byteLength);
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }

  /** One GET on the worker thread (started at the first), waited for synchronously. */
  private ask(req: RangeRequest): Extract<RangeAnswer, { ok: true }> {
    const s = this.sync ??= this.startWorker();
    Atomics.store(s.ctl, 0, 0);
    s.worker.postMessage(req);
    this.requests++;
    const waitMs = this.settings.retryMs + this.settings.timeoutMs + 10_000;
    if (Atomics.wait(s.ctl, 0, 0, waitMs) === 'timed-out') {
      throw new ToolkitError('S3_UNREACHABLE', `${this.path}: no answer from the S3 reader within ${Math.round(waitMs / 1000)} s`, { path: this.path });
    }
    const a = receiveMessageOnPort(s.port)?.message as RangeAnswer | undefined;
    if (!a) throw new ToolkitError('INTERNAL', `${this.path}: the S3 reader answered nothing`, { path: this.path });
    if (!a.ok) throw errorFromJSON(a.error);
    return a;
  }

  private startWorker(): SyncReader {
    const ctl = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    const data: RangeWorkerData = { settings: this.settings, bucket: this.bucket, key: this.key, ctl, port: port2 };
    const entry = workerEntry('store/s3-range-worker.js');
    const worker = new Worker(entry.path, { argv: entry.argv, workerData: data, transferList: [port2] });
    worker.unref();
    return { worker, ctl, port: port1 };
  }

  close(): void {
    this.client.close();
    if (this.sync) {
      this.sync.port.close();
      void this.sync.worker.terminate();
    }
  }
}
