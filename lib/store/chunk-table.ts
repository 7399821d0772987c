/**
 * A set of chunk ids with a dense number per id, in flat typed arrays: what gc's mark phase,
 * `store check` and `snap stats` need to hold every distinct chunk of a store without a JS
 * object (or a 64-character hex string, over 100 bytes with the Set's own slot) per chunk. Numbers are given in insertion order (0, 1, 2, ...), so callers keep their own per-chunk
 * facts in parallel typed arrays indexed by that number.
 *
 * Memory: 32 bytes per id plus an open-addressing slot table of at least twice as many u32
 * slots (8 to 16 bytes per id): 40 to 48 bytes per distinct chunk, grown by doubling.
 *
 * Ids are BLAKE3 outputs, so their first four bytes are already a uniform hash.
 */
export class ChunkTable {
  private ids: Buffer;
  /** Slot → number + 1 (0 = empty). Capacity is a power of two; load factor at most 1/2. */
  private slots: Uint32Array;
  private count = 0;

  constructor(expected = 1024) {
    let cap = 1024;
    while (cap < expected * 2) cap *= 2;
    this.slots = new Uint32Array(cap);
    this.ids = Buffer.alloc(Math.max(expected, 512) * 32);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes the table holds now (gc reports it as its mark memory). */
  get bytes(): number {
    return this.ids.byteLength + this.slots.byteLength;
  }

  has(id: Uint8Array): boolean {
    return this.lookup(id) >= 0;
  }

  /** Adds id; true when it was not there yet. */
  add(id: Uint8Array): boolean {
    return this.insert(id).added;
  }

  /** The number of an id, or -1 when it is not in the table. */
  lookup(id: Uint8Array): number {
    const mask = this.slots.length - 1;
    for (let s = hashOf(id) & mask; ; s = (s + 1) & mask) {
      const v = this.slots[s];
      if (v === 0) return -1;
      if (this.sameId(v - 1, id)) return v - 1;
    }
  }

  /** Adds an id if absent; returns its number and whether it was added just now. */
  insert(id: Uint8Array): { n: number; added: boolean } {
    if (id.length !== 32) throw new RangeError(`chunk id must be 32 bytes, got ${id.length}`);
    const mask = this.slots.length - 1;
    let s = hashOf(id) & mask;
    for (; ; s = (s + 1) & mask) {
      const v = this.slots[s];
      if (v === 0) break;
      if (this.sameId(v - 1, id)) return { n: v - 1, added: false };
    }
    const n = this.count++;
    if ((n + 1) * 32 > this.ids.length) {
      const grown = Buffer.alloc(this.ids.length * 2);
      this.ids.copy(grown);
      this.ids = grown;
    }
    this.ids.set(id, n * 32);
    this.slots[s] = n + 1;
    if (this.count * 2 > this.slots.length) this.rehash();
    return { n, added: true };
  }

  /** The id with number n (a view into the table: copy it to keep it). */
  id(n: number): Buffer {
    return this.ids.subarray(n * 32, n * 32 + 32);
  }

  private sameId(n: number, id: Uint8Array): boolean {
    const o = n * 32;
    for (let i = 0; i < 32; i++) if (this.ids[o + i] !== id[i]) return false;
    return true;
  }

  private rehash(): void {
    const slots = new Uint32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let n = 0; n < this.count; n++) {
      let s = hashOf(this.id(n)) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = n + 1;
    }
    this.slots = slots;
  }
}

function hashOf(id: Uint8Array): number {
  return (id[0] | (id[1] << 8) | (id[2] << 16) | (id[3] << 24)) >>> 0;
}

/** A growable u32 array indexed by chunk number (ChunkTable numbers). */
export class U32Column {
  private data: Uint32Array;

  constructor(expected = 1024) {
    this.data = new Uint32Array(Math.max(expected, 16));
  }

  get(n: number): number {
    return n < this.data.length ? this.data[n] : 0;
  }

  set(n: number, v: number): void {
    if (n >= this.data.length) {
      let len = this.data.length;
      while (len <= n) len *= 2;
      const grown = new Uint32Array(len);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[n] = v;
  }
}
