/**
 * Framed messages over any duplex (formats/wire.md §1): an SSH exec channel, a child process's
 * pipes, stdin/stdout of `fxcp serve`, or an in-memory pair in tests. The duplex is given as
 * what is read (an async iterable of bytes: a Node Readable is one) and what is written (a Node
 * Writable); this file knows nothing of where they lead.
 *
 * Writes honour backpressure: `send` writes at once (frames stay in the order they were sent)
 * and then, when the writable's buffer is full, waits for 'drain' (every sender waiting at that
 * moment shares one wait), so a sender that awaits its sends holds at most the high-water mark
 * plus one frame; a request pipelined without awaiting is bounded by its caller (push-snapshots.ts
 * keeps PUT_WINDOW_BYTES unacknowledged at most). The body is written after its 9-byte header,
 * never copied into one buffer with it. Reads hold at most
 * one frame (FrameDecoder). Both directions count their bytes (what `snap push` prints).
 */
import type { Writable } from 'node:stream';
import { TransportError } from '../errors/index.js';
import { encodeFrameHeader, type Frame, FrameDecoder, type ReaderRole } from './frame-codec.js';
import { PREAMBLE } from './wire-layout.js';

export class FrameChannel {
  bytesSent = 0;
  bytesReceived = 0;
  private preambleSent = false;
  private writeError: Error | null = null;
  private closed = false;

  /**
   * `role`: which side this is (a client reads replies); `peer` names the other side in
   * messages (`ssh://host/path`, `client`).
   */
  constructor(private readonly input: AsyncIterable<Uint8Array>, private readonly output: Writable, readonly role: ReaderRole, readonly peer: string) {
    output.on('error', (err: Error) => { this.writeError ??= this.dropped(err); });
  }

  /**
   * Sends one frame (the preamble first, once); resolves when the writable can take more. Not an
   * async function on purpose: a suspended one keeps its arguments alive, and senders that do
   * not await (pipelined requests) would each hold their body until the next 'drain', which a
   * writer that keeps the buffer busy may not see for the whole transfer (a first push held
   * hundreds of MiB that way). The wait returned is the one shared by every sender.
   */
  send(type: number, requestId: number, body?: Uint8Array): Promise<void> {
    if (this.writeError) return Promise.reject(this.writeError);
    if (this.closed) return Promise.reject(new TransportError(`${this.peer}: the connection is closed`));
    if (!this.preambleSent) {
      this.preambleSent = true;
      this.write(PREAMBLE);
    }
    let room = this.write(encodeFrameHeader(type, requestId, body?.length ?? 0));
    if (body && body.length > 0) room = this.write(body);
    if (room) return Promise.resolve();
    return (this.draining ??= this.drained().finally(() => { this.draining = null; }));
  }

  private draining: Promise<void> | null = null;

  /** The frames the peer sends, until its stream ends (TRANSPORT when that is inside a frame). */
  async *frames(): AsyncGenerator<Frame> {
    const decoder = new FrameDecoder(this.role, this.peer);
    try {
      for await (const bytes of this.input) {
        this.bytesReceived += bytes.length;
        for (const f of decoder.push(bytes)) yield f;
      }
    } catch (err) {
      if (err instanceof TransportError) throw err;
      throw this.dropped(err as Error);
    }
    decoder.end();
  }

  /** Ends the writing side (the peer then sees the end of its input). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.output.end();
  }

  private write(bytes: Uint8Array): boolean {
    this.bytesSent += bytes.length;
    return this.output.write(bytes);
  }

  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        this.output.off('drain', onDrain);
        this.output.off('close', onClose);
        this.output.off('error', onError);
        if (err) reject(err); else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(this.writeError ?? new TransportError(`${this.peer}: the connection closed`));
      const onError = (e: Error) => done(this.dropped(e));
      this.output.on('drain', onDrain);
      this.output.on('close', onClose);
      this.output.on('error', onError);
    });
  }

  private dropped(err: Error): TransportError {
    return new TransportError(`${this.peer}: the connection dropped (${err.message})`, {}, 'TRANSPORT');
  }
}
