/**
 * The client's end of a session (formats/wire.md §2): hello, open, then requests, each answered
 * in order. Requests may be pipelined (sent before earlier ones are answered): replies are
 * matched to the oldest request waiting, and must carry its id.
 *
 * An RError becomes the error of its code's class (docs/errors.md), its message prefixed with
 * `remote: `; a code this fxcp does not know becomes REMOTE_ERROR. After an error that is not
 * recoverable (§2), and after a dropped connection, every request fails with that error.
 */
import { errorFromJSON, isErrorCode, ToolkitError, TransportError } from '../errors/index.js';
import type { Frame } from './frame-codec.js';
import type { FrameChannel } from './frame-channel.js';
import { FRAME, frameName, RECOVERABLE_CODES, WIRE_VERSION } from './wire-layout.js';
import { booleanField, decodeJson, encodeJson, numberField, stringField, type JsonBody } from './wire-messages.js';

interface Waiting {
  id: number;
  request: number;
  reply: number;
  /** Reply frames still to come (TGetChunks: one per id). */
  left: number;
  onFrame: (f: Frame) => void | Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface ServerHello { program: string; version: string; appendOnly: boolean }
export interface OpenedStore { path: string; storeId: string; chunkerMax: number }

export class WireClient {
  private nextId = 1;
  private readonly waiting: Waiting[] = [];
  private failure: Error | null = null;
  private readonly reading: Promise<void>;
  /** Which RError codes leave the session going (§2; a blob session's rule is §7's). */
  recoverable: (code: string) => boolean = (code) => RECOVERABLE_CODES.has(code);

  constructor(readonly channel: FrameChannel, private readonly version: string) {
    this.reading = this.readLoop();
    this.reading.catch(() => {});
  }

  get peer(): string { return this.channel.peer; }

  /** Hello both ways: refuses a server of another wire version (PROTOCOL_VERSION). */
  async hello(): Promise<ServerHello> {
    const r = await this.json(FRAME.THello, FRAME.RHello, { wire: WIRE_VERSION, program: 'fxcp', version: this.version });
    const wire = numberField(r, 'wire', 'RHello');
    if (wire !== WIRE_VERSION) {
      throw this.fail(new TransportError(`${this.peer}: the server speaks wire version ${wire}, this fxcp speaks ${WIRE_VERSION}: upgrade fxcp on the older side`, { local: WIRE_VERSION, remote: wire }, 'PROTOCOL_VERSION'));
    }
    return { program: stringField(r, 'program', 'RHello'), version: stringField(r, 'version', 'RHello'), appendOnly: booleanField(r, 'appendOnly', 'RHello') };
  }

  async open(path: string, create: boolean): Promise<OpenedStore> {
    const r = await this.json(FRAME.TOpen, FRAME.ROpen, { path, create });
    return { path: stringField(r, 'path', 'ROpen'), storeId: stringField(r, 'storeId', 'ROpen'), chunkerMax: numberField(r, 'chunkerMax', 'ROpen') };
  }

  /** A request with a JSON body answered by one JSON reply. */
  async json(type: number, reply: number, body: JsonBody = {}): Promise<JsonBody> {
    let out: JsonBody = {};
    await this.request(type, reply, encodeJson(body), 1, (f) => { out = decodeJson(f.body, frameName(reply)); });
    return out;
  }

  /** A request answered by one frame, whose body is returned (a view of the frame). */
  async raw(type: number, reply: number, body?: Uint8Array): Promise<Uint8Array> {
    let out: Uint8Array = new Uint8Array(0);
    await this.request(type, reply, body, 1, (f) => { out = f.body; });
    return out;
  }

  /**
   * Sends a request, and resolves once `frames` replies of type `reply` were each handed to
   * `onFrame` (awaited in turn, so a slow consumer slows the reading, not the memory). The
   * returned promise settles in request order.
   */
  request(type: number, reply: number, body: Uint8Array | undefined, frames: number, onFrame: Waiting['onFrame']): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId;
    this.nextId = this.nextId === 0xffffffff ? 1 : this.nextId + 1;
    const done = new Promise<void>((resolve, reject) => {
      this.waiting.push({ id, request: type, reply, left: frames, onFrame, resolve, reject });
    });
    done.catch(() => {});
    this.channel.send(type, id, body).catch((err) => this.fail(err as Error));
    return done;
  }

  /** Ends the session politely (TBye; the server seals what it holds) and closes the channel. */
  async bye(): Promise<void> {
    try {
      await this.raw(FRAME.TBye, FRAME.RBye);
    } finally {
      this.channel.close();
    }
  }

  /** Closes without a goodbye (after an error): the server sees its input end. */
  close(): void {
    this.channel.close();
  }

  private async readLoop(): Promise<void> {
    try {
      for await (const f of this.channel.frames()) {
        const w = this.waiting[0];
        if (!w) throw new TransportError(`${this.peer}: sent a ${frameName(f.type)} frame (request id ${f.requestId}) when no request was waiting`, {}, 'PROTOCOL');
        if (f.requestId !== w.id) throw new TransportError(`${this.peer}: answered request ${f.requestId} when request ${w.id} was waiting`, {}, 'PROTOCOL');
        if (f.type === FRAME.RError) {
          this.waiting.shift();
          const err = remoteError(decodeJson(f.body, 'RError'), this.peer);
          if (!this.recoverable(err.code)) this.fail(err);
          w.reject(err);
          continue;
        }
        if (f.type !== w.reply) throw new TransportError(`${this.peer}: answered ${frameName(w.request)} with ${frameName(f.type)}`, {}, 'PROTOCOL');
        try {
          await w.onFrame(f);
        } catch (err) {
          this.waiting.shift();
          w.reject(err as Error);
          throw err;
        }
        if (--w.left === 0) {
          this.waiting.shift();
          w.resolve();
        }
      }
      throw new TransportError(`${this.peer}: the connection closed`);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Fails the session: every waiting and later request rejects with `err` (the first failure). */
  private fail(err: Error): Error {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
    return this.failure;
  }
}

/** The error an RError body describes, raised here. */
export function remoteError(body: JsonBody, peer: string): ToolkitError {
  const code = typeof body.code === 'string' ? body.code : 'REMOTE_ERROR';
  const message = `${peer}: remote: ${typeof body.message === 'string' ? body.message : '(no message)'}`;
  if (isErrorCode(code)) return errorFromJSON({ code, message, remote: true }) as ToolkitError;
  return new TransportError(message, { remoteCode: code }, 'REMOTE_ERROR');
}
