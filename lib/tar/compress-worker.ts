/**
 * Worker thread for whole-stream tar compression (tar-compress.ts): compresses one block of
 * the tar into one self-contained frame (a zstd frame, a gzip member, an xz stream, an lz4
 * frame). Concatenated in order, the frames are one valid stream for zstd, gzip, xz and lz4.
 *
 * Memory: no buffer is allocated per block. The block's buffer goes back to the main thread
 * with the frame, to carry a later block, and zstd compresses straight into an output buffer the
 * main thread sends with the job (a frame's buffer it has finished writing). Fresh multi-MiB
 * buffers per block cost their page faults every time: on the 2 GiB bench set, 6.5 s of system
 * time (a third of the export) before block buffers were reused, and copying each frame out of
 * a reused output space into a fresh buffer still cost 1.8 s of CPU.
 */
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { CCtx } from 'zstd-napi/binding.js';
import { xzCompress } from '../codec/codec.js';
import { serveJobs } from '../util/worker-job.js';
import type { TarCompression } from './tar-compress.js';

/**
 * `data` carries the block in its first `length` bytes (a reused buffer may be longer). `out`,
 * for zstd, is an unshared buffer to compress into when it is large enough (a new one is made
 * otherwise).
 */
export interface FrameJob { kind: Exclude<TarCompression, 'none'>; level?: number; data: Uint8Array; length: number; out?: Uint8Array }
/** The frame, at offset 0 of an unshared buffer the main thread may send back as `out`; and the job's `data`. */
export interface FrameResult { frame: Uint8Array; data: Uint8Array }

const require = createRequire(import.meta.url);
let zstd: typeof import('zstd-napi/binding.js') | undefined;
let cctx: CCtx | null = null;
let cctxLevel = -1;

async function compressFrame(kind: FrameJob['kind'], level: number | undefined, block: Uint8Array, out?: Uint8Array): Promise<Uint8Array> {
  switch (kind) {
    case 'zstd': {
      zstd ??= require('zstd-napi/binding.js') as typeof import('zstd-napi/binding.js');
      if (!cctx || cctxLevel !== (level ?? 3)) {
        cctx = new zstd.CCtx();
        cctx.setParameter(zstd.CParameter.compressionLevel, level ?? 3);
        cctxLevel = level ?? 3;
      }
      const bound = zstd.compressBound(block.byteLength);
      const space = out && out.byteLength >= bound ? out : new Uint8Array(bound);
      return space.subarray(0, cctx.compress2(Buffer.from(space.buffer, space.byteOffset, space.byteLength), block));
    }
    case 'gzip': return gzipSync(block, { level: level ?? 6 });
    // In gated steps: an xz call in flight when this worker ends would abort the process.
    case 'xz': return xzCompress(block, level ?? 6);
    case 'lz4': return (require('lz4-napi') as { compressFrameSync(b: Buffer): Buffer }).compressFrameSync(Buffer.from(block.buffer, block.byteOffset, block.byteLength));
  }
}

serveJobs(async (job: FrameJob) => {
  const out = await compressFrame(job.kind, job.level, job.data.subarray(0, job.length), job.out);
  // Transfer an unshared buffer holding the frame from offset 0: zstd's output space is one; a
  // native Buffer from the other codecs may be a view of a larger allocation (then copied).
  const frame = job.kind === 'zstd' || (out.byteOffset === 0 && out.byteLength === out.buffer.byteLength) ? out : new Uint8Array(out);
  const result: FrameResult = { frame, data: job.data };
  return { result, transfer: [frame.buffer as ArrayBuffer, job.data.buffer as ArrayBuffer] };
});
