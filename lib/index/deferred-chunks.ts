/**
 * Chunk entries held out of the index until the end of a run, then put in key order (issue 25:
 * CPU per file flat from 1,000,000 to 3,000,000 small files). A first snapshot into an empty
 * store puts every one of its chunks into the index; ids are random, so each put read a random
 * leaf of a B-tree that grows with the run, and past the index's map budget most of those were
 * page faults (18-25 µs each on the bench VM). Measured alone (packs of 8,192 entries, puts as
 * StoreIndex.addPack makes them): 1,000,000 entries 16.7 s of CPU (27 s wall), 3,000,000 120 s
 * (162 s wall): 17 then 40 µs an entry. Spilled here and put in key order: 3.5 s at 1,000,000
 * (StoreIndex.addDeferredPacks says why not appended).
 *
 * Layout: 256 bucket files by the id's first byte, in a scratch directory (`spill-<pid>-…` in
 * the store's tmp/, removed by the next writer's cleanTmp if this process dies). Each record is
 * RECORD bytes: id[32], the pack's ordinal in this run u32, then the index value's fields
 * (offset u32, storedLength u32, rawLength u32, codec u8, type u8, share u32). A bucket is read
 * back whole and sorted in memory: ~680 KB a bucket for 3,000,000 entries, 256 × BUFFER bytes of
 * write buffers while spilling. Durability is not wanted: the packs are on disk, and a run that
 * dies before its merge leaves them to reconcilePacks (chunk-store.ts).
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { PackEntry } from '../store/index.js';

export const DEFERRED_RECORD_BYTES = 58;
const BUCKETS = 256;
const BUFFER = 8192;

/** One record as `forEachSorted` hands it out: a view valid during the call. */
export interface DeferredRecord {
  id: Buffer; ordinal: number; offset: number; storedLength: number; rawLength: number; codec: number; type: number; share: number;
}

export class DeferredChunks {
  private readonly fds: number[] = [];
  private readonly paths: string[] = [];
  private readonly buffers: Buffer[] = [];
  private readonly used = new Uint32Array(BUCKETS);
  private closed = false;
  /** Records spilled so far. */
  count = 0;

  private constructor(private readonly dir: string) {
    for (let b = 0; b < BUCKETS; b++) {
      this.paths.push(join(dir, b.toString(16).padStart(2, '0')));
      this.buffers.push(Buffer.allocUnsafe(BUFFER - (BUFFER % DEFERRED_RECORD_BYTES)));
    }
  }

  /** A new spill in a scratch directory under `parent` (the store's tmp/). */
  static open(parent: string): DeferredChunks {
    mkdirSync(parent, { recursive: true });
    const spill = new DeferredChunks(mkdtempSync(join(parent, `spill-${process.pid}-`)));
    try {
      for (const path of spill.paths) spill.fds.push(openSync(path, 'a'));
    } catch (err) {
      spill.close();
      throw err;
    }
    return spill;
  }

  /** Spills entry `i` of a pack (its `ordinal` in this run) with its bundle share. */
  add(e: PackEntry, ordinal: number, share: number): void {
    const b = e.id[0];
    const buf = this.buffers[b];
    let at = this.used[b];
    if (at === buf.length) {
      writeSync(this.fds[b], buf, 0, at);
      at = 0;
    }
    buf.set(e.id, at);
    buf.writeUInt32LE(ordinal, at + 32);
    buf.writeUInt32LE(e.offset, at + 36);
    buf.writeUInt32LE(e.storedLength, at + 40);
    buf.writeUInt32LE(e.rawLength, at + 44);
    buf[at + 48] = e.codec;
    buf[at + 49] = e.type;
    buf.writeUInt32LE(share, at + 50);
    this.used[b] = at + DEFERRED_RECORD_BYTES;
    this.count++;
  }

  /**
   * Every record in id order, and for one id in ordinal order (the first pack's copy first),
   * bucket by bucket. The object yielded is reused; its `id` is a view that stays valid. A spill
   * is read once: its buckets are gone afterwards.
   */
  *sorted(): Generator<DeferredRecord> {
    const R = DEFERRED_RECORD_BYTES;
    const r: DeferredRecord = { id: Buffer.alloc(0), ordinal: 0, offset: 0, storedLength: 0, rawLength: 0, codec: 0, type: 0, share: 0 };
    for (let b = 0; b < BUCKETS; b++) {
      if (this.used[b] > 0) writeSync(this.fds[b], this.buffers[b], 0, this.used[b]);
      this.used[b] = 0;
      closeSync(this.fds[b]);
      this.fds[b] = -1;
      const all = readFileSync(this.paths[b]);
      rmSync(this.paths[b]);
      const n = all.length / R;
      // Ids are uniform: bytes 1-6 as a number order nearly every pair without a byte compare.
      const prefix = new Float64Array(n);
      const order: number[] = new Array(n);
      for (let k = 0; k < n; k++) { prefix[k] = all.readUIntBE(k * R + 1, 6); order[k] = k; }
      order.sort((x, y) => prefix[x] - prefix[y] || all.compare(all, x * R + 7, x * R + 32, y * R + 7, y * R + 32)
        || all.readUInt32LE(x * R + 32) - all.readUInt32LE(y * R + 32));
      for (const k of order) {
        const at = k * R;
        r.id = all.subarray(at, at + 32);
        r.ordinal = all.readUInt32LE(at + 32);
        r.offset = all.readUInt32LE(at + 36);
        r.storedLength = all.readUInt32LE(at + 40);
        r.rawLength = all.readUInt32LE(at + 44);
        r.codec = all[at + 48];
        r.type = all[at + 49];
        r.share = all.readUInt32LE(at + 50);
        yield r;
      }
    }
  }

  /** Closes and removes the spill (what was not read back is dropped). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of this.fds) if (fd >= 0) try { closeSync(fd); } catch { /* closed */ }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
