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
 *   else a temporary and rename; metadata on the open file), the plain new files of a batch
 *   all in one native call (lib/fs/new-files.ts): on
 *   a tree of small files the per-file system calls, not the bytes, are the cost, and here they
 *   run on every core instead of the main thread alone.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { Materializer, ownedHere } from '../fs/materialize.js';
import { NewFiles } from '../fs/new-files.js';
import type { EntriesJob, EntriesResult } from './restore-batch.js';
import { type BatchEntry, readBatch } from './restore-batch-codec.js';
import { ChunkCodec } from '../codec/codec.js';
import { CODEC_BUNDLED } from '../codec/codec-ids.js';
import { BundleCache } from '../store/bundle-cache.js';
import { FormatError, type Warn } from '../errors/index.js';
import { RECORD_HEADER_BYTES as FXAR_RECORD_HEADER_BYTES } from '../fxar/fxar-layout.js';
import { checkArchiveRecord } from '../fxar/record-codec.js';
import { checkRecord, decodeVerifiedSync } from '../store/chunk-verify.js';
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
/** The last bundle a member was read from: a bundle's members come one after the other in a batch. */
const bundles = new BundleCache(codec, true);
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

/**
 * Chunk `c`, read (or taken as fetched), checked, decompressed and verified: in `into` when it
 * is given and large enough (zstd's output goes there), else in a reused scratch buffer.
 */
function loadChunk(c: RestoreChunk, into?: Buffer): Uint8Array {
  const fxar = c.layout === 'fxar';
  const recordBytes = (fxar ? FXAR_RECORD_HEADER_BYTES : RECORD_HEADER_BYTES) + c.storedLength;
  const rec = c.record ? fetchedRecord(c.record, recordBytes, c.path) : preadFully(packFd(c.path), recordBytes, c.offset, c.path);
  const payload = fxar ? checkArchiveRecord(c.path, c.id, c, rec) : checkRecord(c.path, c.id, c, rec);
  if (c.codec === CODEC_BUNDLED && !fxar) return bundles.memberSync(c.path, c.id, c, payload, (at, length) => preadFully(packFd(c.path), length, at, c.path));
  if (!into && rawScratch.length < c.rawLength) rawScratch = Buffer.allocUnsafeSlow(c.rawLength);
  return decodeVerifiedSync(codec, c.path, c.id, c, payload, into ?? rawScratch);
}

/** Reads, verifies and writes `chunks` into `out` where `cursor` places them; returns their bytes. */
function writeChunks(out: number, cursor: ExtentCursor, chunks: readonly RestoreChunk[]): number {
  let bytes = 0;
  for (const c of chunks) {
    const data = loadChunk(c);
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

/** Reads and verifies `chunks` one after the other into `into` (which holds them all); returns their bytes. */
function loadChunksInto(into: Buffer, chunks: readonly RestoreChunk[]): number {
  let at = 0;
  for (const c of chunks) {
    const room = into.subarray(at);
    const data = loadChunk(c, room);
    // A chunk stored raw is its record's payload: copied; zstd decompressed in place.
    if (data.buffer !== room.buffer || data.byteOffset !== room.byteOffset) room.set(data);
    at += data.byteLength;
  }
  return at;
}

async function restorePart(job: RestorePartJob): Promise<{ bytes: number; recordBuffer?: ArrayBuffer }> {
  const out = openSync(Buffer.from(job.tmp.buffer, job.tmp.byteOffset, job.tmp.byteLength), 'r+');
  try {
    const cursor = new ExtentCursor(job.extents);
    cursor.take(job.skip);
    return { bytes: writeChunks(out, cursor, job.chunks) };
  } finally {
    closeSync(out);
  }
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** Made in batches by the addon (new-files.ts), reused from batch to batch. */
const newFiles = NewFiles.available ? new NewFiles() : null;

/**
 * Whether batch entry `b` goes to newFiles: a regular file without holes or xattrs, made at its
 * name in a new directory (fresh), that needs no chown (ownership not restored, or this user's
 * own) and keeps any setuid/setgid bits (kept only with its recorded owner: applyMeta's rule).
 */
function madeNatively(b: BatchEntry, owner: boolean): boolean {
  const m = b.meta;
  if (!newFiles || !b.fresh || m.type !== 'file' || m.segments || (m.xattrs?.length ?? 0) > 0) return false;
  return owner ? ownedHere(m) : (m.mode & 0o6000) === 0;
}

/**
 * Each entry of the batch in turn; an entry that fails is reported by its index and the rest go
 * on (as the main thread's restores do). Warnings are sent back, in order, for the main thread's
 * onWarn. The plain new files (madeNatively) are read and verified into one buffer and made
 * together at the end in one native call; the other entries are made here as they come.
 */
async function restoreEntries(job: EntriesJob): Promise<EntriesResult> {
  const result: EntriesResult = { failed: [], warnings: [] };
  const onWarn: Warn = (code, message, data) => { result.warnings.push([code, message, data ?? {}]); };
  const out = new Materializer({ root: asBuffer(job.root), owner: job.owner, onWarn });
  const native: number[] = [];
  let i = -1;
  for (const b of readBatch(job.bytes, job.packs, job.records)) {
    const { path, meta, chunks, linkTarget, fresh } = b;
    i++;
    try {
      if (madeNatively(b, job.owner)) {
        out.assertInside(path);
        let length = 0;
        for (const c of chunks) length += c.rawLength;
        newFiles!.add(path, meta, loadChunksInto(newFiles!.data(length), chunks));
        native.push(i);
      } else if (meta.type === 'symlink') {
        await out.symlink(path, linkTarget!);
        await out.applyMeta(path, meta, fresh);
      } else {
        // Without segments the data is the file from its start: the bytes written are its length.
        const fill = async (fd: number) => {
          const n = writeChunks(fd, new ExtentCursor(meta.segments ?? [[0, meta.size]]), chunks);
          return meta.segments ? undefined : n;
        };
        // Its metadata on the open file (no hard-link member is batched: it is never 'linked').
        await out.file(path, meta, { fill }, undefined, { fresh, meta: true });
      }
    } catch (err) {
      result.failed.push([i, (err as Error).message]);
    }
  }
  if (native.length > 0) newFiles!.write().forEach((err, k) => { if (err) result.failed.push([native[k], err.message]); });
  return result;
}

serveJobs(async (job: RestorePartJob | EntriesJob) => {
  const result = job.op === 'restore-entries' ? await restoreEntries(job) : await restorePart(job);
  // The fetched records' buffer goes back to be used again (record-buffers.ts); its views here are detached.
  if (job.recordBuffer === undefined) return { result };
  return { result: { ...result, recordBuffer: job.recordBuffer }, transfer: [job.recordBuffer] };
});
