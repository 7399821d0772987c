/**
 * BlobStorage over the wire (formats/wire.md §7): the blobs of a store that `fxcp serve` keeps
 * on the other end of an SSH connection. The Store code runs here unchanged, as on s3://: the
 * index is a local cache (ssh-location.ts), packs are written through temporaries the server
 * renames into place, and reads are ranged.
 *
 * Requests are pipelined on the one connection: writes go out without waiting for their
 * acknowledgement (at most WRITE_WINDOW bytes unacknowledged per blob; an error surfaces at
 * the next write or at commit), and reads use the read-ahead of s3:// stores (read-ahead.ts):
 * a restore walking a pack's records in order is not one round trip per record, while a read
 * elsewhere fetches exactly its range (a one-file restore reads only its records).
 *
 * Worker threads reach this storage through a MessagePort (port-storage.ts): `descriptor`
 * makes a new channel each time it is read, served here on the main thread.
 */
import { FormatError, NotFoundError, TransportError } from '../errors/index.js';
import { type BlobKind, type BlobStorage, type BlobWriter, portDescriptor, type PortDescriptor, putThroughWriter, ReadAhead } from '../store/index.js';
import { BLOB_NAME, decodeBlobList, decodeBlobStat, encodeBlobWrite, MAX_WRITE_BYTES } from './blob-messages.js';
import type { WireClient } from './wire-client.js';
import { FRAME, MAX_OPEN_BLOBS, MAX_READ_BYTES } from './wire-layout.js';

/** Bytes of one blob's writes sent and not yet acknowledged. */
const WRITE_WINDOW = 16 << 20;

export class SshStorage implements BlobStorage {
  private nextHandle = 1;
  private openWriters = 0;
  private readonly slotWaiters: Array<() => void> = [];
  /** Reads that go on in order are fetched ahead (read-ahead.ts, as for s3://). */
  private readonly readAhead = new ReadAhead();
  /** Bytes received in blob reads (what a restore fetched), and the reads (TBlobRead) it took. */
  bytesFetched = 0;
  requests = 0;

  /** `name`: the store's ssh:// address, for messages; `end`: ends the session (close). */
  constructor(private readonly client: WireClient, readonly name: string, private readonly end: () => Promise<void>) {}

  get descriptor(): PortDescriptor {
    return portDescriptor(this);
  }

  describe(kind: BlobKind, name: string): string {
    return kind === 'snapshot' ? `${this.name}/snapshots/${name}.snap` : `${this.name}/packs/${name.slice(0, 2)}/${name}.pack`;
  }

  put(kind: BlobKind, name: string, data: Uint8Array): Promise<void> {
    return putThroughWriter(this, kind, name, data);
  }

  /** Waits for one of the server's MAX_OPEN_BLOBS slots (it refuses more blobs open at once). */
  async create(kind: BlobKind, options: { direct?: boolean } = {}): Promise<BlobWriter> {
    while (this.openWriters >= MAX_OPEN_BLOBS) await new Promise<void>((r) => this.slotWaiters.push(r));
    this.openWriters++;
    const handle = this.nextHandle;
    this.nextHandle = this.nextHandle === 0xffffffff ? 1 : this.nextHandle + 1;
    let open = true;
    const closed = () => {
      if (!open) return;
      open = false;
      this.openWriters--;
      this.slotWaiters.shift()?.();
    };
    return new WireBlobWriter(this.client, handle, kind, options.direct === true, (key) => this.forget(key), closed);
  }

  async get(kind: BlobKind, name: string): Promise<Buffer> {
    checkName(kind, name);
    const parts: Buffer[] = [];
    for (let offset = 0; ; offset += MAX_READ_BYTES) {
      const part = await this.fetch(kind, name, offset, MAX_READ_BYTES);
      parts.push(part);
      if (part.byteLength < MAX_READ_BYTES) return parts.length === 1 ? part : Buffer.concat(parts);
    }
  }

  async readRange(kind: BlobKind, name: string, offset: number, length: number): Promise<Buffer> {
    checkName(kind, name);
    const body = await this.readAhead.read(`${kind}/${name}`, offset, length, async (at, n) => ({ data: await this.fetchLong(kind, name, at, n) }));
    if (body.byteLength < length) {
      const where = this.describe(kind, name);
      throw new FormatError(`${where}: truncated (wanted ${length} bytes at offset ${offset}, blob ends after ${body.byteLength})`, { path: where }, 'TRUNCATED');
    }
    return body;
  }

  private forget(key: string): void {
    this.readAhead.forget(key);
  }

  /** Up to `length` bytes at `offset` (fewer when the blob ends first), in reads the server takes. */
  private async fetchLong(kind: BlobKind, name: string, offset: number, length: number): Promise<Buffer> {
    if (length <= MAX_READ_BYTES) return this.fetch(kind, name, offset, length);
    const parts: Buffer[] = [];
    for (let at = offset; at < offset + length; at += MAX_READ_BYTES) {
      const part = await this.fetch(kind, name, at, Math.min(MAX_READ_BYTES, offset + length - at));
      parts.push(part);
      if (part.byteLength < MAX_READ_BYTES) break;
    }
    return Buffer.concat(parts);
  }

  /** One TBlobRead: up to `length` bytes at `offset` (fewer when the blob ends first). */
  private async fetch(kind: BlobKind, name: string, offset: number, length: number): Promise<Buffer> {
    const body = await this.client.raw(FRAME.TBlobRead, FRAME.RBlobData, encodeJsonBody({ kind, name, offset, length }));
    if (body.byteLength > length) throw new TransportError(`${this.describe(kind, name)}: the server sent ${body.byteLength} bytes for a read of ${length}`, {}, 'PROTOCOL');
    this.bytesFetched += body.byteLength;
    this.requests++;
    // A copy: the frame's bytes are the channel's.
    return Buffer.from(body);
  }

  async size(kind: BlobKind, name: string): Promise<number> {
    const size = await this.stat(kind, name);
    if (size === null) throw this.missing(kind, name);
    return size;
  }

  async exists(kind: BlobKind, name: string): Promise<boolean> {
    return (await this.stat(kind, name)) !== null;
  }

  private async stat(kind: BlobKind, name: string): Promise<number | null> {
    checkName(kind, name);
    return decodeBlobStat(await this.client.json(FRAME.TBlobStat, FRAME.RBlobStat, { kind, name }));
  }

  private missing(kind: BlobKind, name: string): NotFoundError {
    const where = this.describe(kind, name);
    return new NotFoundError(`${where}: ${kind} is missing`, { path: where }, 'MISSING_BLOB');
  }

  async *list(kind: BlobKind): AsyncIterable<string> {
    for (let after = '', last = false; !last;) {
      const page = decodeBlobList(await this.client.json(FRAME.TBlobList, FRAME.RBlobList, { kind, after }));
      yield* page.names;
      last = page.last;
      after = page.names.at(-1) ?? after;
    }
  }

  async remove(kind: BlobKind, name: string): Promise<void> {
    checkName(kind, name);
    this.forget(`${kind}/${name}`);
    await this.client.json(FRAME.TBlobRemove, FRAME.ROk, { kind, name });
  }

  close(): Promise<void> {
    return this.end();
  }
}

/** The server refuses another name as a protocol violation, which ends the session: refused here first. */
function checkName(kind: BlobKind, name: string): void {
  if (!BLOB_NAME.test(name)) throw new FormatError(`invalid ${kind} name '${name}'`);
}

function encodeJsonBody(o: Record<string, unknown>): Uint8Array {
  return Buffer.from(JSON.stringify(o), 'utf8');
}

/**
 * A blob being written on the server: TBlobCreate, TBlobWrite..., TBlobCommit, all pipelined.
 * `write` copies what it is given into its frame, so the caller may reuse its buffers as soon
 * as the promise resolves, which is once the bytes unacknowledged are under WRITE_WINDOW.
 */
class WireBlobWriter implements BlobWriter {
  bytesWritten = 0;
  private readonly sent: Array<{ bytes: number; done: Promise<void> }> = [];
  private unacknowledged = 0;
  private failure: Error | null = null;

  constructor(private readonly client: WireClient, private readonly handle: number, private readonly kind: BlobKind, direct: boolean,
    private readonly written: (key: string) => void, private readonly closed: () => void) {
    this.track(0, client.json(FRAME.TBlobCreate, FRAME.ROk, { kind, handle, direct }).then(() => {}));
  }

  private track(bytes: number, done: Promise<void>): void {
    this.unacknowledged += bytes;
    this.sent.push({ bytes, done: done.then(() => { this.unacknowledged -= bytes; }, (err: Error) => { this.failure ??= err; }) });
  }

  private async settle(limit: number): Promise<void> {
    while (this.sent.length > 0 && (this.unacknowledged > limit || limit === 0)) await this.sent.shift()!.done;
    if (this.failure) throw this.failure;
  }

  async write(data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    if (this.failure) throw this.failure;
    const parts = data instanceof Uint8Array ? [data] : data;
    const total = parts.reduce((n, p) => n + p.byteLength, 0);
    // One copy, into the frames themselves (a frame holds at most MAX_WRITE_BYTES).
    const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts as Uint8Array[], total);
    for (let at = 0; at < total; at += MAX_WRITE_BYTES) {
      const piece = all.subarray(at, Math.min(total, at + MAX_WRITE_BYTES));
      this.track(piece.byteLength, this.client.raw(FRAME.TBlobWrite, FRAME.ROk, encodeBlobWrite(this.handle, piece)).then(() => {}));
    }
    this.bytesWritten += total;
    await this.settle(WRITE_WINDOW);
  }

  async commit(name: string): Promise<void> {
    checkName(this.kind, name);
    await this.settle(0);
    this.written(`${this.kind}/${name}`);
    // The server closes the handle whether the commit succeeds or not.
    try { await this.client.json(FRAME.TBlobCommit, FRAME.ROk, { handle: this.handle, kind: this.kind, name }); } finally { this.closed(); }
  }

  async abort(): Promise<void> {
    await this.client.json(FRAME.TBlobAbort, FRAME.ROk, { handle: this.handle }).catch(() => {});
    this.closed();
  }
}
