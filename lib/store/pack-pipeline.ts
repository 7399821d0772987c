/**
 * What every writer of new packs keeps between the chunks it adds and the index (ChunkWriter on
 * the main thread, WorkerPacker in each chunk worker):
 *
 * - pending: the ids of chunks appended to packs that are not indexed yet. A chunk is found, in
 *   pending or in the index, from the moment it is added, so it is never stored twice by one
 *   writer; a sealed pack's ids leave pending only once the pack is indexed (`indexed`).
 * - seals in the background: a full pack is sealed (trailer, fsync, rename, directory fsync:
 *   ~30 ms here) behind the chunks being added; at most `sealsBehind` seals may still run when a
 *   producer goes on (waitForSeals).
 * - the queue limit: an open pack holds at most `queueLimit` bytes not yet written before its
 *   producer waits, until half of them are (bound).
 * - the failure latch: the first failure to write (a seal, a write, an index commit) is kept and
 *   thrown by every later call; `latch` may turn it into what the writer reports (a worker's
 *   failure is the worker's, not one file's).
 *
 * No per-chunk awaits here: a writer checks and adds pending ids synchronously, and calls the
 * asynchronous parts per pack or per block.
 */
import type { PackWriter, SealedPack } from './pack-writer.js';

export interface PipelineLimits {
  /** Seals that may still run when a producer goes on (waitForSeals). */
  sealsBehind: number;
  /** Bytes of an open pack queued for writing before its producer waits (bound). */
  queueLimit: number;
}

export class PackPipeline {
  private readonly pending = new Set<string>();
  /** Seals started, oldest first; none rejects (a failure is latched). */
  private sealing: Array<Promise<void>> = [];
  private readonly sealingWriters = new Set<PackWriter>();
  private failure: unknown = null;

  constructor(private readonly limits: PipelineLimits, private readonly latch: (err: unknown) => unknown = (err) => err) {}

  /** True when the chunk (its id as hex) was added and its pack is not indexed yet. */
  isPending(key: string): boolean {
    return this.pending.has(key);
  }

  addPending(key: string): void {
    this.pending.add(key);
  }

  /** A chunk that was not added after all (its space was refused). */
  dropPending(key: string): void {
    this.pending.delete(key);
  }

  /** `pack` is indexed: its chunks are found through the index from now on. */
  indexed(pack: SealedPack): void {
    for (const e of pack.entries) this.pending.delete(e.id.toString('hex'));
  }

  /** Latches `err` (the first failure wins) and returns what is latched. */
  fail(err: unknown): unknown {
    this.failure ??= this.latch(err);
    return this.failure;
  }

  /** The latched failure, or null. */
  get failed(): unknown {
    return this.failure;
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /**
   * Seals `w` in the background (an empty pack is dropped instead); `then` receives the sealed,
   * durable pack (to index it, or to hand it on). A failure of either is latched.
   */
  startSeal(w: PackWriter, then: (pack: SealedPack) => unknown): void {
    this.sealingWriters.add(w);
    const job: Promise<void> = (w.count === 0 ? w.abort().then(() => null) : w.seal())
      .then((pack) => (pack ? then(pack) : undefined))
      .then(() => {}, (err) => { this.fail(err); })
      .finally(() => { this.sealing = this.sealing.filter((j) => j !== job); this.sealingWriters.delete(w); });
    this.sealing.push(job);
  }

  /** Waits until at most `sealsBehind` seals run. */
  async waitForSeals(): Promise<void> {
    while (this.sealing.length > this.limits.sealsBehind) await this.sealing[0];
  }

  /** Waits for every seal started (their failures are latched, not thrown). */
  async allSealed(): Promise<void> {
    while (this.sealing.length > 0) await this.sealing[0];
  }

  /** Bytes that packs being sealed still have to write (free space does not show them yet). */
  get queuedInSeals(): number {
    let n = 0;
    for (const w of this.sealingWriters) n += w.queued;
    return n;
  }

  /**
   * Backpressure on the open pack `w`: past the queue limit, waits until half of it is written
   * (the oldest writes, so the producer goes on while the newest are in flight).
   */
  async bound(w: PackWriter): Promise<void> {
    if (w.queued > this.limits.queueLimit) await w.drainTo(this.limits.queueLimit / 2).catch((err) => { throw this.fail(err); });
  }
}
