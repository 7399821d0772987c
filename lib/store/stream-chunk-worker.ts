/**
 * Worker thread: chunks, names, compresses and packs the contents of streams that the main
 * thread receives in pieces (tar members; see stream-chunk-pool.ts). It is chunk-worker.ts for
 * data that is not in a file this thread can open: the bytes arrive in batches, transferred.
 *
 * A batch holds pieces of one or more streams, back to back. A piece is either
 *   - raw stream bytes: every such piece of a stream comes to the same worker, in order, so
 *     the chunker runs over the stream's whole data exactly as a single-thread import would:
 *     the unfinished tail after the last cut of a piece is kept and prepended to the stream's
 *     next piece, and the stream's last piece is cut with `final`; or
 *   - one chunk the main thread already cut (PIECE_CHUNK: large streams are cut there so that
 *     their chunks can be spread over every worker), which is only hashed and stored.
 * Either way the cut points, hence the chunk ids and every tree id, do not depend on how the
 * data was batched.
 *
 * New chunks go to this worker's own data pack (worker-packer.ts); a pack it seals is sent to
 * the main thread as a part, which indexes it before the worker forgets its ids. A chunk that
 * another worker of the same import has claimed (claim-table.ts) is left to that worker. The
 * result of a batch is the ids and lengths of the chunks each piece completed.
 *
 * Jobs: 'data' (one batch), 'seal' (seal the open pack: the end of an import), 'abort'.
 */
import { workerData } from 'node:worker_threads';
import { createChunker, type ChunkerParams } from '../chunker/index.js';
import { blake3 } from '../hash/blake3.js';
import { serveJobs } from '../util/worker-job.js';
import { ChunkIntake, ChunkListBuilder } from './chunk-intake.js';
import { ClaimTable, type ClaimTableMemory } from './claim-table.js';
import { PIECE_CHUNK, PIECE_END, type AbortJob, type DataJob, type DataResult, type SealJob, type SealedPart } from './stream-chunk-job.js';
import { WorkerPacker } from './worker-packer.js';
import type { WorkerStoreRef } from './store-location.js';

const { params, store, claims: claimMemory, packTarget } = workerData as { params: ChunkerParams; store: WorkerStoreRef; claims?: ClaimTableMemory; packTarget?: number };
const claims = claimMemory ? new ClaimTable(claimMemory) : null;
const packer = new WorkerPacker(store, packTarget);
const chunker = createChunker(params);
const intake = new ChunkIntake(packer, blake3(), claims);
/** Streams whose last piece has not come yet: the bytes after their last cut. */
const tails = new Map<number, Buffer>();
const NO_NAME = new Uint8Array(0);

serveJobs(async (job: DataJob | SealJob | AbortJob, emit) => {
  if (job.op === 'seal') return { result: await packer.finish() };
  if (job.op === 'abort') { tails.clear(); await packer.abort(); return { result: null }; }
  const before = { ...packer.stats };
  const buf = Buffer.from(job.buf.buffer, job.buf.byteOffset, job.buf.byteLength);
  const list = new ChunkListBuilder();
  const counts = new Uint32Array(job.pieces.length);
  let at = 0;
  for (let p = 0; p < job.pieces.length; p++) {
    const [stream, length, flags] = job.pieces[p];
    const end = (flags & PIECE_END) !== 0;
    let data = buf.subarray(at, at + length);
    at += length;
    const tail = tails.get(stream);
    if (tail) { data = Buffer.concat([tail, data]); tails.delete(stream); }
    const cuts = flags & PIECE_CHUNK ? [length] : chunker.cutLengths(data, end);
    // Each piece on its own: under zstd:auto a piece of 256 KiB and more takes the level of the
    // worker's stream data so far (a stream's pieces may go to different workers; pieces carry
    // no file names, so they are all of one kind).
    const o = await intake.storeChunks(data, cuts, intake.levels.specForFile(job.codec, data.length, NO_NAME), list);
    counts[p] = cuts.length;
    // Copied: the batch buffer goes back to the main thread; the tail is under the chunker's max.
    if (!end && o < data.length) tails.set(stream, Buffer.from(data.subarray(o)));
  }
  // Packs seal in the background (worker-packer.ts); each is reported once durable and
  // forgotten here only after the main thread has indexed it.
  await packer.settle();
  for (const pack of packer.takeSealed()) await emit({ kind: 'sealed', pack } satisfies SealedPart, [], () => packer.indexed(pack));
  const { ids: idBuf, lengths } = list.take();
  const result: DataResult = {
    ids: idBuf, lengths, counts,
    newChunks: packer.stats.newChunks - before.newChunks, newRawBytes: packer.stats.newRawBytes - before.newRawBytes,
    newStoredBytes: packer.stats.newStoredBytes - before.newStoredBytes,
  };
  // The batch buffer goes back for reuse: nothing here refers to it any more (pack writers copy
  // what they are given, and tails are copies).
  result.buf = job.buf;
  return { result, transfer: [idBuf.buffer as ArrayBuffer, result.lengths.buffer as ArrayBuffer, counts.buffer as ArrayBuffer, job.buf.buffer as ArrayBuffer] };
});
