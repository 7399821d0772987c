/**
 * Worker thread, two jobs:
 * - 'restore-part': one part of a large file's content (a run of its chunks). It reads the
 *   chunks from their packs (or an archive), decompresses and verifies each against its id, and
 *   writes it at its place in the temporary file the main thread made; the main thread then
 *   truncates it to size, renames it into place and applies metadata, or removes it when a part
 *   failed. Large restores thus decompress and verify on every core, a large file's parts side
 *   by side, and file bytes never cross threads.
 * - 'restore-entries': a batch of whole small files and symlinks (restore-batch.ts), each
 *   written by lib/fs/materialize.ts as the main thread would (at its name in a new directory,
 *   else a temporary and rename; metadata on the open file): on
 *   a tree of small files the per-file system calls, not the bytes, are the cost, and here they
 *   run on every core instead of the main thread alone.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { Materializer } from '../fs/materialize.js';
import type { EntriesJob, EntriesResult } from './restore-batch.js';
import { readBatch } from './restore-batch-codec.js';
import { ChunkCodec } from '../codec/codec.js';
import { FormatError, type Warn } from '../errors/index.js';
import { RECORD_HEADER_BYTES as FXAR_RECORD_HEADER_BYTES } from '../fxar/fxar-layout.js';
import { checkArchiveRecord } from '../fxar/record-codec.js';
import { checkRecord, decodeVerified } from '../store/chunk-verify.js';
import { RECORD_HEADER_BYTES } from '../store/store-layout.js';
import { serveJobs } from '../util/worker-job.js';
import type { StoredPlace } from './chunk-source.js';
import { ExtentCursor } from './extent-cursor.js';


export interface RestoreChunk extends StoredPlace { id: Uint8Array }

export interface RestorePartJob {
  op: 'restore-part';
  /** The temporary file (raw path bytes), made by the main thread; written in place. */
  tmp: Uint8Array;
  /** The whole file's data extents. */
  extents: Array<[number, number]>;
  /** Content bytes of the file before this part's first chunk. */
  skip: number;
  chunks: RestoreChunk[];
  /** The buffer the chunks' fetched records are views of (record-buffers.ts), sent back with the reply. */
  recordBuffer?: ArrayBuffer;
}

const codec = new ChunkCodec();
const packFds = new Map<string, number>();
const MAX_FDS = 64;

function packFd(path: string): number {
  let fd = packFds.get(path);
  if (fd === undefined) {
    if (packFds.size >= MAX_FDS) {
      const [oldest, ofd] = packFds.entries().next().value as [string, number];
      packFds.delete(oldest);
      closeSync(ofd);
    }
    fd = openSync(path, 'r');
    packFds.set(path, fd);
  }
  return fd;
}

/**
 * Records are read into one buffer and decompressed into another, both reused (grown to the
 * largest met): two new buffers per chunk, freed only when the heap is collected, left the
 * workers' malloc arenas ~30 MiB larger on a full restore of the real set (issue 25). Each is
 * valid until the next chunk's read.
 */
let scratch = Buffer.allocUnsafeSlow(1 << 16);
let rawScratch = Buffer.allocUnsafeSlow(1 << 16);

function preadFully(fd: number, length: number, position: number, where: string): Buffer {
  if (scratch.length < length) scratch = Buffer.allocUnsafeSlow(length);
  const buf = scratch.subarray(0, length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) throw new FormatError(`${where}: truncated (wanted ${length} bytes at offset ${position}, file ends after ${got})`, {}, 'TRUNCATED');
    got += n;
  }
  return buf;
}

/** A record fetched by the main thread (StoredPlace.record), as a Buffer of the length the place says. */
function fetchedRecord(record: Uint8Array, length: number, where: string): Buffer {
  if (record.byteLength !== length) throw new FormatError(`${where}: truncated (wanted ${length} bytes, got ${record.byteLength})`, {}, 'TRUNCATED');
  return Buffer.from(record.buffer, record.byteOffset, record.byteLength);
}

/** Reads, verifies and writes `chunks` into `out` where `cursor` places them; returns their bytes. */
async function writeChunks(out: number, cursor: ExtentCursor, chunks: readonly RestoreChunk[]): Promise<number> {
  let bytes = 0;
  for (const c of chunks) {
    const fxar = c.layout === 'fxar';
    const recordBytes = (fxar ? FXAR_RECORD_HEADER_BYTES : RECORD_HEADER_BYTES) + c.storedLength;
    const rec = c.record ? fetchedRecord(c.record, recordBytes, c.path) : preadFully(packFd(c.path), recordBytes, c.offset, c.path);
    const payload = fxar ? checkArchiveRecord(c.path, c.id, c, rec) : checkRecord(c.path, c.id, c, rec);
    if (rawScratch.length < c.rawLength) rawScratch = Buffer.allocUnsafeSlow(c.rawLength);
    const data = await decodeVerified(codec, c.path, c.id, c, payload, rawScratch);
    let o = 0;
    for (const [pos, len] of cursor.take(data.byteLength)) {
      let w = 0;
      while (w < len) w += writeSync(out, data, o + w, len - w, pos + w);
      o += len;
    }
    bytes += data.byteLength;
  }
  return bytes;
}

async function restorePart(job: RestorePartJob): Promise<{ bytes: number; recordBuffer?: ArrayBuffer }> {
  const out = openSync(Buffer.from(job.tmp.buffer, job.tmp.byteOffset, job.tmp.byteLength), 'r+');
  try {
    const cursor = new ExtentCursor(job.extents);
    cursor.take(job.skip);
    return { bytes: await writeChunks(out, cursor, job.chunks) };
  } finally {
    closeSync(out);
  }
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/**
 * Each entry of the batch in turn; an entry that fails is reported by its index and the rest go
 * on (as the main thread's restores do). Warnings are sent back, in order, for the main thread's
 * onWarn.
 */
async function restoreEntries(job: EntriesJob): Promise<EntriesResult> {
  const result: EntriesResult = { failed: [], warnings: [] };
  const onWarn: Warn = (code, message, data) => { result.warnings.push([code, message, data ?? {}]); };
  const out = new Materializer({ root: asBuffer(job.root), owner: job.owner, onWarn });
  let i = -1;
  for (const { path, meta, chunks, linkTarget, fresh } of readBatch(job.bytes, job.packs, job.records)) {
    i++;
    try {
      if (meta.type === 'symlink') {
        await out.symlink(path, linkTarget!);
        await out.applyMeta(path, meta, fresh);
      } else {
        // Without segments the data is the file from its start: the bytes written are its length.
        const fill = (fd: number) => writeChunks(fd, new ExtentCursor(meta.segments ?? [[0, meta.size]]), chunks).then((n) => (meta.segments ? undefined : n));
        // Its metadata on the open file (no hard-link member is batched: it is never 'linked').
        await out.file(path, meta, { fill }, undefined, { fresh, meta: true });
      }
    } catch (err) {
      result.failed.push([i, (err as Error).message]);
    }
  }
  return result;
}

serveJobs(async (job: RestorePartJob | EntriesJob) => {
  const result = job.op === 'restore-entries' ? await restoreEntries(job) : await restorePart(job);
  // The fetched records' buffer goes back to be used again (record-buffers.ts); its views here are detached.
  if (job.recordBuffer === undefined) return { result };
  return { result: { ...result, recordBuffer: job.recordBuffer }, transfer: [job.recordBuffer] };
});
