/**
 * Worker thread: decompresses a zstd-compressed tar for tar-decompress.ts, so that the main
 * thread of an import only parses. zstd-napi decodes synchronously on the calling thread
 * (unlike node:zlib and lzma-native, which already decode on other threads), and on the `mixed`
 * set that was a third of the import's main-thread time.
 *
 * Jobs, in order, on one worker that keeps the stream's state between them:
 *   { op: 'data', data }  compressed bytes (transferred); the output is emitted as parts of
 *                         OUT_BYTES (each acknowledged before the next few: bounded memory even
 *                         for a tiny input that expands enormously)
 *   { op: 'end' }         the input ended: emits the rest; fails if a frame is unfinished.
 */
import { createRequire } from 'node:module';
import { FormatError } from '../errors/index.js';
import { serveJobs } from '../util/worker-job.js';

export type DecompressJob = { op: 'data'; data: Uint8Array } | { op: 'end' };

const OUT_BYTES = 1 << 20;
const require = createRequire(import.meta.url);
const binding = require('zstd-napi/binding.js') as typeof import('zstd-napi/binding.js');
const dctx = new binding.DCtx();
let inFrame = false;
let out = Buffer.allocUnsafeSlow(OUT_BYTES);
let used = 0;

function damaged(err: unknown): FormatError {
  return new FormatError(`zstd stream is damaged or truncated: ${(err as Error)?.message ?? String(err)}`, {}, 'TAR_COMPRESSION');
}

serveJobs(async (job: DecompressJob, emit) => {
  // A full buffer goes to the main thread whole (transferred); the next one is fresh.
  const ship = async () => {
    const b = new Uint8Array(out.buffer, out.byteOffset, used);
    out = Buffer.allocUnsafeSlow(OUT_BYTES);
    used = 0;
    await emit(b, [b.buffer as ArrayBuffer]);
  };
  if (job.op === 'end') {
    if (inFrame) throw damaged(new Error('the input ends inside a frame'));
    if (used > 0) await ship();
    return { result: null };
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
    if (used === out.length) await ship();
    // Done with this input when it is all consumed and the decoder had room to spare (so it
    // holds no more output), or a frame just ended.
    if (src.length === 0 && (produced < space || ret === 0)) {
      inFrame = ret !== 0;
      break;
    }
  }
  return { result: null };
});
