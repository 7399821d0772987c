/**
 * xz decoding whose output per step is bounded, for input nobody vouches for (an imported tar,
 * an archive's chunk records). Pure: bytes in, bytes out.
 *
 * lzma-native's stream and its `decompress` decode each input buffer to its end before they
 * hand out any output: a 157 KB xz of 1 GiB of zeros became 3 GB of memory at once. Its native
 * stream can be driven synchronously instead, one small input piece per call, and how much a
 * piece can expand to is bounded by the format: LZMA's range coder keeps 11-bit probabilities
 * that never pass 2017/2048, so one coded decision costs at least 0.022 bits, and the longest
 * match (273 bytes) takes about 14 decisions. So an input byte yields at most about 7 KB
 * (measured: 6.9 KB on zeros at xz -9), and a piece of IN_PIECE bytes at most about 7 MB. The
 * other filters xz allows (BCJ, delta) never expand. Feeding 1 KiB pieces cost nothing
 * measurable against 64 KiB ones (a 150 MB tar.xz: 12.4 s both ways; decoding dominates).
 *
 * The decoder's own memory is its dictionary, which the stream header declares (xz -9 uses
 * 64 MiB): a stream that needs more than `memlimit` is refused instead of being given it.
 * Concatenated streams (what `compressingSink` writes, and `xz` of several files) are one input.
 */
import { createRequire } from 'node:module';
import { FormatError } from '../errors/index.js';

/** Input bytes per native call: at most ~7 MB of output each (see above). */
const IN_PIECE = 1024;
/** Decoder memory allowed by default: every xz preset (-9e: 65 MiB) fits. */
export const XZ_MEMLIMIT = 128 << 20;

interface NativeStream {
  streamDecoder_(memlimit: number | null, flags: number): void;
  code(input: Uint8Array | null, async: boolean): void;
  resetUnderlying(): void;
  bufferHandler: (buf: Buffer | null | undefined, processed: number | undefined, err: (Error & { name?: string }) | null | undefined) => void;
}
interface Lzma { Stream: new () => NativeStream; CONCATENATED: number }

const require = createRequire(import.meta.url);
let lzma: Lzma | undefined;
const lzmaModule = () => (lzma ??= require('lzma-native') as Lzma);

/** Why decoding stopped: the stream needs more memory than allowed, or it is damaged. */
export type XzProblem = { memory: true; limit: number } | { memory: false; detail: string };

/** The errors of a tar's xz stream (TAR_COMPRESSION). */
export function xzStreamError(p: XzProblem): FormatError {
  return new FormatError(p.memory
    ? `xz stream needs more than ${p.limit >> 20} MiB of memory to decode (a larger dictionary than any xz preset); refused`
    : `xz stream is damaged or truncated: ${p.detail}`, {}, 'TAR_COMPRESSION');
}

export class XzDecoder {
  private readonly s: NativeStream;
  /** Output of the current native call (the native stream hands it over synchronously). */
  private outs: Buffer[] = [];
  private failure: (Error & { name?: string }) | null = null;
  private ended = false;

  /** `fail` makes the error for a problem (the caller's words and code). */
  constructor(private readonly fail: (p: XzProblem) => FormatError = xzStreamError, private readonly memlimit = XZ_MEMLIMIT) {
    const l = lzmaModule();
    this.s = new l.Stream();
    this.s.streamDecoder_(memlimit, l.CONCATENATED);
    // Called synchronously from inside `code`: output pieces, then end (null) or an error.
    this.s.bufferHandler = (buf, _processed, err) => {
      if (err) this.failure = err;
      else if (buf) this.outs.push(buf);
      else if (buf === null) this.ended = true;
    };
  }

  /** Decodes `input`, yielding the output as it comes: at most ~7 MB is produced per step. */
  *write(input: Uint8Array): Generator<Buffer> {
    for (let at = 0; at < input.length; at += IN_PIECE) yield* this.step(input.subarray(at, Math.min(input.length, at + IN_PIECE)));
  }

  /**
   * The input has ended: yields the rest; throws if the stream is incomplete. (The stream ends
   * only here: with concatenation on, liblzma reports the end once told the input is done.)
   */
  *end(): Generator<Buffer> {
    if (!this.ended) yield* this.step(null);
    if (!this.ended) throw this.fail({ memory: false, detail: 'the input ends inside the stream' });
  }

  /** Frees the decoder's memory now rather than at garbage collection. */
  close(): void {
    this.s.resetUnderlying();
  }

  private *step(piece: Uint8Array | null): Generator<Buffer> {
    this.s.code(piece, false);
    const outs = this.outs;
    this.outs = [];
    const f = this.failure;
    if (f) throw this.fail(f.name === 'LZMA_MEMLIMIT_ERROR' ? { memory: true, limit: this.memlimit } : { memory: false, detail: f.message });
    yield* outs;
  }
}

/**
 * Decodes one xz stream that must give exactly `rawLength` bytes (a chunk): fails as soon as
 * the output passes that, so a small record cannot make it allocate more.
 */
export function decodeXzExact(stored: Uint8Array, rawLength: number): Buffer {
  const out = Buffer.allocUnsafe(rawLength);
  let got = 0;
  const d = new XzDecoder((p) => new FormatError(p.memory
    ? `chunk does not decompress with xz: it needs more than ${p.limit >> 20} MiB of memory`
    : `chunk does not decompress with xz: ${p.detail}`));
  try {
    const take = (b: Buffer) => {
      if (got + b.length > rawLength) throw new FormatError(`chunk decompresses with xz to more than the expected ${rawLength} bytes`);
      b.copy(out, got);
      got += b.length;
    };
    for (const b of d.write(stored)) take(b);
    for (const b of d.end()) take(b);
  } finally {
    d.close();
  }
  if (got !== rawLength) throw new FormatError(`chunk decompressed to ${got} bytes, expected ${rawLength}`);
  return out;
}
