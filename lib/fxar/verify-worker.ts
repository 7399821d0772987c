/**
 * Worker thread for import: decompresses a chunk as the archive carries it and verifies it
 * against its id, so that on a large import verification runs on every core while the main
 * thread reads the stream and writes packs.
 */
import { ChunkCodec } from '../codec/codec.js';
import { decodeVerifiedSync } from '../store/chunk-verify.js';
import { serveJobs } from '../util/worker-job.js';

export interface VerifyItem { id: Uint8Array; offset: number; codec: number; rawLength: number; storedLength: number }
/** Chunks of archive (or wire) `where`, their stored bytes one after another in `stored`. */
export interface VerifyJob { where: string; items: VerifyItem[]; stored: Uint8Array }

const codec = new ChunkCodec();

/** The result is the job's `stored`, handed back (it arrives transferred: it is the main thread's to write). */
serveJobs(async (job: VerifyJob) => {
  let at = 0;
  for (const item of job.items) {
    decodeVerifiedSync(codec, job.where, item.id, item, job.stored.subarray(at, at + item.storedLength));
    at += item.storedLength;
  }
  return { result: job.stored, transfer: [job.stored.buffer as ArrayBuffer] };
});
