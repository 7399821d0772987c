/**
 * Appends chunk records to one pack blob, then seals it with a trailer. Records are copied into
 * 1 MiB staging buffers, each written whole at a 1 MiB offset (aligned, so a storage may write
 * them with O_DIRECT) once it is full, one write (of the stages filled meanwhile) at a time.
 * `add` keeps no reference to the caller's bytes, so callers may pass views of buffers they
 * reuse (a codec's output space, a read buffer), and no chunk-sized buffer is allocated per
 * record. Staging buffers are recycled through a StagePool that the packs of one producer share
 * (a worker's packs, one after the other); a writer given none keeps its own.
 * A writer that failed is broken and says so; its blob is aborted, so a half-written pack never
 * appears under a pack name.
 */
import { ToolkitError } from '../errors/index.js';
import { alignedBuffer } from '../fs/direct-io.js';
import type { BlobStorage, BlobWriter } from './blob-storage.js';
import { encodePackHeader, encodeRecordHeader, encodeTrailer, type PackEntry, packIdFromChecksum } from './pack-codec.js';
import { PACK_HEADER_BYTES, RECORD_HEADER_BYTES } from './store-layout.js';

const STAGE_BYTES = 1 << 20;
// Enough for a worker's write queue (16 MiB) and the seals behind it: a freed stage is re-faulted page by
// page when allocated again, which measured ~4 % of a snapshot's CPU with 8 kept.
const FREE_STAGES_KEPT = 32;

/** Staging buffers whose writes completed, for the next stage of any pack that shares the pool (bounded). */
export class StagePool {
  private readonly free: Buffer[] = [];

  take(): Buffer {
    return this.free.pop() ?? alignedBuffer(STAGE_BYTES);
  }

  give(stage: Buffer): void {
    if (this.free.length < FREE_STAGES_KEPT) this.free.push(stage);
  }
}

export interface SealedPack { packId: string; entries: PackEntry[]; size: number }

export class PackWriter {
  private readonly entries: PackEntry[] = [];
  private stage: Buffer;
  private staged = 0;
  private offset = PACK_HEADER_BYTES;
  private broken: unknown = null;
  /** Resolves once the blob exists; every write starts behind it. */
  private readonly created: Promise<void>;
  /** Resolves when every write issued so far has completed (rejects if one failed). */
  private chain: Promise<void>;
  private blob: BlobWriter | null = null;

  /**
   * The blob is created asynchronously behind the first write, so a writer exists (and takes
   * records) at once; a failure to create it breaks the writer like a failed write.
   */
  private constructor(blob: Promise<BlobWriter>, private readonly stages: StagePool) {
    this.stage = stages.take();
    this.created = blob.then((b) => { this.blob = b; }, (err) => { this.broken = err; throw err; });
    this.created.catch(() => {});
    this.chain = this.created;
    this.copyIn(encodePackHeader());
  }

  /**
   * `direct`: the pack's data goes around the page cache where the storage can (BlobStorage.create).
   * `stages`: the pool this pack takes its staging buffers from and gives them back to.
   */
  static create(storage: BlobStorage, options: { direct?: boolean; stages?: StagePool } = {}): PackWriter {
    return new PackWriter(storage.create('pack', { direct: options.direct }), options.stages ?? new StagePool());
  }

  static async open(storage: BlobStorage, stages?: StagePool): Promise<PackWriter> {
    const w = PackWriter.create(storage, { stages });
    await w.chain;
    return w;
  }

  get size(): number { return this.offset; }
  get count(): number { return this.entries.length; }
  /** Bytes taken but not yet written. */
  get queued(): number { return this.inFlight + this.staged; }
  private inFlight = 0;
  /** Full stages waiting for the write in flight (see writeNext). */
  private queue: Array<{ stage: Buffer; bytes: number }> = [];
  private writing = false;

  /**
   * Copies a record into the pack; data is written in order. `stored` is not kept, so it may
   * be reused as soon as this returns. Throws if an earlier write failed.
   */
  add(id: Buffer, type: number, codec: number, rawLength: number, stored: Uint8Array): void {
    // A failure that already says what is wrong (NO_SPACE naming the store) is thrown as it is.
    if (this.broken) throw this.broken instanceof ToolkitError ? this.broken : new ToolkitError('PACK_BROKEN', 'pack writer is unusable after a failed write', {}, { cause: this.broken });
    const entry: PackEntry = { id, type, codec, rawLength, storedLength: stored.byteLength, offset: this.offset };
    this.entries.push(entry);
    this.copyIn(encodeRecordHeader(entry));
    this.copyIn(stored);
    this.offset += RECORD_HEADER_BYTES + stored.byteLength;
  }

  private copyIn(src: Uint8Array): void {
    for (let at = 0; at < src.byteLength;) {
      const n = Math.min(src.byteLength - at, STAGE_BYTES - this.staged);
      this.stage.set(n === src.byteLength ? src : src.subarray(at, at + n), this.staged);
      this.staged += n;
      at += n;
      if (this.staged === STAGE_BYTES) this.flush();
    }
  }

  private flush(): void {
    if (this.staged === 0) return;
    this.queue.push({ stage: this.stage, bytes: this.staged });
    this.inFlight += this.staged;
    this.stage = this.stages.take();
    this.staged = 0;
    if (!this.writing) this.writeNext();
  }

  /**
   * Writes every full stage queued so far in one call, and what queues meanwhile once that
   * write completes: one write per pack in flight. Appends extend the file, and ext4 holds the
   * inode lock exclusively through an extending O_DIRECT write, so concurrent appends to one
   * pack only waited in the kernel, spinning on that lock (~40 % of the write threads' CPU in a
   * first snapshot of the bench set). A thread whose event loop does not turn for long (a chunk
   * worker inside a big file) lets it turn once per block (WorkerPacker.settle), which starts
   * the next write with what that block queued.
   */
  private writeNext(): void {
    const batch = this.queue;
    this.queue = [];
    this.writing = batch.length > 0;
    if (!this.writing) return;
    let bytes = 0;
    for (const b of batch) bytes += b.bytes;
    const write = this.created
      .then(() => this.blob!.write(batch.map((b) => b.stage.subarray(0, b.bytes))))
      .then(() => {
        this.inFlight -= bytes;
        for (const b of batch) this.stages.give(b.stage);
        this.writeNext();
        this.wakeDrainers();
      }, (err) => {
        // The stages still queued are never written: the next add, drain or seal throws.
        this.broken ??= err;
        this.writing = false;
        this.wakeDrainers();
        throw err;
      });
    this.chain = Promise.all([this.chain, write]).then(() => {});
    // The failure is reported by the next add/drain/seal; never as an unhandled rejection.
    write.catch(() => {});
    this.chain.catch(() => {});
  }

  /** Waits for every queued write (each starts from the previous one's completion). */
  async drain(): Promise<void> {
    for (;;) {
      const chain = this.chain;
      await chain;
      if (chain === this.chain && !this.writing) return;
    }
  }

  private drainers: Array<{ limit: number; wake: () => void }> = [];

  private wakeDrainers(): void {
    this.drainers = this.drainers.filter((d) => {
      if (!this.broken && this.queued > d.limit) return true;
      d.wake();
      return false;
    });
  }

  /**
   * Waits until at most `limit` bytes are queued (the backpressure point for producers): the
   * oldest writes, not all of them, so the producer goes on while the newest are in flight.
   * Throws if a write failed.
   */
  async drainTo(limit: number): Promise<void> {
    if (this.queued > limit && !this.broken) await new Promise<void>((wake) => this.drainers.push({ limit, wake }));
    if (this.broken) await this.chain;
  }

  /** Writes the trailer, makes the pack durable and visible, and returns its id and entries. */
  async seal(): Promise<SealedPack> {
    const { trailer, checksum } = encodeTrailer(this.entries, this.offset);
    this.copyIn(trailer);
    this.flush();
    const packId = packIdFromChecksum(checksum);
    try {
      await this.drain();
      await this.blob!.commit(packId);
    } catch (err) {
      await this.blob?.abort();
      throw err;
    }
    return { packId, entries: this.entries, size: this.offset + trailer.byteLength };
  }

  async abort(): Promise<void> {
    this.queue.length = 0;
    await this.drain().catch(() => {});
    await this.blob?.abort();
  }
}
