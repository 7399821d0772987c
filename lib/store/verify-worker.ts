/**
 * Worker thread for `store check --read-data`: reads one pack, in windows of whole records of
 * about 8 MiB (memory does not grow with the pack size), and verifies every record the trailer
 * lists: record header names the chunk, payload decompresses and hashes to the id. Returns only
 * the failures, so verification runs on every core and pack bytes never cross threads.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { ChunkCodec } from '../codec/codec.js';
import { serveJobs } from '../util/worker-job.js';
import { checkRecord, decodeVerified } from './chunk-verify.js';
import { RECORD_HEADER_BYTES } from './store-layout.js';

export interface VerifyEntry { id: Uint8Array; offset: number; storedLength: number; rawLength: number; codec: number }
export interface VerifyPackJob { op: 'verify-pack'; path: string; where: string; entries: VerifyEntry[] }
export interface VerifyPackResult { bytesRead: number; verified: number; failures: Array<{ index: number; message: string }> }

const codec = new ChunkCodec();

const WINDOW = 8 << 20;

/**
 * Verifies `entries` against `bytes`, which hold the pack from offset `base` on (the whole pack
 * when base is 0). Failure indexes count from `first`.
 */
export async function verifyPackBytes(bytes: Buffer, where: string, entries: VerifyEntry[], base = 0, first = 0,
  res: VerifyPackResult = { bytesRead: 0, verified: 0, failures: [] }): Promise<VerifyPackResult> {
  for (const [i, e] of entries.entries()) {
    const index = first + i;
    try {
      const rec = bytes.subarray(e.offset - base, e.offset - base + RECORD_HEADER_BYTES + e.storedLength);
      res.bytesRead += rec.byteLength;
      await decodeVerified(codec, where, e.id, e, checkRecord(where, e.id, e, rec));
      res.verified++;
    } catch (err) {
      res.failures.push({ index, message: (err as Error).message });
    }
  }
  return res;
}

/** verifyPackBytes over the pack file `fd`, read window by window (entries in pack order). */
async function verifyPackFile(fd: number, where: string, entries: VerifyEntry[]): Promise<VerifyPackResult> {
  const res: VerifyPackResult = { bytesRead: 0, verified: 0, failures: [] };
  const end = (e: VerifyEntry) => e.offset + RECORD_HEADER_BYTES + e.storedLength;
  let buf = Buffer.allocUnsafe(WINDOW);
  for (let i = 0; i < entries.length;) {
    const start = entries[i]!.offset;
    let j = i + 1;
    let stop = end(entries[i]!);
    while (j < entries.length && entries[j]!.offset >= start && end(entries[j]!) - start <= WINDOW) stop = Math.max(stop, end(entries[j++]!));
    if (stop - start > buf.length) buf = Buffer.allocUnsafe(stop - start);
    // A short read (truncated pack) leaves the records past the end to fail as truncated.
    let got = 0;
    for (let n = -1; got < stop - start && n !== 0; got += n) n = readSync(fd, buf, got, stop - start - got, start + got);
    await verifyPackBytes(buf.subarray(0, got), where, entries.slice(i, j), start, i, res);
    i = j;
  }
  return res;
}

// Imported by the main thread for the in-thread path too: serve jobs only inside a worker.
if (!isMainThread) {
  serveJobs(async (job: VerifyPackJob) => {
    const fd = openSync(job.path, 'r');
    try {
      return { result: await verifyPackFile(fd, job.where, job.entries.map((e) => ({ ...e, id: Buffer.from(e.id) }))) };
    } finally {
      closeSync(fd);
    }
  });
}
