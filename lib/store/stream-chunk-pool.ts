/**
 * Stores streamed contents (tar members) as chunks on worker threads: the main thread copies
 * each stream's bytes into batches and the workers (stream-chunk-worker.ts) cut, hash,
 * compress and pack them, each into its own data pack. What comes back is each stream's chunk
 * list, the same as a single-thread chunker gives; the caller builds tree entries from it.
 *
 * Two ways a stream's bytes travel, chosen by its size when it begins:
 *   - small (under SPLIT_FROM, most files): the whole stream goes to one lane (one worker),
 *     in order, and the worker runs the chunker over it. The main thread only copies bytes.
 *   - large: the main thread runs the chunker itself and spreads the chunks over every lane,
 *     so one big file keeps every core busy instead of one. A tar is read in order and cannot
 *     be read ahead, so a big member given whole to one worker would leave the others idle
 *     while it streams in. The price is the gear scan (~1 GB/s) on the main thread for those
 *     bytes only.
 *
 * Lanes: one worker per lane (a WorkerPool of size 1, so a lane's jobs run in the order they
 * are sent, which is what keeps a small stream's pieces in order; their results are taken in
 * that order too). Batching: bytes are copied
 * into the lane's open batch (BATCH bytes); a batch is sent when it is full, or when a stream
 * ends while its lane has fewer than two batches in flight, and, when a batch completes, a
 * partial batch of its lane is sent at once if the lane is then short of work. So a busy worker
 * receives many small files in one message, an idle one never waits for a batch to fill, and
 * bytes never sit in a batch while their worker idles: a caller may wait on any ended stream.
 *
 * Memory: per lane, at most WINDOW bytes of batches in flight (write() waits: the back-pressure
 * on whatever produces the bytes) plus the open batch; one large stream's uncut tail; per open
 * stream, its chunk refs. Small batches are sent as exact copies so a 4 MiB buffer never
 * travels for a few KiB.
 *
 * Dedup: a chunk is new unless the index, the worker's own unindexed pack, or another worker
 * of this import (a shared claim table, claim-table.ts) has it; so each new chunk is stored
 * once, as by a single-thread import, wherever its copies land. Chunk ids and trees are the
 * same as a single-thread import's.
 */
import { createChunker, type Chunker } from '../chunker/index.js';
import type { CodecSpec } from '../codec/codec.js';
import type { ChunkRef } from './chunk-ref.js';
import { CHUNK_WORKER_LIMITS, defaultPoolSize, WorkerPool } from '../util/worker-pool.js';
import type { Store } from './chunk-store.js';
import { ClaimTable } from './claim-table.js';
import { workerTransfer } from './store-location.js';
import type { SealedPack } from './pack-writer.js';
import { PIECE_CHUNK, PIECE_END, type DataJob, type DataResult, type SealedPart } from './stream-chunk-job.js';

const BATCH = 4 << 20;
const WINDOW = 3 * BATCH;
/** Batches with less than this are sent as an exact copy; the batch buffer is kept. */
const COPY_BELOW = BATCH / 4;
/** Streams of at least this many bytes are cut on the main thread and spread over the lanes. */
export const SPLIT_FROM = 4 << 20;
/** A large stream is cut in steps of this many bytes (plus the tail of the previous step). */
const CUT_STEP = 4 << 20;

interface OpenStream {
  refs: ChunkRef[];
  /** Chunks sent to workers whose ids have not come back (large streams). */
  missing: number;
  ended: boolean;
  resolve: (refs: ChunkRef[]) => void;
  reject: (err: unknown) => void;
}

interface Lane {
  pool: WorkerPool;
  buf: Buffer | null;
  used: number;
  pieces: Array<[number, number, number]>;
  /** Per piece, for PIECE_CHUNK pieces: the chunk's index in its stream's list (else -1). */
  slots: number[];
  /** Bytes of the batches sent and not yet done (their buffers' sizes). */
  inflightBytes: number;
  inflightJobs: number;
  wake: Array<() => void>;
  /** The last sent job's result, taken (see send). */
  results: Promise<void>;
}

export interface StreamChunkStats { newChunks: number; newRawBytes: number; newStoredBytes: number }

/** One stream's writer: write its bytes in order, then end it. */
export interface ChunkStream {
  /** Adds the next bytes (copied: the caller may reuse `piece`). Waits when the lanes are full. */
  write(piece: Uint8Array): Promise<void>;
  /**
   * Ends the stream. Resolves once its bytes are handed over, with `refs`: the promise of its
   * chunk list, which settles when every chunk is stored (wait on it later, not now).
   */
  end(): Promise<{ refs: Promise<ChunkRef[]> }>;
}

export class StreamChunkPool {
  private readonly lanes: Lane[] = [];
  private readonly open = new Map<number, OpenStream>();
  private readonly chunker: Chunker;
  private nextStream = 1;
  /** Batch buffers the workers gave back. */
  private readonly spare: Buffer[] = [];
  private failure: unknown = null;
  readonly stats: StreamChunkStats = { newChunks: 0, newRawBytes: 0, newStoredBytes: 0 };

  /**
   * `packTarget`: the workers' data pack size (default PACK_TARGET_BYTES; smaller in tests).
   * `claims`: the import's claim table when it has one (an empty store, indexed at its end).
   */
  constructor(private readonly store: Store, private readonly codec: CodecSpec, size = defaultPoolSize(), packTarget?: number, claimTable?: ClaimTable) {
    this.chunker = createChunker(store.config.chunker);
    const claims = (claimTable ?? ClaimTable.create()).memory;
    const data = () => {
      const ref = store.workerRef();
      return { data: { params: store.config.chunker, store: ref, claims, packTarget }, transfer: workerTransfer(ref) };
    };
    for (let i = 0; i < size; i++) {
      this.lanes.push({
        pool: new WorkerPool('store/stream-chunk-worker.js', data, 1, 8, CHUNK_WORKER_LIMITS), buf: null, used: 0, pieces: [], slots: [],
        inflightBytes: 0, inflightJobs: 0, wake: [], results: Promise.resolve(),
      });
    }
  }

  get size(): number { return this.lanes.length; }

  private leastLoaded(): Lane {
    let best = this.lanes[0];
    for (const l of this.lanes) if (l.inflightBytes + l.used < best.inflightBytes + best.used) best = l;
    return best;
  }

  /** Starts a stream of `size` bytes (the size chooses how it travels; see the file header). */
  begin(size: number): ChunkStream {
    this.check();
    const stream = this.nextStream++;
    const s: OpenStream = { refs: [], missing: 0, ended: false, resolve: () => {}, reject: () => {} };
    const done = new Promise<ChunkRef[]>((resolve, reject) => { s.resolve = resolve; s.reject = reject; });
    // Observed by the caller later; a failure must not surface as unhandled meanwhile.
    done.catch(() => {});
    this.open.set(stream, s);
    return size >= SPLIT_FROM ? this.splitStream(stream, s, done) : this.laneStream(stream, done);
  }

  /** A small stream: every byte to one lane, whose worker cuts it. */
  private laneStream(stream: number, done: Promise<ChunkRef[]>): ChunkStream {
    const lane = this.leastLoaded();
    return {
      write: async (piece) => {
        let off = 0;
        while (off < piece.length) {
          this.check();
          const n = Math.min(piece.length - off, BATCH - lane.used);
          this.put(lane, stream, piece.subarray(off, off + n), 0, -1);
          off += n;
          if (lane.used === BATCH) await this.send(lane, true);
        }
      },
      end: async () => {
        this.check();
        this.put(lane, stream, new Uint8Array(0), PIECE_END, -1);
        if (lane.inflightJobs < 2) await this.send(lane, false);
        return { refs: done };
      },
    };
  }

  /** A large stream: cut here, its chunks spread over the least loaded lanes. */
  private splitStream(stream: number, s: OpenStream, done: Promise<ChunkRef[]>): ChunkStream {
    let pend = Buffer.allocUnsafe(CUT_STEP + this.chunker.params.max);
    let used = 0;
    const cut = async (final: boolean) => {
      const lengths = this.chunker.cutLengths(pend.subarray(0, used), final);
      let o = 0;
      for (let i = 0; i < lengths.length; i++) {
        this.check();
        let lane = this.leastLoaded();
        // Terminates: a lane just sent has an empty batch, and a chunk is under BATCH.
        while (lane.used + lengths[i] > BATCH) {
          await this.send(lane, true);
          lane = this.leastLoaded();
        }
        s.refs.push({ id: EMPTY_ID, length: lengths[i] });
        s.missing++;
        this.put(lane, stream, pend.subarray(o, o + lengths[i]), PIECE_CHUNK, s.refs.length - 1);
        o += lengths[i];
        if (lane.used >= BATCH - this.chunker.params.min) await this.send(lane, true);
      }
      pend.copyWithin(0, o, used);
      used -= o;
    };
    return {
      write: async (piece) => {
        let off = 0;
        while (off < piece.length) {
          const n = Math.min(piece.length - off, pend.length - used);
          pend.set(piece.subarray(off, off + n), used);
          used += n;
          off += n;
          if (used >= CUT_STEP) await cut(false);
        }
      },
      end: async () => {
        await cut(true);
        pend = Buffer.alloc(0);
        s.ended = true;
        // Partial batches go now if their lanes are short of work (the caller may wait on us).
        for (const lane of this.lanes) if (lane.inflightJobs < 2) await this.send(lane, false);
        this.settle(stream, s);
        return { refs: done };
      },
    };
  }

  /** Copies a piece into the lane's open batch (the caller made room). */
  private put(lane: Lane, stream: number, bytes: Uint8Array, flags: number, slot: number): void {
    lane.buf ??= this.spare.pop() ?? Buffer.allocUnsafeSlow(BATCH);
    lane.buf.set(bytes, lane.used);
    lane.used += bytes.length;
    const last = lane.pieces[lane.pieces.length - 1];
    // Consecutive raw pieces of one stream are one piece.
    if (flags !== PIECE_CHUNK && last && last[0] === stream && last[2] === 0) { last[1] += bytes.length; last[2] = flags; return; }
    lane.pieces.push([stream, bytes.length, flags]);
    lane.slots.push(slot);
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  /** Sends the lane's batch; with `wait`, first waits until the lane has room in its window. */
  private async send(lane: Lane, wait: boolean): Promise<void> {
    while (wait && lane.inflightBytes >= WINDOW && !this.failure) await new Promise<void>((r) => lane.wake.push(r));
    this.check();
    if (lane.pieces.length === 0) return;
    let data: Uint8Array;
    if (lane.used < COPY_BELOW) {
      data = lane.buf ? new Uint8Array(lane.buf.subarray(0, lane.used)) : new Uint8Array(0);
    } else {
      data = new Uint8Array(lane.buf!.buffer, lane.buf!.byteOffset, lane.used);
      lane.buf = this.spare.pop() ?? null;
    }
    const job: DataJob = { op: 'data', codec: this.codec, buf: data, pieces: lane.pieces };
    const slots = lane.slots;
    lane.pieces = [];
    lane.slots = [];
    lane.used = 0;
    const bytes = data.buffer.byteLength;
    lane.inflightBytes += bytes;
    lane.inflightJobs++;
    const run = lane.pool.run<DataResult>(job, [data.buffer as ArrayBuffer], (part: SealedPart) => this.store.indexSealed(part.pack));
    // The worker runs a lane's jobs in turn, but their results may resolve out of turn: a job
    // that reported a sealed pack resolves only once the pack is indexed, and the next job's
    // result can overtake it. Results are taken in send order, so a small stream's chunks are
    // appended in order (out of turn they were reordered, or their stream already settled).
    run.catch(() => {}); // handled below, possibly after an earlier job's result
    const taken = lane.results.then(() => run).then((r) => this.done(job, slots, r));
    lane.results = taken.catch(() => {});
    taken.catch((err) => this.fail(err)).finally(() => {
      lane.inflightBytes -= bytes;
      lane.inflightJobs--;
      for (const w of lane.wake.splice(0)) w();
      // Never leave bytes waiting in a batch while the worker runs short of work.
      if (lane.inflightJobs < 2 && lane.pieces.length && !this.failure) this.send(lane, false).catch(() => {});
    });
  }

  private done(job: DataJob, slots: number[], r: DataResult): void {
    // Fresh 4 MiB buffers for every batch cost page faults and (as external memory) collections.
    if (r.buf && r.buf.buffer.byteLength === BATCH && this.spare.length < this.lanes.length * 2) this.spare.push(Buffer.from(r.buf.buffer));
    this.stats.newChunks += r.newChunks;
    this.stats.newRawBytes += r.newRawBytes;
    this.stats.newStoredBytes += r.newStoredBytes;
    const ids = Buffer.from(r.ids.buffer, r.ids.byteOffset, r.ids.byteLength);
    let c = 0;
    for (let p = 0; p < job.pieces.length; p++) {
      const [stream, , flags] = job.pieces[p];
      const s = this.open.get(stream);
      if (!s) throw new Error(`stream ${stream} is not open`);
      for (let i = 0; i < r.counts[p]; i++, c++) {
        const ref = { id: Buffer.from(ids.subarray(c * 32, c * 32 + 32)), length: r.lengths[c] };
        if (flags & PIECE_CHUNK) { s.refs[slots[p]] = ref; s.missing--; } else s.refs.push(ref);
      }
      if (flags & PIECE_END) s.ended = true;
      this.settle(stream, s);
    }
  }

  private settle(stream: number, s: OpenStream): void {
    if (!s.ended || s.missing > 0) return;
    this.open.delete(stream);
    s.resolve(s.refs);
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    for (const s of this.open.values()) s.reject(this.failure);
    this.open.clear();
    for (const lane of this.lanes) for (const w of lane.wake.splice(0)) w();
  }

  /**
   * Sends what is left, waits for every batch, then seals each worker's open pack and indexes
   * it: on return every chunk of every ended stream is durable and indexed.
   */
  async finish(): Promise<void> {
    for (const lane of this.lanes) await this.send(lane, true);
    for (const lane of this.lanes) {
      while (lane.inflightJobs > 0 && !this.failure) await new Promise<void>((r) => lane.wake.push(r));
    }
    this.check();
    for (const lane of this.lanes) {
      const [packs] = await lane.pool.runOnEach<SealedPack[]>({ op: 'seal' });
      for (const sealed of packs) await this.store.indexSealed(sealed);
    }
  }

  /** Drops the workers' open packs (after a failure): nothing refers to their chunks. */
  async abort(): Promise<void> {
    this.failure ??= new Error('stream chunk pool aborted');
    await Promise.all(this.lanes.map((l) => l.pool.runOnEach({ op: 'abort' }).catch(() => {})));
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.pool.close()));
  }
}

const EMPTY_ID = Buffer.alloc(32);

