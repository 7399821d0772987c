/**
 * A set of chunk ids shared by the worker threads of one snapshot or import (over a
 * SharedArrayBuffer), so that a chunk met by several workers at once is stored by one of them.
 * Without it each worker only knows the index and its own unindexed pack, and a chunk repeated
 * within one run (copies of a file, an edited file after its original) could be stored once per
 * worker: 308 chunks twice in a first snapshot of a real tree with many identical files (issue 25).
 *
 * `claim(id)` returns true to exactly one caller per id: that caller stores the chunk; the
 * others leave it out and reference it anyway. That is safe because nothing refers to a chunk
 * until the run commits, and it commits only after every worker's pack is sealed and indexed; a
 * worker that claimed a chunk and could not store it fails the whole run (chunk-intake.ts).
 *
 * Layout: open addressing with linear probing; per slot a state (Int32: 0 empty, 1 being
 * written, 2 full) and the 32-byte id. A slot is taken with a compare-and-swap of its state;
 * a reader that finds it being written waits (Atomics.wait) until it is full, then compares.
 * Limit: when three quarters of the slots are used, `claim` returns true for every id not
 * found (callers then dedup only against the index and their own packs: correct, and as good
 * as without the table). 2^19 slots (18 MiB, touched as used) hold 393,000 new chunks: about
 * 24 GiB of new data at the 64 KiB average chunk, but only that many new small files (a file
 * under the chunker's minimum is one chunk), so a first snapshot of millions of small files
 * can still store a few duplicates past that point. Ids hash uniformly over the table, so
 * after a few thousand new chunks all of its pages are touched: 18 MiB of the run's RSS.
 */
export const CLAIM_SLOTS_DEFAULT = 1 << 19;

const EMPTY = 0;
const WRITING = 1;
const FULL = 2;

export interface ClaimTableMemory { state: SharedArrayBuffer; keys: SharedArrayBuffer }

export class ClaimTable {
  private readonly state: Int32Array;
  private readonly keys: Uint8Array;
  private readonly mask: number;
  private readonly limit: number;

  /** A new table of `slots` (a power of two) entries; pass `memory` to other threads. */
  static create(slots = CLAIM_SLOTS_DEFAULT): ClaimTable {
    if (slots < 2 || (slots & (slots - 1)) !== 0) throw new RangeError(`claim table slots must be a power of two, got ${slots}`);
    // One extra Int32 at the end counts the used slots.
    return new ClaimTable({ state: new SharedArrayBuffer((slots + 1) * 4), keys: new SharedArrayBuffer(slots * 32) });
  }

  constructor(readonly memory: ClaimTableMemory) {
    this.state = new Int32Array(memory.state);
    this.keys = new Uint8Array(memory.keys);
    this.mask = this.state.length - 2;
    this.limit = Math.floor((this.mask + 1) * 0.75);
  }

  /** True when the caller is the first to claim `id` (it must then store the chunk). */
  claim(id: Uint8Array): boolean {
    let h = (id[0] | (id[1] << 8) | (id[2] << 16) | (id[3] << 24)) & this.mask;
    for (;;) {
      let st = Atomics.load(this.state, h);
      if (st === EMPTY) {
        if (Atomics.load(this.state, this.mask + 1) >= this.limit) return true;
        st = Atomics.compareExchange(this.state, h, EMPTY, WRITING);
        if (st === EMPTY) {
          this.keys.set(id.subarray(0, 32), h * 32);
          Atomics.add(this.state, this.mask + 1, 1);
          Atomics.store(this.state, h, FULL);
          Atomics.notify(this.state, h);
          return true;
        }
      }
      // Another thread is writing this slot's id: wait until it is there to compare.
      while (st === WRITING) {
        Atomics.wait(this.state, h, WRITING, 10);
        st = Atomics.load(this.state, h);
      }
      if (this.sameId(h, id)) return false;
      h = (h + 1) & this.mask;
    }
  }

  private sameId(slot: number, id: Uint8Array): boolean {
    const o = slot * 32;
    for (let i = 0; i < 32; i++) if (this.keys[o + i] !== id[i]) return false;
    return true;
  }
}
