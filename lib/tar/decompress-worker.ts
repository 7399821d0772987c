/**
 * Worker thread: decompresses a compressed tar for tar-decompress.ts, so that the main thread
 * of an import only parses. zstd-napi decodes synchronously on the calling thread: on the
 * `mixed` set that was a third of the import's main-thread time. node:zlib and lzma-native
 * decode on other threads already, but behind Node streams that hand out 16 KiB pieces and
 * decode only as far as the reader has read; here they run ahead, in 1 MiB pieces.
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
import { FormatError } from '../errors/index.js';
import { gated } from '../util/exit-gate.js';
import { serveJobs, type Emit } from '../util/worker-job.js';

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
  return new FormatError(`${kind} stream is damaged or truncated: ${(err as Error)?.message ?? String(err)}`, {}, 'TAR_COMPRESSION');
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
 * gzip (node:zlib) and xz (lzma-native) through their Node transforms, here so that their
 * output is gathered into large pieces and decoded ahead of the parser. The transform is
 * paused while more than HELD bytes of its output wait, so a bomb stays bounded.
 */
function streamDecoder(): (job: DecompressJob, emit: Emit) => Promise<void> {
  const HELD = 4 << 20;
  const t: Transform = kind === 'gzip'
    ? (require('node:zlib') as typeof import('node:zlib')).createGunzip({ chunkSize: 256 << 10 })
    : (require('lzma-native') as { createDecompressor(): Transform }).createDecompressor();
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
  // xz decodes on the thread pool: each write (until its callback) and the end (until the
  // transform finished) must not be in flight at a forced exit (exit-gate.ts).
  const step = (start: (done: () => void) => void) => {
    const run = () => new Promise<void>((done) => start(done));
    void (kind === 'xz' ? gated(run) : run());
  };
  return async (job, emit) => {
    if (job.op === 'end') {
      step((done) => { t.once('finish', done); t.once('error', () => done()); t.end(); });
      await pump(emit, () => ended);
      if (used > 0) await ship(emit);
      return;
    }
    let written = false;
    step((done) => t.write(job.data, () => { written = true; wake(); done(); }));
    // Output still inside a paused transform flows in the next job: the order is the same.
    await pump(emit, () => written);
  };
}

const decode = kind === 'zstd' ? zstdDecoder() : streamDecoder();

serveJobs(async (job: DecompressJob, emit) => {
  if (job.op === 'data') {
    for (const b of job.spare ?? []) {
      if (b.byteLength === OUT_BYTES && free.length < FREE_KEPT) free.push(Buffer.from(b.buffer, b.byteOffset, OUT_BYTES));
    }
  }
  await decode(job, emit);
  return { result: null };
});
