/**
 * Worker thread: reads files, cuts them into chunks, names each chunk by its BLAKE3 id, and
 * compresses and appends to this worker's own data pack the chunks the store does not have yet
 * (worker-packer.ts). All the CPU work and all the data I/O of a snapshot happen here, in as
 * many workers as there are cores. The main thread receives only chunk ids and lengths (for the
 * files' tree entries) and sealed packs (for the index).
 *
 * Jobs: 'file' (one file, or a section of a large one), 'files' (a batch of small files: one
 * message each way for many files, whose round trips cost more than reading them did on a tree
 * of 1 KiB files; issue 25), 'seal' (the end of a snapshot: seal the open pack, wait for seals
 * in flight, return the packs not yet reported), 'abort'.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { createChunker, type ChunkerParams } from '../chunker/index.js';
import type { CodecSpec } from '../codec/codec.js';
import { dataSegments } from '../fs/data-segments.js';
import { blake3 } from '../hash/blake3.js';
import { native } from '../native/load.js';
import { AbortedError, errorToJSON } from '../errors/index.js';
import { isWorkerFailure, serveJobs, type Emit } from '../util/worker-job.js';
import { ChunkIntake, ChunkListBuilder, type ChunkList } from './chunk-intake.js';
import { ClaimTable, type ClaimTableMemory } from './claim-table.js';
import type { SealedPack } from './pack-writer.js';
import { WorkerPacker } from './worker-packer.js';
import type { WorkerStoreRef } from './store-location.js';

export interface SealJob { op: 'seal' }
export interface AbortJob { op: 'abort' }

export interface FileJob {
  op: 'file';
  path: Uint8Array;
  size: number;
  /** Look for holes with SEEK_DATA/SEEK_HOLE (the file's blocks suggest it is sparse). */
  sparse: boolean;
  codec: CodecSpec;
  /**
   * Only the section [from, to) of the file (content-saver.ts cuts large files into sections
   * chunked side by side): its data within the section is read, the cutter restarts at `from`
   * and cuts at `to`, and the result's segments are the ranges read.
   */
  section?: { from: number; to: number };
}

/** Small files read one after the other by one worker, each whole (not sparse). */
export interface FilesJob {
  op: 'files';
  codec: CodecSpec;
  /** The paths back to back; file i's ends at pathEnds[i]. */
  paths: Uint8Array;
  pathEnds: number[];
  /** Sizes at stat time. */
  sizes: number[];
}

/** A batch's chunks, file after file, and per file what was read or why it could not be. */
export interface FilesResult extends ChunkList {
  /** How many of the chunks each file has. */
  counts: Uint32Array;
  files: Array<{ bytes: number; changed: boolean } | { error: Record<string, unknown> }>;
  /** How many of the files were not in the page cache when the batch was read. */
  coldFiles: number;
  newChunks: number;
  newRawBytes: number;
  newStoredBytes: number;
}

export type { ChunkList };

/**
 * A part streamed back during a file job: the next chunks of the file (ids, 32 bytes each, and
 * raw lengths), or a pack this worker sealed, which the main thread must index before it
 * acknowledges the part.
 */
export type FilePart =
  | ({ kind: 'chunks' } & ChunkList)
  | { kind: 'sealed'; pack: SealedPack };

export interface FileResult {
  /** The file's chunks after the last 'chunks' part (all of them for most files). */
  tail: ChunkList;
  /** What this file added to the store. */
  newChunks: number;
  newRawBytes: number;
  newStoredBytes: number;
  /** Bytes actually read (differs from the size at stat time when the file changed); of a section, its data read. */
  bytes: number;
  /** Data extents when the file has holes; null when it is one extent [0, bytes). Of a section: the ranges read. */
  segments: Array<[number, number]> | null;
  changed: boolean;
}

const { params, store, claims } = workerData as { params: ChunkerParams; store: WorkerStoreRef; claims?: ClaimTableMemory };
const packer = new WorkerPacker(store);
const chunker = createChunker(params);
// The snapshot's claim table, shared by its workers: a new chunk met by several at once (copies
// of a file read side by side) is stored by one of them (issue 25).
const intake = new ChunkIntake(packer, blake3(), claims ? new ClaimTable(claims) : null);
/**
 * Bytes read per call. Each block ends with WorkerPacker.settle, which lets the event loop turn
 * and so starts the pack's next write: with 8 MiB blocks writes waited longer, more 1 MiB
 * staging buffers were in use at once, and every new one is page faults on first touch (~16 us
 * each on the bench VM). 2 MiB blocks took a first snapshot of the bench set from 57,500 to
 * ~45,000 faults.
 */
const BLOCK = 2 << 20;
const buf = Buffer.allocUnsafeSlow(BLOCK + params.max);
const probe = Buffer.allocUnsafe(1);
let aborted = false;
/**
 * The last batch read had at least a quarter of its files not in the page cache: the tree is
 * being read cold (a nightly job's first read), so jobs are read ahead as they arrive
 * (prefetchJob). Warm, nothing is. Not at the first file not cached: a file read just before
 * (by `tar`, say) may end on a page the kernel marked for readahead, which RWF_NOWAIT refuses
 * like one not cached; a warm first snapshot of the real set met 208 such files, and after each
 * the next job's files were read ahead (2,577 more opens and readaheads, strace). (A tree of
 * large files alone is never read ahead: only batches tell.)
 */
let coldBatches = false;
const COLD_SHARE = 4;
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

serveJobs(async (job: FileJob | FilesJob | SealJob | AbortJob, emit) => {
  prefetchTaken(job);
  if (job.op === 'seal') return { result: await packer.finish() };
  if (job.op === 'abort') { aborted = true; await packer.abort(); return { result: null }; }
  // A job the pool posted after the abort (it waited for room in this worker's queue) would
  // open a pack that nothing removes.
  if (aborted) throw new AbortedError();
  const before = { ...packer.stats };
  const list = new ChunkListBuilder();
  const stats = () => ({
    newChunks: packer.stats.newChunks - before.newChunks, newRawBytes: packer.stats.newRawBytes - before.newRawBytes,
    newStoredBytes: packer.stats.newStoredBytes - before.newStoredBytes,
  });
  if (job.op === 'files') {
    const paths = Buffer.from(job.paths.buffer, job.paths.byteOffset, job.paths.byteLength);
    const counts = new Uint32Array(job.sizes.length);
    const files: FilesResult['files'] = [];
    const batch = readBatch(job);
    // Cold: let the event loop turn once, so a job queued behind this one arrives now and its
    // files start coming from the disk (prefetchJob) while this one is compressed.
    if (coldBatches) await new Promise<void>((resume) => setImmediate(resume));
    let from = 0;
    let at = 0;
    for (let i = 0; i < job.sizes.length; i++) {
      const path = paths.subarray(from, job.pathEnds[i]);
      from = job.pathEnds[i];
      const had = list.count;
      try {
        // Read with the batch: chunked and stored from there. Not read (an error, or no addon):
        // read alone, which reports the error in Node's words.
        const read = batch && batch.results[2 * i] >= 0
          ? await storeRead(path, batch.data.subarray(at, at + batch.results[2 * i]), batch.results[2 * i + 1] === 1, job.codec, list)
          : await readFile(path, { size: job.sizes[i], sparse: false, codec: job.codec }, list, null);
        files.push({ bytes: read.bytes, changed: read.changed });
      } catch (err) {
        // One file's problem (vanished, unreadable) is reported with it and the others go on;
        // a failure of the worker (the store) fails the whole batch.
        if (isWorkerFailure(err)) throw err;
        list.truncate(had);
        files.push({ error: errorToJSON(err) });
      }
      counts[i] = list.count - had;
      at += job.sizes[i];
    }
    await packer.settle();
    if (packer.hasSealed) await reportSealed(emit);
    const { ids, lengths } = list.take();
    const result: FilesResult = { ids, lengths, counts, files, coldFiles: batch?.cold ?? 0, ...stats() };
    return { result, transfer: [ids.buffer as ArrayBuffer, lengths.buffer as ArrayBuffer, counts.buffer as ArrayBuffer] };
  }
  const path = Buffer.from(job.path.buffer, job.path.byteOffset, job.path.byteLength);
  const read = await readFile(path, job, list, emit);
  // The last chunks travel with the result: one message per file, not two and an ack.
  const tail = list.take();
  const result: FileResult = { tail, ...read, ...stats() };
  return { result, transfer: [tail.ids.buffer as ArrayBuffer, tail.lengths.buffer as ArrayBuffer] };
}, undefined, prefetchJob);

/**
 * Bytes read ahead for jobs that have not started yet, at most (prefetchJob). Not more: the
 * reads of the directories still to be listed queue behind these on the disk, and the walk
 * waits for those. Cold first snapshots of the real set, A/B (chrt -f 1, load 11-15): 32 MiB
 * 3.47/3.16/3.86 s against 8 MiB 3.04/3.09/3.38 s; 8 and 2 MiB even (2.78-3.30, 2.69-3.13 s).
 */
const AHEAD_BYTES = 8 << 20;
/** Of a large file, the first bytes read ahead (the kernel's own readahead follows the reads). */
const AHEAD_FILE_BYTES = 8 << 20;
let aheadBytes = 0;
const aheadOf = new WeakMap<object, number>();

/**
 * A job that arrives while the tree reads cold (coldBatches): its files (of a large file, the
 * first AHEAD_FILE_BYTES) start coming from the disk now (native prefetchFiles, readahead(2)),
 * while the jobs ahead of it are read and compressed. At most AHEAD_BYTES so started wait for
 * their job: the page cache is not filled far ahead of the reads (nor is anything read for a
 * job that then fails).
 */
function prefetchJob(job: FileJob | FilesJob | SealJob | AbortJob | undefined): void {
  if (!coldBatches || !native || !job || aheadBytes >= AHEAD_BYTES) return;
  let bytes = 0;
  if (job.op === 'files') {
    for (const size of job.sizes) bytes += size;
    native.prefetchFiles(job.paths, Uint32Array.from(job.pathEnds), Uint32Array.from(job.sizes));
  } else if (job.op === 'file' && !job.sparse && !job.section?.from) {
    bytes = Math.min(job.size, AHEAD_FILE_BYTES);
    native.prefetchFiles(job.path, Uint32Array.of(job.path.byteLength), Uint32Array.of(bytes));
  } else {
    return;
  }
  aheadBytes += bytes;
  aheadOf.set(job, bytes);
}

/** The job starts: what was read ahead for it no longer counts as ahead. */
function prefetchTaken(job: object): void {
  aheadBytes -= aheadOf.get(job) ?? 0;
  aheadOf.delete(job);
}

type FileRead = Pick<FileResult, 'bytes' | 'segments' | 'changed'>;

/** Where a batch's files are read to (readBatch): grown to the largest batch met, ~1.25 MiB. */
let batchBuf = Buffer.alloc(0);

/**
 * A 'files' job's files read in one native call (native/src/read_files.cc); null without the
 * addon. results[2i]: file i's bytes (at the sum of the sizes before it in `data`) or -errno;
 * results[2i+1]: 1 when it changed size since stat; results[2n]: how many were not cached.
 */
function readBatch(job: FilesJob): { data: Buffer; results: Int32Array; cold: number } | null {
  if (!native) return null;
  let total = 0;
  for (const size of job.sizes) total += size;
  if (batchBuf.length < total) batchBuf = Buffer.allocUnsafeSlow(total);
  const n = job.sizes.length;
  const results = new Int32Array(2 * n + 1);
  native.readFiles(job.paths, Uint32Array.from(job.pathEnds), Uint32Array.from(job.sizes), batchBuf, results);
  coldBatches = results[2 * n] > 0 && results[2 * n] * COLD_SHARE >= n;
  return { data: batchBuf, results, cold: results[2 * n] };
}

/** A small file read whole by readBatch (`data`), cut and stored as readFile does. */
async function storeRead(path: Buffer, data: Buffer, changed: boolean, codec: CodecSpec, list: ChunkListBuilder): Promise<FileRead> {
  const cuts = chunker.cutLengths(data, true);
  await intake.storeChunks(data, cuts, intake.levels.specForFile(codec, data.length, path), list);
  return { bytes: data.length, segments: null, changed };
}

/**
 * Reads, cuts and stores one file (or section), pushing its chunks to `list`. With `emit` (a
 * job of one file) long chunk lists go to the main thread as they grow; a batch of small files
 * passes none, as their lists are short.
 */
async function readFile(path: Buffer, job: Pick<FileJob, 'size' | 'sparse' | 'codec' | 'section'>, list: ChunkListBuilder, emit: Emit | null): Promise<FileRead> {
  const fd = openForRead(path);
  try {
    const { from, to } = job.section ?? { from: 0, to: job.size };
    let segments: Array<[number, number]> = [[from, to - from]];
    if (job.sparse && to > from) segments = dataSegments(fd, to, undefined, from);
    let total = 0;
    let changed = false;
    const read: Array<[number, number]> = [];
    const spec = intake.levels.specForFile(job.codec, to - from, path);
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
        const cuts = chunker.cutLengths(buf.subarray(0, avail), final);
        const o = await intake.storeChunks(buf, cuts, spec, list);
        carry = avail - o;
        if (carry > 0) buf.copyWithin(0, o, avail);
        // Once per block of a file read alone: bound the writes and seals in flight, report
        // packs sealed meanwhile (the main thread indexes them while this worker goes on), pass
        // long chunk lists on. A batch does this once, at its end.
        if (emit) {
          await packer.settle();
          if (packer.hasSealed) await reportSealed(emit);
          if (list.count >= 4096) {
            const part = list.take();
            await emit({ kind: 'chunks', ...part } satisfies FilePart, [part.ids.buffer as ArrayBuffer, part.lengths.buffer as ArrayBuffer]);
          }
        }
        if (final) break;
      }
      read.push([segOff, pos - segOff]);
    }
    if (!changed && segments.length === 1 && job.size > 0 && (!job.section || job.section.to === job.size)) {
      // A file that grew since stat: we read what stat promised; say it changed. Probe at the
      // stat size, not the end of the one extent: after a trailing hole that reads zeros.
      if (readSync(fd, probe, 0, 1, job.size) > 0) changed = true;
    }
    // A file that shrank while being read is recorded as read: its extents and size end where
    // the data ended, so the chunk lengths always add up to the recorded extents.
    const last = read[read.length - 1];
    const size = job.section ? total : changed && last ? last[0] + last[1] : (job.sparse ? job.size : total);
    const sparse = job.section !== undefined || read.length !== 1 || read[0][0] !== 0 || read[0][1] !== size;
    return { bytes: size, segments: sparse ? read.filter(([, l]) => l > 0) : null, changed };
  } finally {
    closeSync(fd);
  }
}

/**
 * Packs sealed in the background are reported as they complete, by whichever job is running
 * then; a sealed pack's ids are forgotten only once the main thread has indexed it.
 */
async function reportSealed(emit: Emit): Promise<void> {
  for (const pack of packer.takeSealed()) await emit({ kind: 'sealed', pack } satisfies FilePart, [], () => packer.indexed(pack));
}
