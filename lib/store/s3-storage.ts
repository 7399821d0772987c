/**
 * BlobStorage on an S3 bucket (AWS S3, Ceph radosgw, MinIO...), objects named as the directory
 * layout names files, below the store's prefix:
 *   PREFIX/packs/<first two hex digits>/<pack id>.pack
 *   PREFIX/snapshots/<snapshot id>.snap
 *   PREFIX/tmp/...                      multipart uploads in progress (s3-blob-writer.ts)
 * An object is visible only once its upload completed, so a blob is never seen half-written.
 * Reads are GETs, ranged for readRange (a restore of one file fetches only its records).
 * There is no local path and no synchronous read: restore workers read through the store.
 */
import { randomBytes } from 'node:crypto';
import { FormatError, NotFoundError } from '../errors/index.js';
import type { BlobKind, BlobStorage, BlobWriter } from './blob-storage.js';
import { S3BlobWriter } from './s3-blob-writer.js';
import { S3Client, type S3Response, type S3Settings } from './s3-client.js';
import { parseErrorBody, parseListPage, parseUploads } from './s3-xml.js';
import { DIRS, PACK_SUFFIX, SNAPSHOT_SUFFIX } from './store-layout.js';

/** What a worker thread needs to reach the same bucket (store-location.ts storageFrom). */
export interface S3Descriptor { kind: 's3'; bucket: string; prefix: string; settings: S3Settings }

const NAME = /^[0-9a-f]{8,64}$/;
/** Read-ahead windows (readRange): from 256 KiB, doubling to 8 MiB; at most 4 kept. */
const MIN_WINDOW = 256 * 1024;
const MAX_WINDOW = 8 * 1024 * 1024;
const WINDOWS_KEPT = 4;

export class S3Storage implements BlobStorage {
  readonly client: S3Client;
  /** Bytes received in GET bodies (the tests count what a rebuild or a restore fetched). */
  bytesFetched = 0;

  constructor(readonly bucket: string, readonly prefix: string, readonly settings: S3Settings) {
    this.client = new S3Client(settings);
  }

  get descriptor(): S3Descriptor {
    return { kind: 's3', bucket: this.bucket, prefix: this.prefix, settings: this.settings };
  }

  /** PREFIX/rest, or rest for a store at the bucket's root. */
  key(rest: string): string {
    return this.prefix === '' ? rest : `${this.prefix}/${rest}`;
  }

  private keyOf(kind: BlobKind, name: string): string {
    if (!NAME.test(name)) throw new FormatError(`invalid ${kind} name '${name}'`);
    return kind === 'snapshot'
      ? this.key(`${DIRS.snapshots}/${name}${SNAPSHOT_SUFFIX}`)
      : this.key(`${DIRS.packs}/${name.slice(0, 2)}/${name}${PACK_SUFFIX}`);
  }

  describe(kind: BlobKind, name: string): string {
    return NAME.test(name) ? S3Client.where(this.bucket, this.keyOf(kind, name)) : `${S3Client.where(this.bucket, this.prefix)} ${kind} '${name}'`;
  }

  /** A 404 is a missing object, unless the body says the bucket is missing (NO_BUCKET, as any other request). */
  private missing(kind: BlobKind, name: string, res: S3Response): NotFoundError {
    const where = this.describe(kind, name);
    if (parseErrorBody(res.body.toString('utf8')).code === 'NoSuchBucket') {
      return new NotFoundError(`${S3Client.where(this.bucket)}: no such bucket at ${this.settings.endpoint}`, { path: where, bucket: this.bucket }, 'NO_BUCKET');
    }
    return new NotFoundError(`${where}: ${kind} is missing`, { path: where }, 'MISSING_BLOB');
  }

  async put(kind: BlobKind, name: string, data: Uint8Array): Promise<void> {
    const key = this.keyOf(kind, name);
    this.forget(key);
    await this.client.send({ method: 'PUT', bucket: this.bucket, key, body: data });
  }

  async create(kind: BlobKind): Promise<BlobWriter> {
    const tmpKey = this.key(`${DIRS.tmp}/${kind}-${process.pid}-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`);
    return new S3BlobWriter({ client: this.client, bucket: this.bucket, kind, tmpKey, keyOf: (name) => {
      const key = this.keyOf(kind, name);
      this.forget(key);
      return key;
    } });
  }

  async get(kind: BlobKind, name: string): Promise<Buffer> {
    const res = await this.client.send({ method: 'GET', bucket: this.bucket, key: this.keyOf(kind, name), accept: [404] });
    if (res.status === 404) throw this.missing(kind, name, res);
    this.bytesFetched += res.body.byteLength;
    return res.body;
  }

  /**
   * Reads that continue where the previous read of the same blob ended (a restore, a check or a
   * gc walking a pack's records in order) fetch ahead: a window that doubles from 256 KiB to
   * 8 MiB while the reads stay in order, kept (with the GET in flight) for the reads that
   * follow. One GET then serves many records: per-record GETs made a full restore run at a fifth
   * of the raw GET rate (docs/BENCHMARKS.md). A read elsewhere fetches exactly its range, so a
   * one-file restore fetches only its records. At most WINDOWS_KEPT windows are kept
   * (WINDOWS_KEPT x 8 MiB); a blob written again or removed drops its windows.
   */
  private readonly order = new Map<string, { next: number; window: number }>();
  private windows: Array<{ key: string; start: number; end: number; data: Promise<Buffer> }> = [];

  private forget(key: string): void {
    this.order.delete(key);
    this.windows = this.windows.filter((w) => w.key !== key);
  }

  async readRange(kind: BlobKind, name: string, offset: number, length: number): Promise<Buffer> {
    const key = this.keyOf(kind, name);
    const truncated = (got: number) => {
      const where = this.describe(kind, name);
      return new FormatError(`${where}: truncated (wanted ${length} bytes at offset ${offset}, object ends after ${got})`, { path: where }, 'TRUNCATED');
    };
    if (length === 0) {
      const size = await this.size(kind, name);
      if (offset > size) throw truncated(0);
      return Buffer.alloc(0);
    }
    const end = offset + length;
    const held = this.windows.find((w) => w.key === key && w.start <= offset && end <= w.end);
    if (held) {
      const data = await held.data.catch(() => null);
      // A window cut short by the blob's end serves what it holds; anything else reads on its own.
      if (data && data.byteLength >= end - held.start) return Buffer.from(data.subarray(offset - held.start, end - held.start));
    }
    const seen = this.order.get(key);
    const window = seen?.next === offset ? Math.min(Math.max(seen.window * 2, MIN_WINDOW), MAX_WINDOW) : 0;
    this.order.delete(key); // re-inserted last: the map stays in order of use, oldest first
    this.order.set(key, { next: end, window });
    if (this.order.size > 256) this.order.delete(this.order.keys().next().value!);
    const want = Math.max(length, window);
    const data = this.fetchRange(kind, name, key, offset, want);
    if (want > length) {
      this.windows.push({ key, start: offset, end: offset + want, data });
      data.catch(() => {});
      if (this.windows.length > WINDOWS_KEPT) this.windows.shift();
    }
    const body = await data;
    if (body.byteLength < length) throw truncated(body.byteLength);
    return want > length ? Buffer.from(body.subarray(0, length)) : body;
  }

  /** GET of `length` bytes at `offset` (fewer when the object ends before). */
  private async fetchRange(kind: BlobKind, name: string, key: string, offset: number, length: number): Promise<Buffer> {
    const res = await this.client.send({ method: 'GET', bucket: this.bucket, key, headers: { range: `bytes=${offset}-${offset + length - 1}` }, accept: [404, 416] });
    if (res.status === 404) throw this.missing(kind, name, res);
    if (res.status === 416) return Buffer.alloc(0);
    this.bytesFetched += res.body.byteLength;
    // 200: the server sent the whole object (a range covering it all, or one it ignored).
    const body = res.status === 200 ? res.body.subarray(offset, offset + length) : res.body;
    return body.byteLength > length ? body.subarray(0, length) : body;
  }

  async size(kind: BlobKind, name: string): Promise<number> {
    const res = await this.client.send({ method: 'HEAD', bucket: this.bucket, key: this.keyOf(kind, name), accept: [404] });
    if (res.status === 404) throw this.missing(kind, name, res);
    return Number(res.headers['content-length']);
  }

  async exists(kind: BlobKind, name: string): Promise<boolean> {
    if (!NAME.test(name)) return false;
    const res = await this.client.send({ method: 'HEAD', bucket: this.bucket, key: this.keyOf(kind, name), accept: [404] });
    return res.status !== 404;
  }

  /** Keys below `under` (a prefix within the store), page by page, with their sizes. */
  async *listKeys(under: string): AsyncIterable<{ key: string; size: number }> {
    let token: string | undefined;
    do {
      const query: Array<[string, string]> = [['list-type', '2'], ['prefix', this.key(under)]];
      if (token) query.push(['continuation-token', token]);
      const res = await this.client.send({ method: 'GET', bucket: this.bucket, query });
      const page = parseListPage(res.body.toString('utf8'));
      yield* page.objects;
      token = page.nextToken;
    } while (token);
  }

  /** Names in S3's order (byte order of the keys: packs by id, as the directory backend lists them). */
  async *list(kind: BlobKind): AsyncIterable<string> {
    const [dir, suffix] = kind === 'pack' ? [DIRS.packs, PACK_SUFFIX] : [DIRS.snapshots, SNAPSHOT_SUFFIX];
    const shape = kind === 'pack' ? /^[0-9a-f]{2}\/([0-9a-f]{8,64})$/ : /^([0-9a-f]{8,64})$/;
    const base = this.key(`${dir}/`).length;
    for await (const o of this.listKeys(`${dir}/`)) {
      if (!o.key.endsWith(suffix)) continue;
      const m = shape.exec(o.key.slice(base, -suffix.length));
      if (m) yield m[1]!;
    }
  }

  async remove(kind: BlobKind, name: string): Promise<void> {
    const key = this.keyOf(kind, name);
    this.forget(key);
    await this.client.send({ method: 'DELETE', bucket: this.bucket, key, accept: [404] });
  }

  /**
   * Removes what killed writers left under tmp/: objects, and unfinished multipart uploads, older
   * than `olderThanMs` (a live writer's are younger: a pack is written in seconds). Returns how
   * many it removed.
   */
  async cleanTemporaries(olderThanMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    const tmp = this.key(`${DIRS.tmp}/`);
    const res = await this.client.send({ method: 'GET', bucket: this.bucket, query: [['uploads', ''], ['prefix', tmp]] });
    for (const u of parseUploads(res.body.toString('utf8')).uploads) {
      if (now - Date.parse(u.initiated) < olderThanMs) continue;
      await this.client.send({ method: 'DELETE', bucket: this.bucket, key: u.key, query: [['uploadId', u.uploadId]], accept: [404] });
      removed++;
    }
    for await (const o of this.listKeys(`${DIRS.tmp}/`)) {
      const made = parseInt(/-([0-9a-z]+)-[0-9a-f]+$/.exec(o.key)?.[1] ?? '', 36);
      if (!Number.isFinite(made) || now - made < olderThanMs) continue;
      await this.client.send({ method: 'DELETE', bucket: this.bucket, key: o.key, accept: [404] });
      removed++;
    }
    return removed;
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
