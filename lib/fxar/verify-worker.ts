/**
 * Worker thread for import: decompresses a chunk as the archive carries it and verifies it
 * against its id, so that on a large import verification runs on every core while the main
 * thread reads the stream and writes packs.
 */
import { ChunkCodec } from '../codec/codec.js';
import { decodeVerified } from '../store/chunk-verify.js';
import { serveJobs } from '../util/worker-job.js';

export interface VerifyJob { id: Uint8Array; where: string; offset: number; codec: number; rawLength: number; storedLength: number; stored: Uint8Array }

const codec = new ChunkCodec();

/** The result is the job's `stored`, handed back (it arrives transferred: it is the main thread's to write). */
serveJobs(async (job: VerifyJob) => {
  await decodeVerified(codec, job.where, job.id, job, job.stored);
  return { result: job.stored, transfer: [job.stored.buffer as ArrayBuffer] };
});
