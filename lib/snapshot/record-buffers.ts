/**
 * The buffers that carry the records a restore fetched on its main thread (from a bucket, where
 * a worker cannot read the packs itself) to its workers. A part's or a batch's records are
 * copied out of their read-ahead windows into one buffer, which goes to the worker in the
 * transfer list and comes back with the worker's reply, to be used again.
 *
 * Why copies, and why buffers that come back (measured on a full restore of 205 MiB of `mixed`
 * from a local Ceph): handing the workers views of the windows themselves, in shared memory,
 * held every window until the end (V8 does not count a SharedArrayBuffer as memory to collect:
 * peak RSS ~280 MiB, against ~107 MiB from local packs); copies in new buffers each time freed
 * the windows, but each worker kept tens of MiB of dead buffers until its own GC (~210 MiB).
 * Buffers that come back bound it by what is in flight. The copy costs ~30 ms per 170 MiB.
 *
 * Sizes are powers of two from MIN_BYTES; at most KEPT buffers wait to be used again (a buffer
 * of a failed job does not come back: it is left to the GC).
 */

const MIN_BYTES = 64 * 1024;
const KEPT = 16;

export class RecordBuffers {
  private readonly free: ArrayBuffer[] = [];

  /** `records` copied into one buffer (`buffer`, to transfer; `views`, the records in it, in order). */
  copy(records: readonly Uint8Array[]): { buffer: ArrayBuffer; views: Uint8Array[] } {
    let total = 0;
    for (const r of records) total += r.byteLength;
    const buffer = this.take(total);
    let at = 0;
    const views = records.map((r) => {
      const own = new Uint8Array(buffer, at, r.byteLength);
      own.set(r);
      at += r.byteLength;
      return own;
    });
    return { buffer, views };
  }

  /** A buffer a worker sent back with its reply. */
  giveBack(buffer: ArrayBuffer | undefined): void {
    if (buffer === undefined || buffer.byteLength === 0 || this.free.length >= KEPT) return;
    this.free.push(buffer);
  }

  /** Buffers waiting to be used again (for tests). */
  get kept(): number { return this.free.length; }

  private take(bytes: number): ArrayBuffer {
    if (bytes === 0) return new ArrayBuffer(0);
    // The smallest free buffer that holds it.
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const n = this.free[i]!.byteLength;
      if (n >= bytes && (best < 0 || n < this.free[best]!.byteLength)) best = i;
    }
    if (best >= 0) return this.free.splice(best, 1)[0]!;
    let size = MIN_BYTES;
    while (size < bytes) size *= 2;
    return new ArrayBuffer(size);
  }
}
