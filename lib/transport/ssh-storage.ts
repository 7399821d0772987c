/**
 * BlobStorage over the wire (formats/wire.md §7): the blobs of a store that `fxcp serve` keeps
 * on the other end of an SSH connection. The Store code runs here unchanged, as on s3://: the
 * index is a local cache (ssh-location.ts), packs are written through temporaries the server
 * renames into place, and reads are ranged.
 *
 * Requests are pipelined on the one connection: writes go out without waiting for their
 * acknowledgement (at most WRITE_WINDOW bytes unacknowledged per blob; an error surfaces at
 * the next write or at commit), and reads that continue where the previous read of the same
 * blob ended fetch ahead, in windows doubling from 256 KiB to 8 MiB with the next one asked
 * before it is needed, so a restore walking a pack's records in order is not one round trip
 * per record. A read elsewhere fetches exactly its range: a one-file restore reads only its
 * records.
 *
 * Worker threads reach this storage through a MessagePort (port-storage.ts): `descriptor`
 * makes a new channel each time it is read, served here on the main thread.
 */
import { FormatError, NotFoundError, TransportError } from '../errors/index.js';
import { type BlobKind, type BlobStorage, type BlobWriter, portDescriptor, type PortDescriptor, putThroughWriter } from '../store/index.js';
import { BLOB_NAME, decodeBlobList, decodeBlobStat, encodeBlobWrite, MAX_WRITE_BYTES } from './blob-messages.js';
import type { WireClient } from './wire-client.js';
import { FRAME, MAX_OPEN_BLOBS, MAX_READ_BYTES } from './wire-layout.js';

/** Bytes of one blob's writes sent and not yet acknowledged. */
const WRITE_WINDOW = 16 << 20;
const MIN_WINDOW = 256 * 1024;
const MAX_WINDOW = MAX_READ_BYTES;
/** Read-ahead windows kept (each up to MAX_WINDOW). */
const WINDOWS_KEPT = 8;

interface Window { key: string; start: number; end: number; data: Promise<Buffer> }

export class SshStorage implements BlobStorage {
  private nextHandle = 1;
  private openWriters = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private readonly order = new Map<string, { next: number; window: number }>();
  private windows: Window[] = [];
  /** Bytes received in blob reads (what a restore fetched). */
  bytesFetched = 0;

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
    const key = `${kind}/${name}`;
    const end = offset + length;
    const seen = this.order.get(key);
    const held = length > 0 ? this.covering(key, offset, end) : null;
    const window = held ? seen?.window ?? 0 : seen?.next === offset ? Math.min(Math.max((seen.window) * 2, MIN_WINDOW), MAX_WINDOW) : 0;
    // Where this read ends, noted before any wait: reads asked back to back (a restore keeps
    // several in flight) each see the one before, so in-order reads still read ahead.
    this.order.delete(key); // re-inserted last: the map stays in order of use
    this.order.set(key, { next: end, window });
    if (this.order.size > 256) this.order.delete(this.order.keys().next().value!);
    let body: Buffer;
    if (held) {
      body = await held;
    } else {
      const want = Math.max(length, window);
      const got = await (want > length ? this.ahead(kind, name, key, offset, want) : this.fetch(kind, name, offset, length));
      body = got.subarray(0, Math.min(length, got.byteLength));
    }
    if (body.byteLength < length) {
      const where = this.describe(kind, name);
      throw new FormatError(`${where}: truncated (wanted ${length} bytes at offset ${offset}, blob ends after ${body.byteLength})`, { path: where }, 'TRUNCATED');
    }
    // A copy of a window's bytes: the caller may keep them after the window is dropped.
    return held || window > 0 ? Buffer.from(body) : body;
  }

  /**
   * The bytes [offset, end) from the windows kept, when they hold all of them: one window, or
   * several back to back (a record that straddles two windows); null when they do not.
   */
  private covering(key: string, offset: number, end: number): Promise<Buffer> | null {
    // Each part: a window and where in the blob its share starts (windows may overlap).
    const parts: Array<{ w: Window; from: number }> = [];
    for (let at = offset; at < end;) {
      const w = this.windows.find((x) => x.key === key && x.start <= at && at < x.end);
      if (!w) return null;
      parts.push({ w, from: at });
      at = w.end;
    }
    return Promise.all(parts.map((p) => p.w.data)).then((datas) => {
      const pieces: Buffer[] = [];
      for (const [i, d] of datas.entries()) {
        const { w, from } = parts[i]!;
        const piece = d.subarray(from - w.start, Math.min(d.byteLength, end - w.start));
        pieces.push(piece);
        // A window cut short by the blob's end: nothing after it belongs to this read.
        if (d.byteLength < w.end - w.start) break;
      }
      return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
    });
  }

  /** A read-ahead window at `offset`, and the next one of the same size asked at once. */
  private ahead(kind: BlobKind, name: string, key: string, offset: number, length: number): Promise<Buffer> {
    const keep = (start: number): Window => {
      const w = { key, start, end: start + length, data: this.fetch(kind, name, start, length) };
      w.data.catch(() => {});
      this.windows.push(w);
      if (this.windows.length > WINDOWS_KEPT) this.windows.shift();
      return w;
    };
    const first = keep(offset);
    const next = keep(offset + length);
    // Dropped at once when the blob ends inside the first.
    void first.data.then((d) => { if (d.byteLength < length) this.windows = this.windows.filter((w) => w !== next); }, () => {});
    return first.data;
  }

  private forget(key: string): void {
    this.order.delete(key);
    this.windows = this.windows.filter((w) => w.key !== key);
  }

  /** One TBlobRead: up to `length` bytes at `offset` (fewer when the blob ends first). */
  private async fetch(kind: BlobKind, name: string, offset: number, length: number): Promise<Buffer> {
    const body = await this.client.raw(FRAME.TBlobRead, FRAME.RBlobData, encodeJsonBody({ kind, name, offset, length }));
    if (body.byteLength > length) throw new TransportError(`${this.describe(kind, name)}: the server sent ${body.byteLength} bytes for a read of ${length}`, {}, 'PROTOCOL');
    this.bytesFetched += body.byteLength;
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
