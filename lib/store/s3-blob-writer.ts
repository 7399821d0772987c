/**
 * A blob being written to S3 (BlobWriter). Writes are appends in call order: each is copied into
 * 8 MiB part buffers when called (so overlapping writes, and a caller reusing its buffer once
 * its write resolved, are safe), the body's SHA-256 (which signs it, and lets the server reject
 * a body damaged on the way) computed as it is copied, while the bytes are in cache. A write
 * resolves once at most MAX_PARTS_IN_FLIGHT uploads are running: that is the backpressure.
 *
 * A blob's name (a pack's id is its trailer's checksum) is known only at commit, and a multipart
 * upload needs its key when it starts. So:
 *   - a blob of up to SINGLE_PUT_BYTES is one PUT to its real key at commit (a store in a bucket
 *     writes packs of S3_PACK_BYTES, below it: one request per pack);
 *   - a bigger one is a multipart upload to PREFIX/tmp/KIND-PID-RANDOM (its first part the
 *     SINGLE_PUT_BYTES held, then 8 MiB parts), completed at commit, then copied server-side to
 *     its real key (CopyObject: radosgw shares the data, AWS copies inside the region) and the
 *     temporary object deleted.
 * Either way the real key appears only whole: a killed writer leaves at most an unfinished
 * multipart upload or a temporary object under tmp/, which no reader lists (`store gc` removes
 * them once old: S3Storage.cleanTemporaries).
 *
 * Memory: part buffers come from a PartPool that the writers of one storage share, so a buffer is
 * not faulted in page by page for every part (copying into fresh buffers cost a snapshot's chunk
 * workers ~175 ms of CPU per 150 MiB, mostly page faults); a writer holds at most
 * SINGLE_PUT_BYTES being filled plus MAX_PARTS_IN_FLIGHT uploads.
 */
import type { Hash } from 'node:crypto';
import { nodeCrypto } from '../util/lazy-crypto.js';
import { ToolkitError } from '../errors/index.js';
import type { BlobKind, BlobWriter } from './blob-storage.js';
import { S3Client } from './s3-client.js';
import { completeMultipartBody, parseErrorBody, parseUploadId } from './s3-xml.js';

/** S3's parts must be >= 5 MiB but the last; 8 MiB keeps a 64 MiB archive part list short. */
export const PART_BYTES = 8 * 1024 * 1024;
/** The most a blob sent in one PUT holds: a pack of S3_PACK_BYTES plus its last chunk and trailer. */
export const SINGLE_PUT_BYTES = 3 * PART_BYTES;
/**
 * The pack size of a store in a bucket (BlobStorage.blobTarget): one PUT per pack, no multipart
 * upload, copy and delete (five requests more for a 64 MiB pack), and restic's default too.
 */
export const S3_PACK_BYTES = 16 * 1024 * 1024;
export const MAX_PARTS_IN_FLIGHT = 3;
/** Free part buffers a pool keeps (the rest are left to the garbage collector). */
const FREE_PARTS_KEPT = 4;

export class PartPool {
  private readonly free: Buffer[] = [];
  take(): Buffer { return this.free.pop() ?? Buffer.allocUnsafeSlow(PART_BYTES); }
  give(parts: readonly Buffer[]): void {
    for (const p of parts) if (this.free.length < FREE_PARTS_KEPT) this.free.push(p);
  }
}

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
  parts: PartPool;
}

/** A body being filled: whole part buffers, the last one filled to `last`, and their running hash. */
interface Body { buffers: Buffer[]; last: number; bytes: number; hash: Hash }

export class S3BlobWriter implements BlobWriter {
  private body: Body | null = null;
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
        // A full body is shipped when more comes: the first once it holds SINGLE_PUT_BYTES
        // (the blob is then too big for one PUT), the next ones at a part each.
        const limit = this.uploadId === null ? SINGLE_PUT_BYTES : PART_BYTES;
        if (this.body && this.body.bytes === limit) this.shipPart();
        const b = this.body ??= { buffers: [], last: PART_BYTES, bytes: 0, hash: nodeCrypto().createHash('sha256') };
        if (b.last === PART_BYTES) {
          b.buffers.push(this.t.parts.take());
          b.last = 0;
        }
        const n = Math.min(p.byteLength - at, PART_BYTES - b.last);
        const piece = p.subarray(at, at + n);
        b.buffers[b.buffers.length - 1]!.set(piece, b.last);
        b.hash.update(piece);
        b.last += n;
        b.bytes += n;
        at += n;
      }
      this.written += p.byteLength;
    }
    while (this.inFlight > MAX_PARTS_IN_FLIGHT && !this.failed) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failed) throw this.failed;
  }

  private where(): string {
    return S3Client.where(this.t.bucket, this.t.tmpKey);
  }

  /** The body held, as the pieces to send and their hash; its buffers go back to the pool once `sent` settles. */
  private takeBody(): { pieces: Buffer[]; payloadHash: string; release: () => void } {
    const b = this.body;
    this.body = null;
    if (!b) return { pieces: [], payloadHash: nodeCrypto().createHash('sha256').digest('hex'), release: () => {} };
    const pieces = b.buffers.map((buf, i) => (i === b.buffers.length - 1 ? buf.subarray(0, b.last) : buf));
    return { pieces, payloadHash: b.hash.digest('hex'), release: () => this.t.parts.give(b.buffers) };
  }

  /** Starts the upload of the body held as the next part (and of the multipart upload, at the first). */
  private shipPart(): void {
    const { pieces, payloadHash, release } = this.takeBody();
    const { client, bucket, tmpKey } = this.t;
    this.uploadId ??= client.send({ method: 'POST', bucket, key: tmpKey, query: [['uploads', '']] }).then((r) => {
      const id = parseUploadId(r.body.toString('utf8'));
      if (!id) throw new ToolkitError('S3_ERROR', `${this.where()}: CreateMultipartUpload answered without an UploadId`, { path: this.where() });
      return id;
    });
    const number = this.etags.length + 1;
    this.inFlight++;
    const sent = this.uploadId.then((id) => client.send({ method: 'PUT', bucket, key: tmpKey, query: [['partNumber', String(number)], ['uploadId', id]], body: pieces, payloadHash }));
    const etag = sent.then((r) => {
      const e = r.headers.etag;
      if (typeof e !== 'string') throw new ToolkitError('S3_ERROR', `${this.where()}: part ${number} was stored without an ETag`, { path: this.where() });
      return e;
    });
    etag.then(() => {}, (err: unknown) => { this.failed ??= err; }).finally(() => {
      release();
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
      const { pieces, payloadHash, release } = this.takeBody();
      try {
        await client.send({ method: 'PUT', bucket, key, body: pieces, payloadHash });
      } finally {
        release();
      }
      this.state = 'committed';
      return;
    }
    if (this.body) this.shipPart();
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
    this.takeBody().release();
    const id = this.uploadId;
    this.uploadId = null;
    if (id === null) return;
    await Promise.allSettled(this.etags);
    const uploadId = await id.catch(() => null);
    if (uploadId !== null) await this.t.client.send({ method: 'DELETE', bucket: this.t.bucket, key: this.t.tmpKey, query: [['uploadId', uploadId]], accept: [404] }).catch(() => {});
  }
}
