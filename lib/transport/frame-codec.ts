/**
 * The frame codec of the wire protocol (formats/wire.md §1), pure: bytes in, frames out, and
 * frames to bytes. No stream, no socket: frame-channel.ts puts it on a duplex.
 *
 * The decoder holds at most one partial frame (at most MAX_FRAME_BYTES): a length is checked
 * before anything is allocated for it, so a peer cannot make it hold more.
 */
import { TransportError } from '../errors/index.js';
import { FRAME_HEADER_BYTES, frameName, isReply, isRequest, MAX_FRAME_BYTES, MIN_FRAME_LENGTH, PREAMBLE } from './wire-layout.js';

export interface Frame {
  type: number;
  requestId: number;
  body: Uint8Array;
}

/** Which side reads: a client reads replies, a server reads requests. */
export type ReaderRole = 'client' | 'server';

/** One frame's bytes: header and body. */
export function encodeFrame(type: number, requestId: number, body: Uint8Array = EMPTY): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  out.set(encodeFrameHeader(type, requestId, body.length));
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

/** The 9 header bytes of a frame whose body is `bodyLength` bytes (the body is written after them, uncopied). */
export function encodeFrameHeader(type: number, requestId: number, bodyLength: number): Uint8Array {
  const length = MIN_FRAME_LENGTH + bodyLength;
  if (length > MAX_FRAME_BYTES) throw new TransportError(`wire: a ${frameName(type)} frame of ${length} bytes is over the ${MAX_FRAME_BYTES}-byte limit`, {}, 'PROTOCOL');
  const out = new Uint8Array(FRAME_HEADER_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(0, length, true);
  out[4] = type;
  v.setUint32(5, requestId >>> 0, true);
  return out;
}

const EMPTY = new Uint8Array(0);

/**
 * Turns the bytes of one direction of a stream into frames: the preamble first, then frames.
 * `push` returns the frames completed by the bytes given (in order) and throws PROTOCOL on the
 * first thing a reader must refuse; after a throw the decoder is unusable. `end` throws
 * TRANSPORT when the stream stopped inside the preamble or a frame.
 */
export class FrameDecoder {
  private preambleSeen = 0;
  private readonly preambleGot = new Uint8Array(PREAMBLE.length);
  /** Bytes of the frame being assembled (header, then the whole frame once its length is known). */
  private buf: Uint8Array = new Uint8Array(FRAME_HEADER_BYTES);
  private have = 0;
  private need = FRAME_HEADER_BYTES;
  private broken: Error | null = null;

  constructor(private readonly role: ReaderRole, private readonly peer = 'peer') {}

  push(bytes: Uint8Array): Frame[] {
    if (this.broken) throw this.broken;
    try {
      return this.take(bytes);
    } catch (err) {
      this.broken = err as Error;
      throw err;
    }
  }

  /** The stream ended: fine between frames, a dropped connection anywhere else. */
  end(): void {
    if (this.broken) return;
    if (this.preambleSeen < PREAMBLE.length) {
      throw new TransportError(`${this.peer}: the connection closed before the fxcp wire protocol started${this.preambleSeen === 0 ? ' (nothing was received)' : ''}`);
    }
    if (this.have > 0) throw new TransportError(`${this.peer}: the connection closed in the middle of a frame`);
  }

  private take(bytes: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let at = 0;
    while (this.preambleSeen < PREAMBLE.length && at < bytes.length) {
      this.preambleGot[this.preambleSeen] = bytes[at]!;
      if (bytes[at] !== PREAMBLE[this.preambleSeen]) throw this.notWire(bytes, at);
      this.preambleSeen++;
      at++;
    }
    while (at < bytes.length) {
      const n = Math.min(this.need - this.have, bytes.length - at);
      this.buf.set(bytes.subarray(at, at + n), this.have);
      this.have += n;
      at += n;
      if (this.have < this.need) break;
      if (this.need === FRAME_HEADER_BYTES) {
        const length = new DataView(this.buf.buffer, this.buf.byteOffset, 4).getUint32(0, true);
        if (length < MIN_FRAME_LENGTH || length > MAX_FRAME_BYTES) {
          throw new TransportError(`${this.peer}: frame length ${length} is outside ${MIN_FRAME_LENGTH}..${MAX_FRAME_BYTES}`, {}, 'PROTOCOL');
        }
        this.checkType(this.buf[4]!);
        if (length > MIN_FRAME_LENGTH) {
          const whole = new Uint8Array(4 + length);
          whole.set(this.buf.subarray(0, FRAME_HEADER_BYTES));
          this.buf = whole;
          this.need = whole.length;
          continue;
        }
      }
      frames.push(this.frame());
    }
    return frames;
  }

  private frame(): Frame {
    const b = this.buf;
    const f = { type: b[4]!, requestId: new DataView(b.buffer, b.byteOffset + 5, 4).getUint32(0, true), body: b.subarray(FRAME_HEADER_BYTES, this.need) };
    this.buf = new Uint8Array(FRAME_HEADER_BYTES);
    this.have = 0;
    this.need = FRAME_HEADER_BYTES;
    return f;
  }

  private checkType(type: number): void {
    const ok = this.role === 'client' ? isReply(type) : isRequest(type);
    if (ok) return;
    const what = isReply(type) || isRequest(type) ? `a ${frameName(type)} frame, which a ${this.role} never receives` : `an unknown frame type ${frameName(type)}`;
    throw new TransportError(`${this.peer}: sent ${what}`, {}, 'PROTOCOL');
  }

  /** The refusal of a stream that does not start with the preamble, quoting what came instead. */
  private notWire(bytes: Uint8Array, at: number): TransportError {
    const got = Buffer.concat([this.preambleGot.subarray(0, this.preambleSeen), bytes.subarray(at, at + 40)]);
    const text = JSON.stringify(got.toString('latin1').replace(/[^\x20-\x7e]/g, '.'));
    return new TransportError(`${this.peer}: does not speak the fxcp wire protocol (it sent ${text}; a login script printing to stdout, or a forced command that is not 'fxcp serve --stdio', does this)`, {}, 'PROTOCOL');
  }
}
