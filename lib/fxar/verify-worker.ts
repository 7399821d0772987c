/**
 * Worker thread for import: decompresses chunks as the archive carries them and verifies each
 * against its id, so that on a large import verification runs on every core while the main
 * thread reads the stream and writes packs. With `bundle`, the small data chunks of the job
 * come back compressed together in bundles (lib/store/verified-bundles.ts) instead.
 */
import { ChunkCodec } from '../codec/codec.js';
import { decodeVerifiedSync } from '../store/chunk-verify.js';
import { serveJobs } from '../util/worker-job.js';
import { bundlesChunk, type VerifiedBundle, VerifiedBundles } from '../store/verified-bundles.js';

export interface VerifyItem { id: Uint8Array; type: number; offset: number; codec: number; rawLength: number; storedLength: number }
/** Chunks of archive (or wire) `where`, their stored bytes one after another in `stored`. */
export interface VerifyJob { where: string; items: VerifyItem[]; stored: Uint8Array; bundle: boolean }
/** The job's `stored`, handed back, and the bundles its small data chunks went into (in item order; none without `bundle`). */
export interface VerifyResult { stored: Uint8Array; bundles: VerifiedBundle[] }

const codec = new ChunkCodec();
const bundles = new VerifiedBundles(codec);

serveJobs(async (job: VerifyJob) => {
  let at = 0;
  try {
    for (const item of job.items) {
      const raw = decodeVerifiedSync(codec, job.where, item.id, item, job.stored.subarray(at, at + item.storedLength));
      if (job.bundle && bundlesChunk(item.type, item.rawLength)) bundles.add(item.id, raw);
      at += item.storedLength;
    }
  } finally {
    bundles.close(); // a failed job's members must not go into the next job's bundles
  }
  const result: VerifyResult = { stored: job.stored, bundles: bundles.take() };
  const transfer = [job.stored.buffer as ArrayBuffer];
  for (const b of result.bundles) {
    transfer.push(b.raw.buffer as ArrayBuffer);
    if (b.encoded) transfer.push(b.encoded.stored.buffer as ArrayBuffer);
  }
  return { result, transfer };
});
