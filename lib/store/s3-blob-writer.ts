/**
 * A blob being written to S3 (BlobWriter). Writes are appends in call order: each is copied into
 * an 8 MiB part buffer when called (so overlapping writes, and a caller reusing its buffer once
 * its write resolved, are safe), and a full part is uploaded while the next fills. A write
 * resolves once at most MAX_PARTS_IN_FLIGHT parts are uploading: that is the backpressure, and
 * the memory a writer holds is bounded by (1 + MAX_PARTS_IN_FLIGHT) parts.
 *
 * A blob's name (a pack's id is its trailer's checksum) is known only at commit, and a multipart
 * upload needs its key when it starts. So:
 *   - a blob that fits in one part is one PUT to its real key at commit;
 *   - a bigger one is a multipart upload to PREFIX/tmp/KIND-PID-RANDOM, completed at commit, then
 *     copied server-side to its real key (CopyObject: radosgw shares the data, AWS copies inside
 *     the region) and the temporary object deleted.
 * Either way the real key appears only whole: a killed writer leaves at most an unfinished
 * multipart upload or a temporary object under tmp/, which no reader lists (`store gc` removes
 * them once old: S3Storage.cleanTemporaries).
 */
import { ToolkitError } from '../errors/index.js';
import type { BlobKind, BlobWriter } from './blob-storage.js';
import { S3Client } from './s3-client.js';
import { completeMultipartBody, parseErrorBody, parseUploadId } from './s3-xml.js';

/** S3's parts must be >= 5 MiB but the last; 8 MiB keeps a 64 MiB pack at 8 parts. */
export const PART_BYTES = 8 * 1024 * 1024;
export const MAX_PARTS_IN_FLIGHT = 3;

export interface S3WriterTarget {
  client: S3Client;
  bucket: string;
  kind: BlobKind;
  /** The temporary key a multipart upload goes to. */
  tmpKey: string;
  /** The real key of `name` (validates it). */
  keyOf(name: string): string;
  /**
   * Set when the real key is known from the start (an archive: s3-object-sink.ts): parts go to
   * it directly, and the completed upload is the object (no copy).
   */
  knownKey?: boolean;
}

export class S3BlobWriter implements BlobWriter {
  private part: Buffer | null = null;
  private filled = 0;
  private written = 0;
  private uploadId: Promise<string> | null = null;
  private readonly etags: Array<Promise<string>> = [];
  private inFlight = 0;
  private waiters: Array<() => void> = [];
  private failed: unknown = null;
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(private readonly t: S3WriterTarget) {}

  get bytesWritten(): number { return this.written; }

  async write(data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    if (this.state !== 'open') throw new ToolkitError('INTERNAL', `${this.where()}: ${this.t.kind} writer was already ${this.state}`);
    if (this.failed) throw this.failed;
    for (const p of data instanceof Uint8Array ? [data] : data) {
      for (let at = 0; at < p.byteLength;) {
        this.part ??= Buffer.allocUnsafe(PART_BYTES);
        const n = Math.min(p.byteLength - at, PART_BYTES - this.filled);
        this.part.set(p.subarray(at, at + n), this.filled);
        this.filled += n;
        at += n;
        if (this.filled === PART_BYTES) this.shipPart();
      }
      this.written += p.byteLength;
    }
    while (this.inFlight > MAX_PARTS_IN_FLIGHT && !this.failed) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failed) throw this.failed;
  }

  private where(): string {
    return S3Client.where(this.t.bucket, this.t.tmpKey);
  }

  /** Starts the upload of the full part buffer (and of the multipart upload, at the first). */
  private shipPart(): void {
    const body = this.part!.subarray(0, this.filled);
    this.part = null;
    this.filled = 0;
    const { client, bucket, tmpKey } = this.t;
    this.uploadId ??= client.send({ method: 'POST', bucket, key: tmpKey, query: [['uploads', '']] }).then((r) => {
      const id = parseUploadId(r.body.toString('utf8'));
      if (!id) throw new ToolkitError('S3_ERROR', `${this.where()}: CreateMultipartUpload answered without an UploadId`, { path: this.where() });
      return id;
    });
    const number = this.etags.length + 1;
    this.inFlight++;
    const etag = this.uploadId.then((id) => client.send({ method: 'PUT', bucket, key: tmpKey, query: [['partNumber', String(number)], ['uploadId', id]], body }))
      .then((r) => {
        const e = r.headers.etag;
        if (typeof e !== 'string') throw new ToolkitError('S3_ERROR', `${this.where()}: part ${number} was stored without an ETag`, { path: this.where() });
        return e;
      });
    etag.then(() => {}, (err: unknown) => { this.failed ??= err; }).finally(() => {
      this.inFlight--;
      for (const w of this.waiters.splice(0)) w();
    });
    this.etags.push(etag);
  }

  async commit(name: string): Promise<void> {
    if (this.state !== 'open') throw new ToolkitError('INTERNAL', `${this.where()}: ${this.t.kind} writer was already ${this.state}`);
    const key = this.t.keyOf(name);
    if (this.failed) throw this.failed;
    const { client, bucket, tmpKey } = this.t;
    if (this.uploadId === null) {
      await client.send({ method: 'PUT', bucket, key, body: this.part ? this.part.subarray(0, this.filled) : Buffer.alloc(0) });
      this.part = null;
      this.state = 'committed';
      return;
    }
    if (this.filled > 0) this.shipPart();
    const id = await this.uploadId;
    const etags = await Promise.all(this.etags);
    const done = await client.send({ method: 'POST', bucket, key: tmpKey, query: [['uploadId', id]], body: Buffer.from(completeMultipartBody(etags)) });
    // CompleteMultipartUpload may fail after its 200 status line: the error is in the body.
    const err = parseErrorBody(done.body.toString('utf8'));
    if (err.code) throw new ToolkitError('S3_ERROR', `${this.where()}: CompleteMultipartUpload failed: ${err.code}${err.message ? ': ' + err.message : ''}`, { path: this.where(), s3Code: err.code });
    this.uploadId = null;
    if (this.t.knownKey) {
      this.state = 'committed';
      return;
    }
    try {
      const copied = await client.send({ method: 'PUT', bucket, key, headers: { 'x-amz-copy-source': `/${bucket}/${encodeURI(tmpKey)}` } });
      const cerr = parseErrorBody(copied.body.toString('utf8'));
      if (cerr.code) throw new ToolkitError('S3_ERROR', `${S3Client.where(bucket, key)}: CopyObject failed: ${cerr.code}`, { path: S3Client.where(bucket, key), s3Code: cerr.code });
    } finally {
      await client.send({ method: 'DELETE', bucket, key: tmpKey }).catch(() => {});
    }
    this.state = 'committed';
  }

  /** Drops what was written: the parts of an unfinished multipart upload are freed by aborting it. */
  async abort(): Promise<void> {
    if (this.state === 'open') this.state = 'aborted';
    this.part = null;
    const id = this.uploadId;
    this.uploadId = null;
    if (id === null) return;
    await Promise.allSettled(this.etags);
    const uploadId = await id.catch(() => null);
    if (uploadId !== null) await this.t.client.send({ method: 'DELETE', bucket: this.t.bucket, key: this.t.tmpKey, query: [['uploadId', uploadId]], accept: [404] }).catch(() => {});
  }
}
