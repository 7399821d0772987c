/**
 * Worker thread for whole-stream tar compression (tar-compress.ts): compresses one block of
 * the tar into one self-contained frame (a zstd frame, a gzip member, an xz stream, an lz4
 * frame). Concatenated in order, the frames are one valid stream for zstd, gzip, xz and lz4.
 */
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { Compressor } from 'zstd-napi';
import { serveJobs } from '../util/worker-job.js';
import type { TarCompression } from './tar-compress.js';

export interface FrameJob { kind: Exclude<TarCompression, 'none'>; level?: number; data: Uint8Array }

const require = createRequire(import.meta.url);
let zstd: Compressor | null = null;
let zstdLevel = -1;

async function compressFrame(job: FrameJob): Promise<Uint8Array> {
  switch (job.kind) {
    case 'zstd': {
      const level = job.level ?? 3;
      if (!zstd || zstdLevel !== level) {
        zstd = new Compressor();
        zstd.setParameters({ compressionLevel: level });
        zstdLevel = level;
      }
      return zstd.compress(job.data);
    }
    case 'gzip': return gzipSync(job.data, { level: job.level ?? 6 });
    case 'xz': return (require('lzma-native') as { compress(b: Uint8Array, o: object): Promise<Buffer> }).compress(job.data, { preset: job.level ?? 6 });
    case 'lz4': return (require('lz4-napi') as { compressFrameSync(b: Buffer): Buffer }).compressFrameSync(Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength));
  }
}

serveJobs(async (job: FrameJob) => {
  const out = await compressFrame(job);
  // Transfer an exact, unshared buffer (a native Buffer may be a view of a larger allocation).
  const exact = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : new Uint8Array(out);
  return { result: exact, transfer: [exact.buffer as ArrayBuffer] };
});
