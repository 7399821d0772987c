/**
 * Worker thread: decompresses a compressed tar for tar-decompress.ts, so that the main thread
 * of an import only parses. zstd-napi decodes synchronously on the calling thread: on the
 * `mixed` set that was a third of the import's main-thread time. node:zlib decodes on another
 * thread already, but behind a Node stream that hands out 16 KiB pieces and decodes only as
 * far as the reader has read; here it runs ahead, in 1 MiB pieces. xz is decoded here
 * synchronously in small input steps (codec/xz-decoder.ts), as lzma-native's own stream would
 * decode each input buffer whole, however far it expands.
 *
 * Jobs, in order, on one worker that keeps the stream's state between them:
 *   { op: 'data', data }  compressed bytes (transferred); the output is emitted as parts of
 *                         OUT_BYTES (each acknowledged before the next few: bounded memory even
 *                         for a tiny input that expands enormously)
 *   { op: 'end' }         the input ended: emits the rest; fails if a frame is unfinished.
 */
import { createRequire } from 'node:module';
import type { Transform } from 'node:stream';
import { workerData } from 'node:worker_threads';
import { XzDecoder } from '../codec/xz-decoder.js';
import type { FormatError } from '../errors/index.js';
import { serveJobs, type Emit } from '../util/worker-job.js';
import { streamError } from './bounded-decode.js';

/** `spare`: output buffers the main thread is done with, to decode into again. */
export type DecompressJob = { op: 'data'; data: Uint8Array; spare?: Uint8Array[] } | { op: 'end' };
export type OffThreadKind = 'zstd' | 'gzip' | 'xz';

const OUT_BYTES = 1 << 20;
const require = createRequire(import.meta.url);
const { kind } = workerData as { kind: OffThreadKind };
let out: Buffer = Buffer.allocUnsafeSlow(OUT_BYTES);
let used = 0;
/** Output buffers handed back by the main thread (bounded: a few are enough to never allocate). */
const free: Buffer[] = [];
const FREE_KEPT = 8;

function damaged(err: unknown): FormatError {
  return streamError(kind, err);
}

/** Sends `out` to the main thread whole (transferred) and goes on in a returned buffer or a fresh one. */
async function ship(emit: Emit): Promise<void> {
  const b = new Uint8Array(out.buffer, out.byteOffset, used);
  out = free.pop() ?? Buffer.allocUnsafeSlow(OUT_BYTES);
  used = 0;
  await emit(b, [b.buffer as ArrayBuffer]);
}

/** zstd through its bare binding, synchronously: the state is the decoder and `inFrame`. */
function zstdDecoder(): (job: DecompressJob, emit: Emit) => Promise<void> {
  const binding = require('zstd-napi/binding.js') as typeof import('zstd-napi/binding.js');
  const dctx = new binding.DCtx();
  let inFrame = false;
  return async (job, emit) => {
    if (job.op === 'end') {
      if (inFrame) throw damaged(new Error('the input ends inside a frame'));
      if (used > 0) await ship(emit);
      return;
    }
    let src = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength);
    for (;;) {
      let ret: number, produced: number, consumed: number;
      try {
        [ret, produced, consumed] = dctx.decompressStream(out.subarray(used), src);
      } catch (err) {
        throw damaged(err);
      }
      const space = out.length - used;
      used += produced;
      src = src.subarray(consumed);
      if (used === out.length) await ship(emit);
      // Done with this input when it is all consumed and the decoder had room to spare (so it
      // holds no more output), or a frame just ended.
      if (src.length === 0 && (produced < space || ret === 0)) {
        inFrame = ret !== 0;
        return;
      }
    }
  };
}

/**
 * xz: each native step's output (at most ~7 MB, see XzDecoder) is copied into `out` and
 * shipped piece by piece, each acknowledged before the next few.
 */
function xzDecoder(): (job: DecompressJob, emit: Emit) => Promise<void> {
  const d = new XzDecoder();
  const put = async (b: Buffer, emit: Emit) => {
    for (let at = 0; at < b.length;) {
      const n = Math.min(b.length - at, out.length - used);
      b.copy(out, used, at, at + n);
      used += n;
      at += n;
      if (used === out.length) await ship(emit);
    }
  };
  return async (job, emit) => {
    for (const b of job.op === 'end' ? d.end() : d.write(job.data)) await put(b, emit);
    if (job.op === 'end' && used > 0) await ship(emit);
  };
}

/**
 * gzip (node:zlib) through its Node transform, here so that its output is gathered into large
 * pieces and decoded ahead of the parser. The transform is paused while more than HELD bytes
 * of its output wait, and node:zlib then stops decoding, so a bomb stays bounded.
 */
function gzipDecoder(): (job: DecompressJob, emit: Emit) => Promise<void> {
  const HELD = 4 << 20;
  const t: Transform = (require('node:zlib') as typeof import('node:zlib')).createGunzip({ chunkSize: 256 << 10 });
  const held: Buffer[] = [];
  let heldBytes = 0;
  let ended = false;
  let failure: unknown = null;
  let poke: (() => void) | null = null;
  const wake = () => { poke?.(); poke = null; };
  t.on('data', (d: Buffer) => { held.push(d); heldBytes += d.length; if (heldBytes > HELD) t.pause(); wake(); });
  t.on('end', () => { ended = true; wake(); });
  t.on('error', (err) => { failure = err; wake(); });
  /** Moves held output into `out`, shipping full ones, until `done()` and nothing is held. */
  const pump = async (emit: Emit, done: () => boolean) => {
    for (;;) {
      if (failure) throw damaged(failure);
      while (held.length) {
        const d = held[0];
        const n = Math.min(d.length, out.length - used);
        d.copy(out, used, 0, n);
        used += n;
        heldBytes -= n;
        if (n === d.length) held.shift(); else held[0] = d.subarray(n);
        if (used === out.length) await ship(emit);
      }
      if (t.isPaused()) t.resume();
      if (done()) return;
      await new Promise<void>((r) => { poke = r; });
    }
  };
  return async (job, emit) => {
    if (job.op === 'end') {
      t.end();
      await pump(emit, () => ended);
      if (used > 0) await ship(emit);
      return;
    }
    let written = false;
    t.write(job.data, () => { written = true; wake(); });
    // Output still inside a paused transform flows in the next job: the order is the same.
    await pump(emit, () => written);
  };
}

const decode = kind === 'zstd' ? zstdDecoder() : kind === 'xz' ? xzDecoder() : gzipDecoder();

serveJobs(async (job: DecompressJob, emit) => {
  if (job.op === 'data') {
    for (const b of job.spare ?? []) {
      if (b.byteLength === OUT_BYTES && free.length < FREE_KEPT) free.push(Buffer.from(b.buffer, b.byteOffset, OUT_BYTES));
    }
  }
  await decode(job, emit);
  return { result: null };
});
