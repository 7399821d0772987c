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
 * Layout: levels of open addressing with linear probing, each 4x the one before; per slot a
 * state (Int32: 0 empty, 1 being written, 2 full, 3 moved on) and the 32-byte id. A slot is
 * taken with a compare-and-swap of its state; a reader that finds it being written waits
 * (Atomics.wait) until it is full, then compares. An id is looked for level by level: in each,
 * along its probe chain up to the first empty or moved-on slot. Once a level holds three
 * quarters of its slots, the caller that reaches an empty slot at the end of its chain marks it
 * moved on (by the same compare-and-swap, so two callers with the same id agree on it) and goes
 * on to the next level; an id is therefore in at most one level, and found by everyone.
 *
 * Why levels: ids hash uniformly over a table, so a single table sized for large runs touches
 * all its pages after a few thousand ids (2^19 slots: 18 MiB of RSS and ~4,600 page faults for
 * any first snapshot, ~3 % of the workers' CPU on the real bench set). With levels the memory
 * touched follows the new chunks: ~3 MiB for 33,000, ~12 MiB for 250,000, 50 MiB at most.
 * Limit: when the last level is three-quarters full, `claim` returns true for every id not
 * found (callers then dedup only against the index and their own packs: correct, and as good as
 * without the table). The default levels hold 1,040,000 new chunks: 64 GiB of new data at the
 * 64 KiB average chunk, but only that many new small files (a file under the chunker's minimum
 * is one chunk), so a first snapshot of millions of small files can store a few duplicates past
 * that point (gc drops them).
 */
export const CLAIM_LEVELS_DEFAULT: readonly number[] = [1 << 14, 1 << 16, 1 << 18, 1 << 20];

const EMPTY = 0;
const WRITING = 1;
const FULL = 2;
const MOVED = 3;

export interface ClaimTableMemory { state: SharedArrayBuffer; keys: SharedArrayBuffer; levels: readonly number[] }

export class ClaimTable {
  private readonly state: Int32Array;
  private readonly keys: Uint8Array;
  /** Per level: first slot, slot mask, count limit; the counts follow the last level's slots. */
  private readonly base: number[] = [];
  private readonly masks: number[] = [];
  private readonly limits: number[] = [];
  private readonly counts: number;

  /** A new table of the given levels (slot counts, powers of two; one number: one level); pass `memory` to other threads. */
  static create(levels: number | readonly number[] = CLAIM_LEVELS_DEFAULT): ClaimTable {
    const list = typeof levels === 'number' ? [levels] : [...levels];
    for (const slots of list) if (slots < 2 || (slots & (slots - 1)) !== 0) throw new RangeError(`claim table slots must be a power of two, got ${slots}`);
    const total = list.reduce((a, b) => a + b, 0);
    return new ClaimTable({ state: new SharedArrayBuffer((total + list.length) * 4), keys: new SharedArrayBuffer(total * 32), levels: list });
  }

  constructor(readonly memory: ClaimTableMemory) {
    this.state = new Int32Array(memory.state);
    this.keys = new Uint8Array(memory.keys);
    let at = 0;
    for (const slots of memory.levels) {
      this.base.push(at);
      this.masks.push(slots - 1);
      this.limits.push(Math.floor(slots * 0.75));
      at += slots;
    }
    this.counts = at;
  }

  /** True when the caller is the first to claim `id` (it must then store the chunk). */
  claim(id: Uint8Array): boolean {
    const h0 = id[0] | (id[1] << 8) | (id[2] << 16) | (id[3] << 24);
    const last = this.base.length - 1;
    for (let level = 0; level <= last; level++) {
      const base = this.base[level];
      const mask = this.masks[level];
      const count = this.counts + level;
      let h = h0 & mask;
      for (;;) {
        const slot = base + h;
        let st = Atomics.load(this.state, slot);
        if (st === EMPTY) {
          const full = Atomics.load(this.state, count) >= this.limits[level];
          if (full && level === last) return true;
          st = Atomics.compareExchange(this.state, slot, EMPTY, full ? MOVED : WRITING);
          if (st === EMPTY) {
            if (full) break; // marked moved on: the id goes to the next level
            this.keys.set(id.subarray(0, 32), slot * 32);
            Atomics.add(this.state, count, 1);
            Atomics.store(this.state, slot, FULL);
            Atomics.notify(this.state, slot);
            return true;
          }
        }
        if (st === MOVED) break;
        // Another thread is writing this slot's id: wait until it is there to compare.
        while (st === WRITING) {
          Atomics.wait(this.state, slot, WRITING, 10);
          st = Atomics.load(this.state, slot);
        }
        if (this.sameId(slot, id)) return false;
        h = (h + 1) & mask;
      }
    }
    return true; // not reached: the last level never moves on
  }

  private sameId(slot: number, id: Uint8Array): boolean {
    const o = slot * 32;
    for (let i = 0; i < 32; i++) if (this.keys[o + i] !== id[i]) return false;
    return true;
  }
}
