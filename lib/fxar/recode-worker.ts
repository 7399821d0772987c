/**
 * Worker thread for export with --compress: takes a chunk as stored in the store, decompresses
 * and verifies it against its id, and compresses it with the archive's codec (raw when that
 * is not smaller). Export sends chunks here only when the stored codec differs from the
 * requested one; chunks already in the right codec are copied as they are.
 */
import { ChunkCodec, CODEC_IDS, type CodecSpec } from '../codec/codec.js';
import { decodeVerified } from '../store/chunk-verify.js';
import { serveJobs } from '../util/worker-job.js';

export interface RecodeJob {
  id: Uint8Array;
  where: string;
  offset: number;
  codec: number;
  rawLength: number;
  storedLength: number;
  stored: Uint8Array;
  to: CodecSpec;
}

export interface RecodeResult { codec: number; stored: Uint8Array }

const codec = new ChunkCodec();

serveJobs(async (job: RecodeJob) => {
  const raw = await decodeVerified(codec, job.where, job.id, job, job.stored);
  const out = await codec.compress(job.to, raw);
  const result: RecodeResult = out ? { codec: CODEC_IDS[job.to.name], stored: out } : { codec: CODEC_IDS.none, stored: raw };
  const buf = result.stored;
  // Transfer only a buffer this thread owns outright (not a slice of a shared pool).
  const own = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
  return { result, transfer: own ? [buf.buffer as ArrayBuffer] : [] };
});
