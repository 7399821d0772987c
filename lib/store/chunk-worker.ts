/**
 * Worker thread: reads one file, cuts it into chunks, names each chunk by its BLAKE3 id and
 * compresses it, streaming batches of chunks back to the main thread (which decides which are
 * new and appends those to packs). All the CPU work of a snapshot happens here, one file per
 * job, in as many workers as there are cores.
 *
 * Reading happens here too, with plain positional reads into one reused buffer, so file bytes
 * never cross threads; only compressed chunks do, in one transferred buffer per batch.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { createChunker, type ChunkerParams } from '../chunker/index.js';
import { ChunkCodec, type CodecSpec } from '../codec/codec.js';
import { dataSegments } from '../fs/data-segments.js';
import { blake3 } from '../hash/blake3.js';
import { serveJobs } from '../util/worker-job.js';

export interface FileJob {
  op: 'file';
  path: Uint8Array;
  size: number;
  /** Look for holes with SEEK_DATA/SEEK_HOLE (the file's blocks suggest it is sparse). */
  sparse: boolean;
  codec: CodecSpec;
}

/** One batch of chunks: ids (32 bytes each), [rawLength, storedLength, codec] triples, payloads back to back. */
export interface ChunkBatch { ids: Uint8Array; meta: Uint32Array; data: Uint8Array }

export interface FileResult {
  /** Bytes actually read (differs from the size at stat time when the file changed). */
  bytes: number;
  /** Data extents when the file has holes; null when it is one extent [0, bytes). */
  segments: Array<[number, number]> | null;
  changed: boolean;
}

const { params } = workerData as { params: ChunkerParams };
const chunker = createChunker(params);
const codec = new ChunkCodec();
const hash = blake3();
const BLOCK = 8 << 20;
const buf = Buffer.allocUnsafeSlow(BLOCK + params.max);
const O_NOATIME = constants.O_NOATIME ?? 0;

function openForRead(path: Buffer): number {
  if (O_NOATIME) {
    // O_NOATIME keeps the backup from touching atimes, but only the owner (or root) may use it.
    try { return openSync(path, constants.O_RDONLY | O_NOATIME); } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    }
  }
  return openSync(path, constants.O_RDONLY);
}

function readFully(fd: number, into: Buffer, at: number, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, into, at + got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

serveJobs(async (job: FileJob, emit) => {
  const path = Buffer.from(job.path.buffer, job.path.byteOffset, job.path.byteLength);
  const fd = openForRead(path);
  try {
    let segments: Array<[number, number]> = [[0, job.size]];
    if (job.sparse && job.size > 0) segments = dataSegments(fd, job.size);
    let total = 0;
    let changed = false;
    let ids: Buffer[] = [];
    let meta: number[] = [];
    let payload: Uint8Array[] = [];
    let payloadBytes = 0;
    const flush = async () => {
      if (ids.length === 0) return;
      const data = new Uint8Array(payloadBytes);
      let o = 0;
      for (const p of payload) { data.set(p, o); o += p.byteLength; }
      const idBuf = new Uint8Array(ids.length * 32);
      ids.forEach((id, i) => idBuf.set(id, i * 32));
      const batch: ChunkBatch = { ids: idBuf, meta: Uint32Array.from(meta), data };
      ids = []; meta = []; payload = []; payloadBytes = 0;
      await emit(batch, [idBuf.buffer as ArrayBuffer, batch.meta.buffer as ArrayBuffer, data.buffer as ArrayBuffer]);
    };
    const read: Array<[number, number]> = [];
    for (const [segOff, segLen] of segments) {
      if (changed) break;
      let pos = segOff;
      let end = segOff + segLen;
      let carry = 0;
      for (;;) {
        const want = Math.min(BLOCK, end - pos);
        const n = want > 0 ? readFully(fd, buf, carry, want, pos) : 0;
        if (n < want) { changed = true; end = pos + n; }
        pos += n;
        total += n;
        const avail = carry + n;
        const final = pos >= end;
        const lengths = chunker.cutLengths(buf.subarray(0, avail), final);
        let o = 0;
        for (let i = 0; i < lengths.length; i++) {
          const len = lengths[i];
          const chunk = buf.subarray(o, o + len);
          o += len;
          const id = hash.hash(chunk);
          const stored = await codec.compress(job.codec, chunk);
          ids.push(id);
          meta.push(len, stored ? stored.byteLength : len, stored ? codecId(job.codec) : 0);
          const bytes = stored ?? chunk;
          payload.push(stored ? bytes : Buffer.from(bytes));
          payloadBytes += bytes.byteLength;
        }
        carry = avail - o;
        if (carry > 0) buf.copyWithin(0, o, avail);
        if (payloadBytes >= 4 << 20) await flush();
        if (final) break;
      }
      read.push([segOff, pos - segOff]);
    }
    if (!changed && segments.length === 1 && job.size > 0) {
      // A file that grew since stat: we read what stat promised; say it changed.
      const probe = Buffer.allocUnsafe(1);
      if (readSync(fd, probe, 0, 1, segments[0][0] + segments[0][1]) > 0) changed = true;
    }
    await flush();
    // A file that shrank while being read is recorded as read: its extents and size end where
    // the data ended, so the chunk lengths always add up to the recorded extents.
    const last = read[read.length - 1];
    const size = changed && last ? last[0] + last[1] : (job.sparse ? job.size : total);
    const sparse = read.length !== 1 || read[0][0] !== 0 || read[0][1] !== size;
    const result: FileResult = { bytes: size, segments: sparse ? read.filter(([, l]) => l > 0) : null, changed };
    return { result };
  } finally {
    closeSync(fd);
  }
});

function codecId(spec: CodecSpec): number {
  return { none: 0, zstd: 1, lz4: 2, gzip: 3, xz: 4 }[spec.name];
}
