/**
 * Whole-stream zstd and xz decoding on the calling thread, driven by the reader: each step
 * decodes only as far as the next output piece, so memory is bounded whatever the input
 * expands to (a 33 KB zstd of 1 GiB of zeros; a 4.5 GiB stream). A Node transform cannot
 * promise that: zstd-napi's DecompressStream and lzma-native's stream decode every input
 * buffer to its end and queue all the output before the reader can say stop (a 33 KB
 * .tar.zst took 2.2 GB, the .xz form 3 GB). gzip keeps node:zlib's transform, which stops
 * decoding while its output waits unread; lz4 is decoded block by block (tar-compress.ts).
 *
 * Memory: one OUT_BYTES piece being filled, plus for xz one native step's output (at most
 * ~7 MB, see codec/xz-decoder.ts), plus the decoder's window: zstd refuses frames whose window
 * is over 128 MiB (zstd's default limit), xz streams that need over XZ_MEMLIMIT.
 */
import { createRequire } from 'node:module';
import { FormatError } from '../errors/index.js';
import { XzDecoder } from '../codec/xz-decoder.js';

/** Output piece size: what the tar reader gets at a time. */
const OUT_BYTES = 1 << 20;
const require = createRequire(import.meta.url);

/**
 * The error for a whole-stream decoder's failure. zstd refuses a frame whose window is over
 * its default limit (2^27, 128 MiB: `zstd --long=28` and up) before it allocates that window:
 * not damage, so said as what it is.
 */
export function streamError(kind: string, err: unknown): FormatError {
  const message = (err as Error)?.message ?? String(err);
  if (kind === 'zstd' && /too much memory/i.test(message)) {
    return new FormatError('zstd stream needs a window over 128 MiB to decode (made with zstd --long=28 or more); refused', {}, 'TAR_COMPRESSION');
  }
  return new FormatError(`${kind} stream is damaged or truncated: ${message}`, {}, 'TAR_COMPRESSION');
}

/** zstd (any number of frames) through the bare binding: output straight into OUT_BYTES pieces. */
export async function* zstdDecode(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const binding = require('zstd-napi/binding.js') as typeof import('zstd-napi/binding.js');
  const dctx = new binding.DCtx();
  let out = Buffer.allocUnsafe(OUT_BYTES);
  let used = 0;
  let inFrame = false;
  for await (const chunk of source) {
    // An empty input would read as "a frame is about to start" below.
    if (chunk.byteLength === 0) continue;
    let src = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (;;) {
      let ret: number, produced: number, consumed: number;
      try {
        [ret, produced, consumed] = dctx.decompressStream(out.subarray(used), src);
      } catch (err) {
        throw streamError('zstd', err);
      }
      const space = out.length - used;
      used += produced;
      src = src.subarray(consumed);
      if (used === out.length) {
        yield out;
        out = Buffer.allocUnsafe(OUT_BYTES);
        used = 0;
      }
      // Done with this input once it is all consumed and the decoder had room to spare (so it
      // holds no more output), or a frame just ended.
      if (src.length === 0 && (produced < space || ret === 0)) {
        inFrame = ret !== 0;
        break;
      }
    }
  }
  if (inFrame) throw streamError('zstd', new Error('the input ends inside a frame'));
  if (used > 0) yield out.subarray(0, used);
}

/** xz (any number of concatenated streams), gathered into pieces of about OUT_BYTES. */
export async function* xzDecode(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const d = new XzDecoder();
  let parts: Buffer[] = [];
  let n = 0;
  const take = () => {
    const b = parts.length === 1 ? parts[0] : Buffer.concat(parts, n);
    parts = [];
    n = 0;
    return b;
  };
  try {
    for await (const chunk of source) {
      for (const b of d.write(chunk)) {
        parts.push(b);
        n += b.length;
        if (n >= OUT_BYTES) yield take();
      }
    }
    for (const b of d.end()) { parts.push(b); n += b.length; }
    if (n > 0) yield take();
  } finally {
    d.close();
  }
}
