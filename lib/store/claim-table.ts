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
 * Layout: levels of open addressing with linear probing, each 4x the one before; a slot is 16
 * bytes, four Int32 words: the first holds the slot's state in its low two bits (0 empty, 1 being
 * written, 2 full, 3 moved on) and 30 bits of the id, the other three 96 more bits of it (id
 * bytes 4 to 19; bytes 0 to 3 choose where the probe starts). A slot is taken with a
 * compare-and-swap of its first word; a reader that finds it being written waits (Atomics.wait)
 * until it is full, then compares. An id is looked for level by level: in each, along its probe
 * chain up to the first empty or moved-on slot. Once a level holds three quarters of its slots,
 * the caller that reaches an empty slot at the end of its chain marks it moved on (by the same
 * compare-and-swap, so two callers with the same id agree on it) and goes on to the next level;
 * an id is therefore in at most one level, and found by everyone.
 *
 * Why 126 bits of the id and not 256: the table was 36 bytes a slot (a state word and the whole
 * id), 50 MiB when full, the largest single part of a daemon's first cut of 1,000,000 small files
 * (every file a new chunk); 16 bytes make it 22 MiB. Limit: two different ids alike in those 126
 * bits would be taken for one, and the second chunk not stored. Ids are BLAKE3 outputs, so for n
 * new chunks in one run that has a probability of about n^2 / 2^127: 2^-87 for a million, far
 * below the rate of undetected memory errors of the machine running it.
 *
 * Why levels: ids hash uniformly over a table, so a single table sized for large runs touches
 * all its pages after a few thousand ids (2^19 slots of 36 bytes: 18 MiB of RSS and ~4,600 page
 * faults for any first snapshot, ~3 % of the workers' CPU on the real bench set). With levels the
 * memory touched follows the new chunks: ~1.3 MiB for 33,000, ~5.3 MiB for 250,000, 22 MiB up
 * to 1,040,000, and 86 MiB once past that (the fifth level's pages are all touched soon after it
 * is entered). Limit: when the last level is three-quarters full, `claim` returns true for every
 * id not found (callers then dedup only against the index and their own packs: correct, and as
 * good as without the table). The default levels hold 4,190,000 new chunks: 256 GiB of new data
 * at the 64 KiB average chunk, but only that many new small files (a file under the chunker's
 * minimum is one chunk), so a first snapshot of more small files than that can store a few
 * duplicates past that point (gc drops them).
 *
 * Why the fifth level (4M slots): with four, a first snapshot of 3,000,000 small files ran out of
 * claims after a third of them, and every later chunk was looked up in the growing index, a
 * page fault for most (see storeWasEmpty): the same snapshot took 288 s, 349 s user and 159 s
 * system, against 273 s, 325 s and 123 s with five, for 41 MiB more peak RSS (376 → 418 MiB;
 * issue 25's bound is 512).
 */
export const CLAIM_LEVELS_DEFAULT: readonly number[] = [1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22];

const EMPTY = 0;
const WRITING = 1;
const FULL = 2;
const MOVED = 3;
const STATE_BITS = 3;
/** Int32 words per slot: the state and 30 bits of the id, then 96 bits of it. */
const WORDS = 4;

export interface ClaimTableMemory {
  slots: SharedArrayBuffer;
  levels: readonly number[];
  /**
   * The store held no chunk when the run began (its index counted none): an id that no one in
   * the run had claimed is then new to the store as well, and the claimer stores it without
   * looking it up in the index. Each lookup reads a random leaf of an index that grows as the
   * run goes, a page fault once the pages were released (store-index.ts `looked`): a first
   * snapshot of 100,000 small files made 113,000-116,000 page faults with them, 84,000-87,000
   * without (with the batch change of the same commit). Limits: as ever, a second process
   * writing the same store meanwhile is not seen (its chunks become duplicates, which `store
   * check` counts and gc drops); past the table's capacity (CLAIM_UNRECORDED) the index is asked.
   */
  storeWasEmpty?: boolean;
}

/** claimState: another caller claimed the id first. */
export const CLAIM_TAKEN = 0;
/** claimState: the caller is the first (it stores the chunk unless the store has it). */
export const CLAIM_FIRST = 1;
/** claimState: the table is full and did not record the id: the caller decides alone. */
export const CLAIM_UNRECORDED = 2;

export class ClaimTable {
  private readonly words: Int32Array;
  /** Per level: first slot, slot mask, count limit; the counts follow the last level's slots. */
  private readonly base: number[] = [];
  private readonly masks: number[] = [];
  private readonly limits: number[] = [];
  private readonly counts: number;

  /** A new table of the given levels (slot counts, powers of two; one number: one level); pass `memory` to other threads. */
  static create(levels: number | readonly number[] = CLAIM_LEVELS_DEFAULT, storeWasEmpty = false): ClaimTable {
    const list = typeof levels === 'number' ? [levels] : [...levels];
    for (const slots of list) if (slots < 2 || (slots & (slots - 1)) !== 0) throw new RangeError(`claim table slots must be a power of two, got ${slots}`);
    const total = list.reduce((a, b) => a + b, 0);
    return new ClaimTable({ slots: new SharedArrayBuffer((total * WORDS + list.length) * 4), levels: list, storeWasEmpty });
  }

  constructor(readonly memory: ClaimTableMemory) {
    this.words = new Int32Array(memory.slots);
    let at = 0;
    for (const slots of memory.levels) {
      this.base.push(at);
      this.masks.push(slots - 1);
      this.limits.push(Math.floor(slots * 0.75));
      at += slots;
    }
    this.counts = at * WORDS;
  }

  /** See ClaimTableMemory.storeWasEmpty. */
  get storeWasEmpty(): boolean { return this.memory.storeWasEmpty === true; }

  /** True once the last level is three-quarters full: `claimState` records no new id (CLAIM_UNRECORDED). */
  get exhausted(): boolean {
    const last = this.limits.length - 1;
    return Atomics.load(this.words, this.counts + last) >= this.limits[last];
  }

  /** True when the caller is the first to claim `id` (it must then store the chunk). */
  claim(id: Uint8Array): boolean {
    return this.claimState(id) !== CLAIM_TAKEN;
  }

  /**
   * True when `id` was claimed, without claiming it (a receiver's answer to "have you this
   * chunk?", whose "no" is followed by the chunk itself). Along the id's probe chain an empty
   * slot ends the search: a slot never empties, and one moved on stays so.
   */
  holds(id: Uint8Array): boolean {
    const w = this.words;
    const [h0, k0, k1, k2, k3] = slotKey(id);
    for (let level = 0; level < this.base.length; level++) {
      const mask = this.masks[level];
      for (let h = h0 & mask; ; h = (h + 1) & mask) {
        const at = (this.base[level] + h) * WORDS;
        let st = Atomics.load(w, at);
        if (st === EMPTY) return false;
        if (st === MOVED) break;
        while ((st & STATE_BITS) === WRITING) {
          Atomics.wait(w, at, st, 10);
          st = Atomics.load(w, at);
        }
        if ((st & ~STATE_BITS) === k0 && w[at + 1] === k1 && w[at + 2] === k2 && w[at + 3] === k3) return true;
      }
    }
    return false;
  }

  /** claim, saying whether the id was recorded: CLAIM_TAKEN, CLAIM_FIRST or CLAIM_UNRECORDED. */
  claimState(id: Uint8Array): number {
    const w = this.words;
    const [h0, k0, k1, k2, k3] = slotKey(id);
    const last = this.base.length - 1;
    for (let level = 0; level <= last; level++) {
      const base = this.base[level];
      const mask = this.masks[level];
      const count = this.counts + level;
      let h = h0 & mask;
      for (;;) {
        const at = (base + h) * WORDS;
        let st = Atomics.load(w, at);
        if (st === EMPTY) {
          const full = Atomics.load(w, count) >= this.limits[level];
          if (full && level === last) return CLAIM_UNRECORDED;
          st = Atomics.compareExchange(w, at, EMPTY, full ? MOVED : k0 | WRITING);
          if (st === EMPTY) {
            if (full) break; // marked moved on: the id goes to the next level
            w[at + 1] = k1;
            w[at + 2] = k2;
            w[at + 3] = k3;
            Atomics.add(w, count, 1);
            Atomics.store(w, at, k0 | FULL);
            Atomics.notify(w, at);
            return CLAIM_FIRST;
          }
        }
        if (st === MOVED) break;
        // Another thread is writing this slot's id: wait until it is there to compare.
        while ((st & STATE_BITS) === WRITING) {
          Atomics.wait(w, at, st, 10);
          st = Atomics.load(w, at);
        }
        if ((st & ~STATE_BITS) === k0 && w[at + 1] === k1 && w[at + 2] === k2 && w[at + 3] === k3) return CLAIM_TAKEN;
        h = (h + 1) & mask;
      }
    }
    return CLAIM_UNRECORDED; // not reached: the last level never moves on
  }
}

/**
 * Where an id's probe starts (its bytes 0 to 3) and the words a slot keeps of it (bytes 4 to
 * 19; those of the first word lose their low two bits to the state).
 */
function slotKey(id: Uint8Array): [number, number, number, number, number] {
  return [
    id[0] | (id[1] << 8) | (id[2] << 16) | (id[3] << 24),
    (id[4] | (id[5] << 8) | (id[6] << 16) | (id[7] << 24)) & ~STATE_BITS,
    id[8] | (id[9] << 8) | (id[10] << 16) | (id[11] << 24),
    id[12] | (id[13] << 8) | (id[14] << 16) | (id[15] << 24),
    id[16] | (id[17] << 8) | (id[18] << 16) | (id[19] << 24),
  ];
}
