/**
 * Rows keyed by 32-byte chunk ids, for a run that must know every id it has met: an export
 * writes each chunk once and keeps its index entry until the end (fxar/archive-writer.ts), and
 * its pre-flight counts each chunk once (fxar/export-archive.ts exportSize).
 *
 * Why not a Set of strings: V8 spends about 100 bytes on each 32-byte id kept as a string, plus
 * a string made for every lookup. An export of a snapshot of 1,000,000 small files (1,072,300
 * chunks) peaked at 545 MiB with two such sets and an entry table grown by doubling.
 *
 * Layout: rows of `rowBytes` bytes (the id, then whatever the owner keeps beside it) in blocks of
 * BLOCK_ROWS rows, so growing copies nothing and leaves at most one block part-empty; and an
 * open-addressing table (linear probing) of row numbers + 1 in a Uint32Array, at most 3/4 full,
 * doubled when it would be fuller. A 56-byte row costs 61 to 67 bytes an id, a bare id 37 to 43.
 *
 * Limits: at most 2^31 rows. The slot is chosen from id bytes 0 to 3: ids are BLAKE3 digests,
 * uniform, but a store crafted with many ids alike in those bytes makes the probes long (slow,
 * never wrong: every match compares the whole id).
 */
const BLOCK_SHIFT = 14;
const BLOCK_ROWS = 1 << BLOCK_SHIFT;
const ID_BYTES = 32;

export class IdTable {
  private readonly blocks: Buffer[] = [];
  private slots = new Uint32Array(1 << 12);
  private mask = (1 << 12) - 1;
  /** Rows held: row numbers run from 0 to count - 1 in the order ids were added. */
  count = 0;

  constructor(readonly rowBytes = ID_BYTES) {
    if (!Number.isInteger(rowBytes) || rowBytes < ID_BYTES) throw new RangeError(`IdTable: a row holds at least the ${ID_BYTES}-byte id (got ${rowBytes})`);
  }

  /** The row holding `id`, or -1. */
  find(id: Uint8Array): number {
    const slots = this.slots, mask = this.mask;
    for (let s = slotOf(id) & mask; ; s = (s + 1) & mask) {
      const v = slots[s];
      if (v === 0) return -1;
      if (this.holdsAt(v - 1, id)) return v - 1;
    }
  }

  has(id: Uint8Array): boolean {
    return this.find(id) >= 0;
  }

  /**
   * Adds `id` unless it is held: returns its new row (the id written at its start, the rest of
   * the row for the caller to fill through block() and offset()), or -1 when it was held already.
   */
  add(id: Uint8Array): number {
    if (id.byteLength !== ID_BYTES) throw new RangeError(`IdTable: an id is ${ID_BYTES} bytes (got ${id.byteLength})`);
    if ((this.count + 1) * 4 > this.slots.length * 3) this.grow();
    const slots = this.slots, mask = this.mask;
    let s = slotOf(id) & mask;
    for (; slots[s] !== 0; s = (s + 1) & mask) if (this.holdsAt(slots[s] - 1, id)) return -1;
    const row = this.count++;
    if ((row >>> BLOCK_SHIFT) === this.blocks.length) this.blocks.push(Buffer.allocUnsafe(BLOCK_ROWS * this.rowBytes));
    this.block(row).set(id, this.offset(row));
    slots[s] = row + 1;
    return row;
  }

  /** The buffer holding row `row` (at offset(row)). */
  block(row: number): Buffer {
    return this.blocks[row >>> BLOCK_SHIFT];
  }

  offset(row: number): number {
    return (row & (BLOCK_ROWS - 1)) * this.rowBytes;
  }

  /** Row numbers in ascending order of their ids (bytewise): a counting sort on the first two bytes, then insertion sort within each of the 65,536 runs (about n / 65,536 rows each: uniform ids). */
  sortedRows(): Uint32Array {
    const n = this.count;
    const starts = new Uint32Array(65537);
    for (let r = 0; r < n; r++) starts[this.prefix(r) + 1]++;
    for (let i = 1; i <= 65536; i++) starts[i] += starts[i - 1];
    const order = new Uint32Array(n);
    const next = starts.slice(0, 65536);
    for (let r = 0; r < n; r++) order[next[this.prefix(r)]++] = r;
    for (let b = 0; b < 65536; b++) {
      for (let i = starts[b] + 1; i < starts[b + 1]; i++) {
        const r = order[i];
        let j = i - 1;
        for (; j >= starts[b] && this.compareRows(order[j], r) > 0; j--) order[j + 1] = order[j];
        order[j + 1] = r;
      }
    }
    return order;
  }

  private prefix(row: number): number {
    const b = this.block(row), o = this.offset(row);
    return (b[o] << 8) | b[o + 1];
  }

  private compareRows(a: number, b: number): number {
    const ba = this.block(a), bb = this.block(b);
    const oa = this.offset(a), ob = this.offset(b);
    for (let i = 0; i < ID_BYTES; i++) if (ba[oa + i] !== bb[ob + i]) return ba[oa + i] - bb[ob + i];
    return 0;
  }

  private holdsAt(row: number, id: Uint8Array): boolean {
    const b = this.block(row), o = this.offset(row);
    for (let i = 0; i < ID_BYTES; i++) if (b[o + i] !== id[i]) return false;
    return true;
  }

  private grow(): void {
    if (this.slots.length >= 2 ** 31) throw new RangeError('IdTable: more than 2^31 ids');
    const slots = new Uint32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let r = 0; r < this.count; r++) {
      const b = this.block(r), o = this.offset(r);
      let s = ((b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = r + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

function slotOf(id: Uint8Array): number {
  return (id[0] | (id[1] << 8) | (id[2] << 16) | (id[3] << 24)) >>> 0;
}
