/**
 * The server's end of a session (formats/wire.md §2): `fxcp serve --stdio` runs one on its
 * stdin and stdout. Requests are handled one at a time, in order, so replies go out in order
 * and a THaveChunks sees every TPutChunks before it.
 *
 * The store is opened (with its shared lock, created for a push) by `openStore`, a parameter:
 * this file reads no argv and knows no CLI. The session ends at TBye, at the end of the
 * client's input, or after an error that is not recoverable (an RError is sent first, when
 * the channel still works). What it leaves on a cut (formats/wire.md §4): the verified chunks
 * it took, sealed into durable packs, and no snapshot record that was not committed.
 */
import { NotFoundError, ToolkitError, TransportError, errorToJSON } from '../errors/index.js';
import type { Warn } from '../errors/index.js';
import { listSnapshots } from '../snapshot/snapshot-catalogue.js';
import type { Store } from '../store/index.js';
import type { Frame } from './frame-codec.js';
import type { FrameChannel } from './frame-channel.js';
import { BlobSession, type BlobServeOptions } from './blob-serve.js';
import { ChunkReceiver } from './chunk-receiver.js';
import { allowedStorePath, type PathRules } from './serve-path.js';
import { SnapshotChunks } from './snapshot-chunks.js';
import { FRAME, frameName, MAX_BATCH_IDS, MAX_CHUNK_BYTES, RECOVERABLE_CODES, WIRE_VERSION } from './wire-layout.js';
import {
  booleanField, decodeChunkRecords, decodeIds, decodeJson, encodeBitmap, encodeChunkRecords, encodeJson, encodeWalkPage,
  hexIdField, numberField, stringField,
} from './wire-messages.js';

export interface ServeOptions extends PathRules, BlobServeOptions {
  /** This fxcp's version, told in RHello. */
  version: string;
  openStore: <T>(path: string, create: boolean, fn: (store: Store) => Promise<T>) => Promise<T>;
  onWarn?: Warn;
  signal?: AbortSignal;
}

/** Runs one session to its end; throws the error that ended it (after telling the client). */
export async function serveSession(channel: FrameChannel, opts: ServeOptions): Promise<void> {
  const frames = channel.frames();
  const next = async (): Promise<Frame | null> => {
    const r = await frames.next();
    return r.done ? null : r.value;
  };
  const hello = await next();
  if (!hello) return;
  try {
    if (hello.type !== FRAME.THello) throw new TransportError(`${channel.peer}: the first frame is ${frameName(hello.type)}, not THello`, {}, 'PROTOCOL');
    const wire = numberField(decodeJson(hello.body, 'THello'), 'wire', 'THello');
    if (wire !== WIRE_VERSION) {
      throw new TransportError(`this server speaks wire version ${WIRE_VERSION}, the client speaks ${wire}: upgrade fxcp on the older side`, { local: WIRE_VERSION, remote: wire }, 'PROTOCOL_VERSION');
    }
    await channel.send(FRAME.RHello, hello.requestId, encodeJson({ wire: WIRE_VERSION, program: 'fxcp', version: opts.version, appendOnly: opts.appendOnly }));
  } catch (err) {
    await sendError(channel, hello.requestId, err);
    throw err;
  }
  const open = await next();
  if (!open) return;
  if (open.type === FRAME.TOpenBlobs) return serveBlobs(channel, open, next, opts);
  let session: Session | null = null;
  try {
    if (open.type !== FRAME.TOpen) throw new TransportError(`${channel.peer}: sent ${frameName(open.type)} before TOpen`, {}, 'PROTOCOL');
    const body = decodeJson(open.body, 'TOpen');
    const path = allowedStorePath(stringField(body, 'path', 'TOpen'), opts);
    const create = booleanField(body, 'create', 'TOpen');
    await opts.openStore(path, create, async (store) => {
      if (store.config.chunker.max > MAX_CHUNK_BYTES) {
        throw new ToolkitError('UNSUPPORTED', `${store.root}: the store's chunks may be up to ${store.config.chunker.max} bytes, more than the wire protocol carries (${MAX_CHUNK_BYTES})`, { path: store.root });
      }
      const s = new Session(channel, store, opts);
      session = s;
      await channel.send(FRAME.ROpen, open.requestId, encodeJson({ path: store.root, storeId: store.config.id, chunkerMax: store.config.chunker.max }));
      try {
        await s.run(next);
      } catch (err) {
        // A dropped connection (a killed client): every chunk taken is verified, so what is
        // held is sealed and kept for the next run to reuse; anything else (a chunk that did
        // not verify, a protocol error) drops what is not sealed yet. Here, while the store is
        // open: the receiver verifies in batches, so some chunks may still be waiting.
        if (err instanceof ToolkitError && err.code === 'TRANSPORT') await s.receiver.flush().catch(() => s.receiver.abort());
        else await s.receiver.abort();
        throw err;
      }
    });
  } catch (err) {
    const s = session as Session | null;
    await sendError(channel, s?.current ?? open.requestId, err);
    throw err;
  } finally {
    await (session as Session | null)?.receiver.close();
    channel.close();
  }
}

/** A blob session (formats/wire.md §7): the client runs the Store code, this side keeps the files. */
async function serveBlobs(channel: FrameChannel, open: Frame, next: () => Promise<Frame | null>, opts: ServeOptions): Promise<void> {
  let session: BlobSession | null = null;
  try {
    const path = allowedStorePath(stringField(decodeJson(open.body, 'TOpenBlobs'), 'path', 'TOpenBlobs'), opts);
    session = new BlobSession(channel, path, opts);
    await channel.send(FRAME.ROpenBlobs, open.requestId, session.opened());
    await session.run(next);
  } catch (err) {
    await sendError(channel, session?.current ?? open.requestId, err);
    throw err;
  } finally {
    channel.close();
  }
}

async function sendError(channel: FrameChannel, requestId: number, err: unknown): Promise<void> {
  const json = errorToJSON(err);
  await channel.send(FRAME.RError, requestId, encodeJson({ code: String(json.code), message: String(json.message) })).catch(() => {});
}

class Session {
  readonly receiver: ChunkReceiver;
  private walker: SnapshotChunks | null = null;
  /** The request being handled (its id goes on an RError). */
  current = 0;

  constructor(private readonly channel: FrameChannel, private readonly store: Store, private readonly opts: ServeOptions) {
    this.receiver = new ChunkReceiver(store, channel.peer, opts.onWarn);
  }

  async run(next: () => Promise<Frame | null>): Promise<void> {
    for (let f = await next(); f; f = await next()) {
      this.current = f.requestId;
      try {
        if (await this.handle(f)) return;
      } catch (err) {
        if (!(err instanceof ToolkitError) || !RECOVERABLE_CODES.has(err.code)) throw err;
        await sendError(this.channel, f.requestId, err);
      }
    }
    // The client's input ended without TBye (a killed client, or one whose own store failed to
    // open): what it sent is sealed and kept (all of it verified), no record is written, and
    // the session fails, so a store it created and left empty is removed (open-store.ts).
    await this.receiver.flush();
    throw new TransportError(`${this.channel.peer}: the connection closed before the session ended`, {}, 'TRANSPORT');
  }

  /** Handles one request; true after TBye. */
  private async handle(f: Frame): Promise<boolean> {
    const reply = (type: number, body?: Uint8Array) => this.channel.send(type, f.requestId, body);
    switch (f.type) {
      case FRAME.TListSnapshots: {
        const snapshots = listSnapshots(this.store).map(({ id, record: r }) => ({ id, time: r.time, source: r.source, host: r.host, tags: r.tags }));
        await reply(FRAME.RSnapshots, encodeJson({ snapshots }));
        return false;
      }
      case FRAME.THaveChunks: {
        const ids = decodeIds(f.body, 'THaveChunks');
        if (!this.store.readOnly) await this.receiver.prepare();
        await reply(FRAME.RHaveChunks, encodeBitmap(ids.map((id) => this.receiver.has(id))));
        return false;
      }
      case FRAME.TPutChunks: {
        this.writable('add chunks');
        const chunks = decodeChunkRecords(f.body, 'TPutChunks');
        for (const c of chunks) await this.receiver.add(c);
        await reply(FRAME.RPutChunks, encodeJson({ chunks: chunks.length }));
        return false;
      }
      case FRAME.TPutSnapshot: {
        this.writable('add a snapshot');
        const r = await this.receiver.commit(Buffer.from(f.body));
        await reply(FRAME.RPutSnapshot, encodeJson(r));
        return false;
      }
      case FRAME.TWalk: {
        const body = decodeJson(f.body, 'TWalk');
        const id = hexIdField(body, 'snapshot', 'TWalk');
        const all = listSnapshots(this.store);
        const snap = all.find((s) => s.id === id);
        if (!snap) throw new NotFoundError(`${this.store.root}: no snapshot ${id.slice(0, 12)}`, { path: this.store.root }, 'NO_SNAPSHOT');
        // The client holds `base` whole (it lists it): only a snapshot listed here too is used.
        const baseId = body.base === undefined ? undefined : hexIdField(body, 'base', 'TWalk');
        const base = baseId === undefined ? undefined : all.find((s) => s.id === baseId);
        this.walker ??= new SnapshotChunks(this.store, this.opts.signal);
        this.walker.start(Buffer.from(snap.record.tree, 'hex'), base && Buffer.from(base.record.tree, 'hex'));
        const page = await this.walker.next();
        await reply(FRAME.RWalkIds, encodeWalkPage(page.last, page.entries));
        return false;
      }
      case FRAME.TWalkNext: {
        const page = this.walker ? await this.walker.next() : { last: true, entries: [] };
        await reply(FRAME.RWalkIds, encodeWalkPage(page.last, page.entries));
        return false;
      }
      case FRAME.TGetChunks: {
        const ids = decodeIds(f.body, 'TGetChunks');
        for (const id of ids) {
          const loc = this.store.locate(id);
          const { codec, stored } = await this.store.readPortable(id, loc);
          await reply(FRAME.RChunk, encodeChunkRecords([{ id, type: loc.type, codec, rawLength: loc.rawLength, stored }]));
        }
        return false;
      }
      case FRAME.TGetSnapshot: {
        const id = hexIdField(decodeJson(f.body, 'TGetSnapshot'), 'id', 'TGetSnapshot');
        if (!this.store.index.hasSnapshot(id)) throw new NotFoundError(`${this.store.root}: no snapshot ${id.slice(0, 12)}`, { path: this.store.root }, 'NO_SNAPSHOT');
        await reply(FRAME.RSnapshotRecord, await this.store.verifySnapshotFile(id));
        return false;
      }
      case FRAME.TForget: {
        const body = decodeJson(f.body, 'TForget');
        const ids = body.ids;
        if (!Array.isArray(ids) || ids.length > MAX_BATCH_IDS || !ids.every((x) => typeof x === 'string' && /^[0-9a-f]{64}$/.test(x))) {
          throw new TransportError(`TForget: field 'ids' is not a list of at most ${MAX_BATCH_IDS} snapshot ids`, {}, 'PROTOCOL');
        }
        if (this.opts.appendOnly) {
          throw new ToolkitError('APPEND_ONLY', `${this.store.root}: this server is append-only (--append-only): it adds snapshots but never deletes them; forget and prune on the server itself`, { path: this.store.root });
        }
        this.writable('forget snapshots');
        const present = (ids as string[]).filter((id) => this.store.index.hasSnapshot(id));
        await this.store.removeSnapshots(present);
        await reply(FRAME.RForget, encodeJson({ removed: present.length }));
        return false;
      }
      case FRAME.TBye:
        await this.receiver.flush();
        await reply(FRAME.RBye);
        return true;
      default:
        throw new TransportError(`${this.channel.peer}: sent ${frameName(f.type)}, which is not a request after TOpen`, {}, 'PROTOCOL');
    }
  }

  private writable(what: string): void {
    if (this.store.readOnly) throw new ToolkitError('READ_ONLY', `${this.store.root}: the store is read-only here: cannot ${what}`, { path: this.store.root });
  }
}

