/**
 * BlobStorage on an S3 bucket (AWS S3, Ceph radosgw, MinIO...), objects named as the directory
 * layout names files, below the store's prefix:
 *   PREFIX/packs/<first two hex digits>/<pack id>.pack
 *   PREFIX/snapshots/<snapshot id>.snap
 *   PREFIX/tmp/...                      multipart uploads in progress (s3-blob-writer.ts)
 *   PREFIX/quarantine/packs|snapshots/  what repair could not use (quarantine.ts)
 * An object is visible only once its upload completed, so a blob is never seen half-written.
 * Reads are GETs, ranged for readRange: a restore of one file fetches only its records, reads in
 * order are served by read-ahead windows (read-ahead.ts).
 * There is no local path and no synchronous read: restore workers read through the store.
 */
import { FormatError, NotFoundError, ToolkitError } from '../errors/index.js';
import type { BlobKind, BlobStorage, BlobWriter, QuarantineArea } from './blob-storage.js';
import { type Fetched, ReadAhead } from './read-ahead.js';
import { PartPool, S3_PACK_BYTES, S3BlobWriter } from './s3-blob-writer.js';
import { S3Client, type S3Response, type S3Settings } from './s3-client.js';
import { rangeHeader, rangeReply } from './s3-range-reply.js';
import { listUploads } from './s3-multipart-uploads.js';
import { parseErrorBody, parseListPage } from './s3-xml.js';
import { DIRS, PACK_SUFFIX, QUARANTINE_DIR, SNAPSHOT_SUFFIX } from './store-layout.js';
import { randomTag } from '../util/random-tag.js';

/** What a worker thread needs to reach the same bucket (store-location.ts storageFrom). */
export interface S3Descriptor { kind: 's3'; bucket: string; prefix: string; settings: S3Settings }

const NAME = /^[0-9a-f]{8,64}$/;
const quarantinePrefix = (kind: BlobKind) => `${QUARANTINE_DIR}/${kind === 'pack' ? 'packs' : 'snapshots'}`;

export class S3Storage implements BlobStorage {
  readonly client: S3Client;
  /** Bytes received in GET bodies (the tests count what a rebuild or a restore fetched). */
  bytesFetched = 0;
  /** Packs of one PUT each (s3-blob-writer.ts). */
  readonly blobTarget = S3_PACK_BYTES;
  /** Part buffers the writers of this storage share. */
  private readonly parts = new PartPool();

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

  readonly quarantine: QuarantineArea = {
    put: async (kind, name, data) => {
      const key = this.quarantineKey(kind, name);
      await this.client.send({ method: 'PUT', bucket: this.bucket, key, body: data });
      return S3Client.where(this.bucket, key);
    },
    list: async (kind) => {
      const suffix = kind === 'pack' ? PACK_SUFFIX : SNAPSHOT_SUFFIX;
      const names: string[] = [];
      for await (const o of this.listKeys(`${quarantinePrefix(kind)}/`)) {
        const name = o.key.slice(o.key.lastIndexOf('/') + 1, -suffix.length);
        if (o.key.endsWith(suffix) && NAME.test(name)) names.push(name);
      }
      return names.sort();
    },
    remove: async (kind, name) => {
      await this.client.send({ method: 'DELETE', bucket: this.bucket, key: this.quarantineKey(kind, name), accept: [404] });
    },
    describe: (kind) => S3Client.where(this.bucket, this.key(quarantinePrefix(kind))),
  };

  private quarantineKey(kind: BlobKind, name: string): string {
    if (!NAME.test(name)) throw new FormatError(`invalid ${kind} name '${name}'`);
    return this.key(`${quarantinePrefix(kind)}/${name}${kind === 'pack' ? PACK_SUFFIX : SNAPSHOT_SUFFIX}`);
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
    const tmpKey = this.key(`${DIRS.tmp}/${kind}-${process.pid}-${Date.now().toString(36)}-${randomTag(12)}`);
    return new S3BlobWriter({ client: this.client, bucket: this.bucket, kind, tmpKey, parts: this.parts, keyOf: (name) => {
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

  /** Fetches ahead for reads that go on in order (read-ahead.ts): one GET serves many records. */
  private readonly ahead = new ReadAhead();

  /** An object written or removed: what is held of it, and listings asked for ahead, are dropped. */
  private forget(key: string): void {
    this.ahead.forget(key);
    this.early.clear();
  }

  async readRange(kind: BlobKind, name: string, offset: number, length: number): Promise<Buffer> {
    return this.readVia(kind, name, offset, length, false);
  }

  /** readRange, the bytes usually a view of a read-ahead window (ReadAhead.view): for a caller that copies what it keeps. */
  async readRangeView(kind: BlobKind, name: string, offset: number, length: number): Promise<Buffer> {
    return this.readVia(kind, name, offset, length, true);
  }

  private async readVia(kind: BlobKind, name: string, offset: number, length: number, view: boolean): Promise<Buffer> {
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
    const fetch = (at: number, n: number) => this.fetchRange(kind, name, key, at, n);
    const body = await (view ? this.ahead.view(key, offset, length, fetch) : this.ahead.read(key, offset, length, fetch));
    if (body.byteLength < length) throw truncated(body.byteLength);
    return body;
  }

  /** GET of `length` bytes at `offset` (fewer when the object ends before), with the object's size. */
  private async fetchRange(kind: BlobKind, name: string, key: string, offset: number, length: number): Promise<Fetched> {
    const asked = { offset, length };
    const res = await this.client.send({ method: 'GET', bucket: this.bucket, key, headers: { range: rangeHeader(asked) }, accept: [404, 416] });
    if (res.status === 404) throw this.missing(kind, name, res);
    if (res.status !== 416) this.bytesFetched += res.body.byteLength;
    const { data, size } = rangeReply(this.describe(kind, name), asked, res);
    return { data, size };
  }

  async size(kind: BlobKind, name: string): Promise<number> {
    const res = await this.client.send({ method: 'HEAD', bucket: this.bucket, key: this.keyOf(kind, name), accept: [404] });
    if (res.status === 404) throw this.missing(kind, name, res);
    const size = res.headers['content-length'];
    if (!/^\d{1,15}$/.test(size ?? '')) throw new ToolkitError('S3_ERROR', `${this.describe(kind, name)}: HEAD answered without a size (Content-Length '${size ?? ''}')`, { path: this.describe(kind, name) });
    return Number(size);
  }

  async exists(kind: BlobKind, name: string): Promise<boolean> {
    if (!NAME.test(name)) return false;
    const res = await this.client.send({ method: 'HEAD', bucket: this.bucket, key: this.keyOf(kind, name), accept: [404] });
    return res.status !== 404;
  }

  /**
   * First pages of the listings of packs and snapshot records, asked for ahead (listAhead) and
   * taken by the first listing of each. Opening a store lists both after reading its config:
   * asked for with the config's GET, the three requests cost one round trip, not three. A
   * listing is the bucket as it was a moment ago either way; anything this storage writes or
   * removes drops them, so no listing misses what this process did.
   */
  private early = new Map<string, Promise<S3Response>>();

  listAhead(): void {
    for (const dir of [DIRS.packs, DIRS.snapshots]) {
      const page = this.client.send({ method: 'GET', bucket: this.bucket, query: this.listQuery(`${dir}/`) });
      page.catch(() => {});
      this.early.set(`${dir}/`, page);
    }
  }

  private listQuery(under: string, token?: string): Array<[string, string]> {
    const query: Array<[string, string]> = [['list-type', '2'], ['prefix', this.key(under)]];
    if (token) query.push(['continuation-token', token]);
    return query;
  }

  /** Keys below `under` (a prefix within the store), page by page, with their sizes. */
  async *listKeys(under: string): AsyncIterable<{ key: string; size: number }> {
    let token: string | undefined;
    let early = this.early.get(under);
    this.early.delete(under);
    do {
      const res = await (early ?? this.client.send({ method: 'GET', bucket: this.bucket, query: this.listQuery(under, token) }));
      early = undefined;
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
      if (!m) continue;
      // A small pack (a snapshot's trees) is then fetched whole at its first read.
      if (kind === 'pack') this.ahead.listed(o.key, o.size);
      yield m[1]!;
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
    for await (const u of listUploads(this.client, this.bucket, this.key(`${DIRS.tmp}/`))) {
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
