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
import { checkRecord, decodeVerified, verifyBundleRecord } from './chunk-verify.js';
import { CODEC_BUNDLED } from '../codec/codec-ids.js';
import { FormatError } from '../errors/index.js';
import { BundleCache } from './bundle-cache.js';
import { CHUNK_BUNDLE, RECORD_HEADER_BYTES } from './store-layout.js';

export interface VerifyEntry { id: Uint8Array; type: number; offset: number; storedLength: number; rawLength: number; codec: number }
export interface VerifyPackJob { op: 'verify-pack'; path: string; where: string; entries: VerifyEntry[] }
export interface VerifyPackResult { bytesRead: number; verified: number; failures: Array<{ index: number; message: string }> }

const codec = new ChunkCodec();
/** The last bundle decoded: its members follow it. */
const bundles = new BundleCache(codec, true);

const WINDOW = 8 << 20;

/**
 * Verifies `entries` against `bytes`, which hold the pack from offset `base` on (the whole pack
 * when base is 0). Failure indexes count from `first`.
 */
export async function verifyPackBytes(bytes: Buffer, where: string, entries: VerifyEntry[], base = 0, first = 0,
  res: VerifyPackResult = { bytesRead: 0, verified: 0, failures: [] }, read?: (at: number, length: number) => Buffer): Promise<VerifyPackResult> {
  // A member's bundle lies before it: in these bytes, or (the window began after it) read again.
  const region = (at: number, length: number): Buffer => {
    if (at >= base && at + length <= base + bytes.length) return bytes.subarray(at - base, at - base + length);
    if (!read) throw new FormatError(`bundle at offset ${at} lies outside the bytes read`);
    return read(at, length);
  };
  for (const [i, e] of entries.entries()) {
    const index = first + i;
    try {
      const rec = bytes.subarray(e.offset - base, e.offset - base + RECORD_HEADER_BYTES + e.storedLength);
      res.bytesRead += rec.byteLength;
      const payload = checkRecord(where, e.id, e, rec);
      if (e.codec === CODEC_BUNDLED) bundles.memberSync(where, e.id, e, payload, region);
      else if (e.type === CHUNK_BUNDLE) verifyBundleRecord(codec, where, e, payload);
      else await decodeVerified(codec, where, e.id, e, payload);
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
    await verifyPackBytes(buf.subarray(0, got), where, entries.slice(i, j), start, i, res, (at, length) => readAt(fd, at, length));
    i = j;
  }
  return res;
}

/** `length` bytes of `fd` at `at` (fewer where the file ends). */
function readAt(fd: number, at: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  let got = 0;
  for (let n = -1; got < length && n !== 0; got += n) n = readSync(fd, b, got, length - got, at + got);
  return b.subarray(0, got);
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
