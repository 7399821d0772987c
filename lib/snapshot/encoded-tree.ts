/**
 * A tree as stored, its entries decoded only when asked for. A foxingd cut splices ~100 trees
 * of directories with a changed file each (tree-splice.ts): decoding every entry of each, five
 * 64-bit varints and an object apiece, was the largest part of the cut after the splice by
 * names (~45 ms of ~210 ms of CPU for 10,000 entries). A splice needs the names (to find the
 * changed ones), the entries it replaces, the subdirectories' tree ids (for the listing memo)
 * and the listing print (listing-memo.ts encodedListingPrint, read from the bytes): none of
 * which needs the other entries as objects.
 *
 * The layout (tree-codec.ts treeLayout) checks the framing of every entry; an entry's values
 * are checked when it is decoded (decodeTreeEntry), as decodeTree checks them. The name order
 * is not checked for entries never decoded: a tree whose bytes are spliced keeps their order,
 * and its readers (restore, diff, the next full walk) decode it whole. Pure.
 */
import { FormatError } from '../errors/index.js';
import { decodeTreeEntry } from './tree-codec.js';
import { ENTRY_TYPES_BY_CODE, type TreeEntry } from './tree-entry.js';
import type { EntryType } from '../fs/file-meta.js';

export class EncodedTree {
  private readonly decoded = new Map<number, TreeEntry>();

  /** `bytes`: a tree's encoding; `at`: where each entry begins, one more: the end (treeLayout). */
  constructor(readonly bytes: Buffer, readonly at: Uint32Array, private readonly what = 'tree') {}

  get length(): number { return this.at.length - 1; }

  /** Entry i's name: a view of the bytes. */
  name(i: number): Buffer {
    const end = this.nameEnd(i);
    return this.bytes.subarray(end - this.nameLength, end);
  }

  type(i: number): EntryType {
    const type = ENTRY_TYPES_BY_CODE[this.bytes[this.nameEnd(i)]];
    if (!type) throw new FormatError(`${this.what}: unknown entry type in entry ${i}`);
    return type;
  }

  private nameLength = 0;

  /**
   * Where entry i's name ends (its type byte), its length left in nameLength. The name is the
   * entry's first field, after its length's varint, read in place: no reader object per call
   * (the memo of a spliced root asks the type of each of its 10,000 entries). The layout
   * checked the varint's bounds.
   */
  private nameEnd(i: number): number {
    const b = this.bytes;
    let p = this.at[i], n = 0, mul = 1;
    for (;;) {
      const x = b[p++];
      n += (x & 0x7f) * mul;
      if (x < 0x80) break;
      mul *= 0x80;
    }
    this.nameLength = n;
    return p + n;
  }

  /** A directory entry's tree id (the last 32 bytes of its encoding: tree-codec.ts): a view of the bytes. */
  subtree(i: number): Buffer {
    return this.bytes.subarray(this.at[i + 1] - 32, this.at[i + 1]);
  }

  /** Entry i, decoded (once) and checked. */
  entry(i: number): TreeEntry {
    let e = this.decoded.get(i);
    if (!e) this.decoded.set(i, e = decodeTreeEntry(this.bytes, this.at, i, this.what));
    return e;
  }

  /** Every entry, decoded. */
  all(): TreeEntry[] {
    return Array.from({ length: this.length }, (_, i) => this.entry(i));
  }
}
