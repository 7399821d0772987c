/**
 * Worker thread for whole-stream tar compression (tar-compress.ts): compresses one block of
 * the tar into one self-contained frame (a zstd frame, a gzip member, an xz stream, an lz4
 * frame). Concatenated in order, the frames are one valid stream for zstd, gzip, xz and lz4.
 *
 * Memory: the block's buffer goes back to the main thread with the frame, to carry the next
 * block, and zstd compresses into one reused output space; only the frame itself is a new
 * allocation. Fresh multi-MiB buffers per block cost their page faults every time: on the 2 GiB
 * bench set, 6.5 s of system time (a third of the export) before buffers were reused.
 */
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { CCtx } from 'zstd-napi/binding.js';
import { serveJobs } from '../util/worker-job.js';
import type { TarCompression } from './tar-compress.js';

/** `data` carries the block in its first `length` bytes (a reused buffer may be longer). */
export interface FrameJob { kind: Exclude<TarCompression, 'none'>; level?: number; data: Uint8Array; length: number }
/** The frame, and the job's `data` handed back for reuse. */
export interface FrameResult { frame: Uint8Array; data: Uint8Array }

const require = createRequire(import.meta.url);
let zstd: typeof import('zstd-napi/binding.js') | undefined;
let cctx: CCtx | null = null;
let cctxLevel = -1;
let scratch = Buffer.alloc(0);

async function compressFrame(kind: FrameJob['kind'], level: number | undefined, block: Uint8Array): Promise<Uint8Array> {
  switch (kind) {
    case 'zstd': {
      zstd ??= require('zstd-napi/binding.js') as typeof import('zstd-napi/binding.js');
      if (!cctx || cctxLevel !== (level ?? 3)) {
        cctx = new zstd.CCtx();
        cctx.setParameter(zstd.CParameter.compressionLevel, level ?? 3);
        cctxLevel = level ?? 3;
      }
      const bound = zstd.compressBound(block.byteLength);
      if (scratch.length < bound) scratch = Buffer.allocUnsafeSlow(bound);
      return scratch.subarray(0, cctx.compress2(scratch, block));
    }
    case 'gzip': return gzipSync(block, { level: level ?? 6 });
    case 'xz': return (require('lzma-native') as { compress(b: Uint8Array, o: object): Promise<Buffer> }).compress(block, { preset: level ?? 6 });
    case 'lz4': return (require('lz4-napi') as { compressFrameSync(b: Buffer): Buffer }).compressFrameSync(Buffer.from(block.buffer, block.byteOffset, block.byteLength));
  }
}

serveJobs(async (job: FrameJob) => {
  const out = await compressFrame(job.kind, job.level, job.data.subarray(0, job.length));
  // Transfer an exact, unshared buffer (the zstd output space is reused; a native Buffer may
  // be a view of a larger allocation).
  const frame = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength && out.buffer !== scratch.buffer ? out : new Uint8Array(out);
  const result: FrameResult = { frame, data: job.data };
  return { result, transfer: [frame.buffer as ArrayBuffer, job.data.buffer as ArrayBuffer] };
});
