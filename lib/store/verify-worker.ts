/**
 * Worker thread for `store check --read-data`: reads one whole pack (packs are ~16 MiB) and
 * verifies every record the trailer lists: record header names the chunk, payload decompresses
 * and hashes to the id. Returns only the failures, so verification runs on every core and pack
 * bytes never cross threads.
 */
import { readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { ChunkCodec } from '../codec/codec.js';
import { serveJobs } from '../util/worker-job.js';
import { checkRecord, decodeVerified } from './chunk-verify.js';
import { RECORD_HEADER_BYTES } from './store-layout.js';

export interface VerifyEntry { id: Uint8Array; offset: number; storedLength: number; rawLength: number; codec: number }
export interface VerifyPackJob { op: 'verify-pack'; path: string; where: string; entries: VerifyEntry[] }
export interface VerifyPackResult { bytesRead: number; verified: number; failures: Array<{ index: number; message: string }> }

const codec = new ChunkCodec();

export async function verifyPackBytes(whole: Buffer, where: string, entries: VerifyEntry[]): Promise<VerifyPackResult> {
  const res: VerifyPackResult = { bytesRead: 0, verified: 0, failures: [] };
  for (const [index, e] of entries.entries()) {
    try {
      const rec = whole.subarray(e.offset, e.offset + RECORD_HEADER_BYTES + e.storedLength);
      res.bytesRead += rec.byteLength;
      await decodeVerified(codec, where, e.id, e, checkRecord(where, e.id, e, rec));
      res.verified++;
    } catch (err) {
      res.failures.push({ index, message: (err as Error).message });
    }
  }
  return res;
}

// Imported by the main thread for the in-thread path too: serve jobs only inside a worker.
if (!isMainThread) {
  serveJobs(async (job: VerifyPackJob) => {
    const whole = readFileSync(job.path);
    return { result: await verifyPackBytes(whole, job.where, job.entries.map((e) => ({ ...e, id: Buffer.from(e.id) }))) };
  });
}
