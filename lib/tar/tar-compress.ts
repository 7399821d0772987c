/**
 * Whole-stream compression around a tar: detection by content (magic numbers, never the file
 * name), streaming decompression of the input and streaming compression of the output.
 * Decompression is bounded in memory whatever the input expands to (bounded-decode.ts).
 *
 *   zstd  28 B5 2F FD     zstd-napi; decoded by bounded-decode.ts (multi-frame input is fine)
 *   gzip  1F 8B           node:zlib (concatenated members are read as one stream)
 *   xz    FD 37 7A 58 5A 00  lzma-native; decoded by bounded-decode.ts (concatenated streams too)
 *   lz4   04 22 4D 18     lz4 frames; see below
 *
 * Output of every kind is a sequence of independent frames (compressingSink). lz4-napi only
 * offers whole-buffer calls, which that fits. lz4 input is decoded block by block: each block of a frame
 * with independent blocks (the lz4 CLI default) is at most 4 MiB and is decoded on its own, so
 * memory stays bounded. Not supported: frames with linked blocks (`lz4 -BD`), refused with a
 * FormatError. Frame and block checksums (xxHash32) are not verified: the tar checksums and the
 * store's own hashing still catch damage to headers, not to file data inside such a frame.
 */
import { createRequire } from 'node:module';
import { pipeline } from 'node:stream/promises';
import type { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { FormatError, ToolkitError, UsageError } from '../errors/index.js';
import { defaultPoolSize, WorkerPool } from '../util/worker-pool.js';
import type { ByteSink } from '../util/byte-sink.js';
import { StreamReader } from '../util/stream-reader.js';
import { sniffCompression } from '../fxar/archive-kind.js';
import { xzDecode, zstdDecode } from './bounded-decode.js';
import type { FrameJob, FrameResult } from './compress-worker.js';

export type TarCompression = 'none' | 'zstd' | 'gzip' | 'xz' | 'lz4';

const require = createRequire(import.meta.url);
type Lz4 = { uncompressSync(b: Uint8Array): Buffer };
let lz4: Lz4 | undefined;
const lz4m = () => (lz4 ??= require('lz4-napi') as Lz4);

/** Tar bytes per compressed frame on output (see compressingSink). */
const FRAME_INPUT = 4 << 20;
const LZ4_MAGIC = 0x184d2204;

/** The compression a stream starts with, 'none' for anything else (the tar parser then judges). */
export function detectCompression(head: Uint8Array): TarCompression | 'bzip2' {
  return sniffCompression(head) ?? 'none';
}

/** Runs a source through a Node transform, as an async iterable (the edge where Node streams live). */
async function* through(source: AsyncIterable<Uint8Array>, t: Transform, what: string): AsyncGenerator<Uint8Array> {
  let failed: unknown = null;
  const pumping = pipeline(source, t).catch((err) => { failed = err; t.destroy(err as Error); });
  try {
    for await (const c of t) yield c as Uint8Array;
    await pumping;
  } catch (err) {
    throw decodeError(failed ?? err, what);
  } finally {
    t.destroy();
  }
  if (failed) throw decodeError(failed, what);
}

function decodeError(err: unknown, what: string): unknown {
  if (err instanceof ToolkitError) return err;
  return new FormatError(`${what} stream is damaged or truncated: ${(err as Error)?.message ?? String(err)}`, {}, 'TAR_COMPRESSION');
}

/**
 * Decompresses a stream of the given kind, as far as the reader reads. node:zlib's transform
 * stops decoding while its output waits unread, so gzip may go through one; zstd's and xz's
 * transforms do not (they decode each input buffer whole), hence bounded-decode.ts.
 */
export function decompress(source: AsyncIterable<Uint8Array>, kind: TarCompression): AsyncIterable<Uint8Array> {
  switch (kind) {
    case 'none': return source;
    case 'zstd': return zstdDecode(source);
    case 'gzip': return through(source, createGunzip(), 'gzip');
    case 'xz': return xzDecode(source);
    case 'lz4': return lz4Decode(source);
  }
}

async function* lz4Decode(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const src = new StreamReader(source);
  const need = async (n: number, what: string) => {
    const b = await src.read(n);
    if (b.length < n) throw new FormatError(`lz4 offset ${src.offset}: stream is truncated (in ${what})`, {}, 'TAR_COMPRESSION');
    return b;
  };
  try {
    for (let frames = 0; ; frames++) {
      const m = await src.read(4);
      if (m.length === 0 && frames > 0) return;
      if (m.length < 4) throw new FormatError(`lz4 offset ${src.offset}: stream is truncated (in a frame header)`, {}, 'TAR_COMPRESSION');
      const magic = m.readUInt32LE(0);
      if ((magic & 0xfffffff0) === 0x184d2a50) { // skippable frame
        await need((await need(4, 'a skippable frame')).readUInt32LE(0), 'a skippable frame');
        continue;
      }
      if (magic !== LZ4_MAGIC) throw new FormatError(`lz4 offset ${src.offset - 4}: not an lz4 frame (bad magic)`, {}, 'TAR_COMPRESSION');
      const [flg, bd] = await need(2, 'a frame header');
      if (flg >> 6 !== 1) throw new FormatError(`lz4 offset ${src.offset}: unsupported lz4 frame version`, {}, 'TAR_COMPRESSION');
      if (!(flg & 0x20)) throw new FormatError('lz4 frames with linked blocks (lz4 -BD) are not supported; recompress with plain lz4', {}, 'TAR_COMPRESSION');
      const blockMax = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20][(bd >> 4) & 7];
      if (!blockMax) throw new FormatError(`lz4 offset ${src.offset}: bad lz4 block size code`, {}, 'TAR_COMPRESSION');
      await need((flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0) + 1, 'a frame header');
      for (;;) {
        const word = (await need(4, 'a block header')).readUInt32LE(0);
        if (word === 0) break;
        const n = word & 0x7fffffff;
        if (n > blockMax) throw new FormatError(`lz4 offset ${src.offset}: block of ${n} bytes exceeds the frame's ${blockMax}`, {}, 'TAR_COMPRESSION');
        const blk = await need(n, 'a block');
        if (flg & 0x10) await need(4, 'a block checksum');
        if (word & 0x80000000) { yield Buffer.from(blk); continue; }
        const framed = Buffer.allocUnsafe(4 + n);
        framed.writeUInt32LE(blockMax, 0);
        blk.copy(framed, 4);
        let out: Buffer;
        try { out = lz4m().uncompressSync(framed); } catch (err) {
          throw new FormatError(`lz4 offset ${src.offset}: damaged block: ${(err as Error).message}`, {}, 'TAR_COMPRESSION');
        }
        yield out;
      }
      if (flg & 0x04) await need(4, 'a content checksum');
    }
  } finally {
    await src.close();
  }
}


export interface CompressingSink extends ByteSink { end(): Promise<void>; abort(): Promise<void> }

/**
 * Wraps `sink` so that what is written reaches it compressed with `kind`. The stream is cut
 * into FRAME_INPUT blocks, each compressed on its own by a pool of worker threads into a
 * self-contained frame (zstd frame, gzip member, xz stream, lz4 frame) and written in order:
 * the concatenation is one valid stream for every decompressor, compression runs on all cores
 * beside the main thread's chunk loading, and memory is bounded by the frames in flight. Cost:
 * no back-references across blocks (measured on the `mixed` set at zstd -3: no loss; xz loses
 * a little of its 8 MiB window).
 */
export function compressingSink(sink: ByteSink, kind: TarCompression, level?: number, workers?: number): CompressingSink {
  if (kind === 'none') return { write: (b) => sink.write(b), end: async () => {}, abort: async () => {} };
  if (!['zstd', 'gzip', 'xz', 'lz4'].includes(kind)) throw new UsageError(`unknown tar compression '${String(kind)}'`);
  const pool = new WorkerPool('tar/compress-worker.js', null, Math.min(defaultPoolSize(workers), 4), 2);
  const inflight: Array<Promise<FrameResult>> = [];
  const maxInflight = pool.size * 2;
  // Block buffers come back from the workers with their frames and carry later blocks, and a
  // frame's buffer, once the sink is done with it, is the output space of a later zstd frame:
  // no fresh multi-MiB allocation (and its page faults) per block.
  const spare: Uint8Array[] = [];
  const spareOut: Uint8Array[] = [];
  // One frame is written while the caller goes on (loading and copying the next blocks): the
  // writes are kept in order by waiting for the previous one first. A failed write is thrown
  // by the next call to `written` or by `end`.
  let writing: Promise<void> = Promise.resolve();
  const written = async (r: FrameResult) => {
    spare.push(r.data);
    await writing;
    writing = sink.write(r.frame).then(() => { if (kind === 'zstd') spareOut.push(new Uint8Array(r.frame.buffer)); });
    writing.catch(() => {});
  };
  // The block being filled: `write` copies into it at once, so the sink is done with every
  // chunk when its write resolves (the ByteSink contract), and blocks are FRAME_INPUT bytes each.
  let block: Uint8Array | null = null;
  let len = 0;
  const submit = async () => {
    if (!block || len === 0) return;
    const out = spareOut.pop();
    const job: FrameJob = { kind: kind as FrameJob['kind'], level, data: block, length: len, out };
    block = null;
    len = 0;
    // Both buffers are unshared: transferred to the worker and back.
    const p = pool.run<FrameResult>(job, out ? [job.data.buffer as ArrayBuffer, out.buffer as ArrayBuffer] : [job.data.buffer as ArrayBuffer]);
    p.catch(() => {});
    inflight.push(p);
    while (inflight.length > maxInflight) await written(await inflight.shift()!);
  };
  return {
    async write(chunk) {
      for (let at = 0; at < chunk.length;) {
        block ??= spare.pop() ?? new Uint8Array(FRAME_INPUT);
        const n = Math.min(chunk.length - at, FRAME_INPUT - len);
        block.set(n === chunk.length ? chunk : chunk.subarray(at, at + n), len);
        len += n;
        at += n;
        if (len === FRAME_INPUT) await submit();
      }
    },
    async end() {
      try {
        await submit();
        while (inflight.length) await written(await inflight.shift()!);
        await writing;
      } finally {
        await pool.close();
      }
    },
    async abort() {
      await writing.catch(() => {});
      await pool.close();
    },
  };
}

/** The compression a `-o` path asks for by its suffix, or undefined for a plain name. */
export function tarCodecForPath(path: string): TarCompression | undefined {
  const p = path.toLowerCase();
  if (p.endsWith('.tar.zst') || p.endsWith('.tzst') || p.endsWith('.tar.zstd')) return 'zstd';
  if (p.endsWith('.tar.gz') || p.endsWith('.tgz')) return 'gzip';
  if (p.endsWith('.tar.xz') || p.endsWith('.txz')) return 'xz';
  if (p.endsWith('.tar.lz4')) return 'lz4';
  if (p.endsWith('.tar')) return 'none';
  return undefined;
}
