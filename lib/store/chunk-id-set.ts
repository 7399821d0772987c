/**
 * A set of 32-byte chunk ids in one flat open-addressing table (linear probing), with one
 * flag byte per slot. Gc marks every live chunk in it, so its size is what gc's memory grows
 * with: 33 bytes per slot, and the table is sized to stay at most half full for the count it
 * was created for (about 66 bytes per chunk; up to ~94 after it had to grow past 70 % load).
 * A JS Set of hex strings costs over 100 bytes per chunk and stresses the garbage collector.
 *
 * The slot is chosen by the id's first 4 bytes: ids are BLAKE3 hashes, so they are uniform.
 * Limits: no removal (gc never needs it); at most 2^31 slots.
 */
const ID_BYTES = 32;
const OCCUPIED = 1;

export class ChunkIdSet {
  private ids: Buffer;
  private flags: Uint8Array;
  private mask: number;
  private count = 0;

  constructor(expected = 0) {
    let cap = 1024;
    while (cap < expected * 2) cap *= 2;
    this.ids = Buffer.alloc(cap * ID_BYTES);
    this.flags = new Uint8Array(cap);
    this.mask = cap - 1;
  }

  get size(): number { return this.count; }

  /** Bytes the table holds (for the memory figure gc reports). */
  get bytes(): number { return this.ids.byteLength + this.flags.byteLength; }

  /** Adds id; returns true when it was not there yet. */
  add(id: Uint8Array): boolean {
    const slot = this.find(id);
    if (this.flags[slot] & OCCUPIED) return false;
    this.ids.set(id.subarray(0, ID_BYTES), slot * ID_BYTES);
    this.flags[slot] = OCCUPIED;
    if (++this.count > (this.mask + 1) * 0.7) this.grow();
    return true;
  }

  has(id: Uint8Array): boolean {
    return (this.flags[this.find(id)] & OCCUPIED) !== 0;
  }

  /** Extra bits (beyond 'present') kept with an id, e.g. "this tree was walked". Adds the id if missing. */
  setFlag(id: Uint8Array, bit: number): void {
    this.add(id);
    this.flags[this.find(id)] |= bit;
  }

  hasFlag(id: Uint8Array, bit: number): boolean {
    const f = this.flags[this.find(id)];
    return (f & OCCUPIED) !== 0 && (f & bit) !== 0;
  }

  /** The slot holding id, or the empty slot where it would go. */
  private find(id: Uint8Array): number {
    const b = id as Buffer;
    let slot = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) & this.mask;
    for (;;) {
      if (!(this.flags[slot] & OCCUPIED)) return slot;
      const o = slot * ID_BYTES;
      if (Buffer.prototype.compare.call(b, this.ids, o, o + ID_BYTES, 0, ID_BYTES) === 0) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const oldIds = this.ids, oldFlags = this.flags;
    const cap = (this.mask + 1) * 2;
    this.ids = Buffer.alloc(cap * ID_BYTES);
    this.flags = new Uint8Array(cap);
    this.mask = cap - 1;
    for (let s = 0; s < oldFlags.length; s++) {
      if (!(oldFlags[s] & OCCUPIED)) continue;
      const id = oldIds.subarray(s * ID_BYTES, (s + 1) * ID_BYTES);
      const slot = this.find(id);
      this.ids.set(id, slot * ID_BYTES);
      this.flags[slot] = oldFlags[s];
    }
  }
}
