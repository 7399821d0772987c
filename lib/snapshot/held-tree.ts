/**
 * Trees held between snapshots, for splicing (tree-splice.ts) without decoding or encoding a
 * wide directory again. foxingd cuts a snapshot every few seconds, and each cut splices the
 * directories above its changes: the source root of a tree of 10,000 directories was loaded,
 * decoded, encoded and fingerprinted whole at every cut (~100 ms of a 280 ms cut, for 100
 * changed entries out of 10,000). A held tree keeps its entries, its encoding and the bytes
 * its listing fingerprint hashes, each with where every entry's bytes begin, so the next tree
 * is the old bytes with the changed entries' bytes replaced, new ones inserted and removed ones
 * cut out (TreeEdit): a copy and two hashes, no per-entry work but for the changed ones.
 *
 * A held tree is keyed by its id, and an id names its bytes: a held tree is never stale. It is
 * worth holding only while it is the parent of the next cut, so `HeldTrees` keeps the trees
 * the last cut held (wrote, or kept unchanged) and drops the rest, within a byte budget. Pure:
 * no I/O.
 */
import { ByteWriter } from '../util/byte-writer.js';
import { encodeTree, encodeTreeEntry, TREE_MAGIC, TREE_VERSION } from './tree-codec.js';
import { listingPrint, type SubtreeTotals } from './listing-memo.js';
import type { TreeEntry } from './tree-entry.js';

export interface HeldTree {
  /** The tree's entries, in name order (shared with the next held tree: never mutated). */
  readonly entries: readonly TreeEntry[];
  /** encodeTree(entries), and where each entry's bytes begin (one more: the end). */
  readonly encoded: Buffer;
  readonly encodedAt: Uint32Array;
  /** listingPrint(entries), the bytes its listing fingerprint hashes, and where each entry's begin. */
  readonly print: Buffer;
  readonly printAt: Uint32Array;
  /** What the tree holds all the way down (its listing memo's totals). */
  readonly totals: SubtreeTotals;
}

/** A tree of `entries` to hold: encoded and printed whole, once. */
export function holdTree(entries: readonly TreeEntry[], totals: SubtreeTotals): HeldTree {
  const encodedAt = new Uint32Array(entries.length + 1), printAt = new Uint32Array(entries.length + 1);
  const encoded = encodeTree(entries, encodedAt), print = listingPrint(entries, printAt);
  return { entries, encoded, encodedAt, print, printAt, totals };
}

/**
 * A tree loaded from the store to hold: its bytes as stored (`encoded`, with decodeTreeAt's
 * offsets) are kept, not encoded again; only the print is made. Limit: a tree written by
 * another encoder in a form encodeTree would not write (it decodes the same) stays in that
 * form, and so does what is spliced from it: its id differs from encodeTree's, which costs a
 * tree stored twice at most, never a wrong one.
 */
export function holdLoaded(entries: readonly TreeEntry[], encoded: Buffer, encodedAt: Uint32Array, totals: SubtreeTotals): HeldTree {
  const printAt = new Uint32Array(entries.length + 1);
  return { entries, encoded, encodedAt, print: listingPrint(entries, printAt), printAt, totals };
}

/**
 * One change to a held tree's entries: entry `at` replaced (`remove` and an entry), removed
 * (`remove`, no entry), or a new entry inserted before it (`at` may be entries.length).
 */
export interface TreeEdit { at: number; remove: boolean; entry: TreeEntry | null }

/**
 * `held` with `edits` applied (sorted by `at`; at one index, inserts first, in name order, then
 * at most one replace or removal): only the new entries are encoded and printed; the other
 * entries' bytes are copied, and the tree's entry count is written afresh.
 */
export function spliceHeld(held: HeldTree, edits: readonly TreeEdit[], totals: SubtreeTotals): HeldTree {
  const entries = editEntries(held.entries, edits);
  const encodedNew = edits.map((ed) => ed.entry && encodeTreeEntry(ed.entry));
  const printNew = edits.map((ed) => ed.entry && listingPrint([ed.entry]).subarray(1));  // without the version byte
  const [encoded, encodedAt] = applyEdits(held.encoded, held.encodedAt, edits, encodedNew, treeHeader(entries.length), entries.length);
  const [print, printAt] = applyEdits(held.print, held.printAt, edits, printNew, held.print.subarray(0, held.printAt[0]), entries.length);
  return { entries, encoded, encodedAt, print, printAt, totals };
}

/** `entries` (in name order) with `edits` (as spliceHeld takes them) applied; throws on edits that break the order. */
export function editEntries(entries: readonly TreeEntry[], edits: readonly TreeEdit[]): TreeEntry[] {
  const out: TreeEntry[] = [];
  let from = 0;
  for (const ed of edits) {
    if (ed.at < from || ed.at > entries.length || (ed.remove && ed.at >= entries.length)) throw new RangeError(`held tree: edit at ${ed.at} out of order`);
    for (let i = from; i < ed.at; i++) out.push(entries[i]);
    from = ed.at;
    const e = ed.entry;
    if (ed.remove) {
      if (e && !e.name.equals(entries[ed.at].name)) throw new RangeError(`held tree: entry ${ed.at} replaced by another name`);
      from = ed.at + 1;
    } else if (!e) throw new RangeError(`held tree: an insert at ${ed.at} without an entry`);
    if (e) out.push(e);
  }
  for (let i = from; i < entries.length; i++) out.push(entries[i]);
  for (let i = 1; i < out.length; i++) {
    if (Buffer.compare(out[i - 1].name, out[i].name) >= 0) throw new RangeError(`held tree: entries out of name order at ${i}`);
  }
  return out;
}

/** The bytes encodeTree writes before the first entry of a tree of `count` entries. */
function treeHeader(count: number): Buffer {
  return new ByteWriter(8).u8(TREE_MAGIC).u8(TREE_VERSION).uvarint(count).finish();
}

/**
 * `bytes` (entries at offsets `at`, one more: the end) with `head` for what precedes the first
 * entry and `edits` applied, each new entry's bytes from `parts`; and the new offsets.
 */
function applyEdits(bytes: Buffer, at: Uint32Array, edits: readonly TreeEdit[], parts: ReadonlyArray<Buffer | null>, head: Buffer, count: number): [Buffer, Uint32Array] {
  const pieces: Buffer[] = [head];
  const next = new Uint32Array(count + 1);
  let n = 0, out = head.length, from = 0;
  const copy = (to: number) => {
    if (to <= from) return;
    pieces.push(bytes.subarray(at[from], at[to]));
    for (let i = from; i < to; i++) next[n++] = at[i] - at[from] + out;
    out += at[to] - at[from];
    from = to;
  };
  edits.forEach((ed, k) => {
    copy(ed.at);
    const part = parts[k];
    if (part) { pieces.push(part); next[n++] = out; out += part.length; }
    if (ed.remove) from = ed.at + 1;
  });
  copy(at.length - 1);
  next[n] = out;
  return [Buffer.concat(pieces), next];
}

/** Bytes a held tree costs, roughly: its two byte strings and ~300 bytes an entry object. */
function heldBytes(t: HeldTree): number {
  return t.encoded.length + t.print.length + t.entries.length * 300;
}

/**
 * The held trees of a run of snapshots (foxingd's cutter keeps one). `endCut` drops the trees
 * the cut did not `hold`: they are in no tree of its snapshot, so no parent of what the next
 * cut splices.
 */
export class HeldTrees {
  private readonly trees = new Map<string, HeldTree>();
  private used = new Set<string>();
  private total = 0;

  constructor(private readonly budget = 32 << 20) {}

  get(id: Buffer): HeldTree | undefined {
    return this.trees.get(id.toString('hex'));
  }

  /** Holds `tree` under `id`, unless that would pass the budget. */
  hold(id: Buffer, tree: HeldTree): void {
    const key = id.toString('hex');
    if (this.trees.has(key)) { this.used.add(key); return; }
    const cost = heldBytes(tree);
    if (this.total + cost > this.budget) return;
    this.trees.set(key, tree);
    this.total += cost;
    this.used.add(key);
  }

  /** Drops every tree this cut did not hold (a cut that failed: all of them). */
  endCut(ok = true): void {
    for (const [key, t] of this.trees) {
      if (ok && this.used.has(key)) continue;
      this.trees.delete(key);
      this.total -= heldBytes(t);
    }
    this.used = new Set();
  }

  get size(): number { return this.trees.size; }
  /** What the held trees cost, by heldBytes' reckoning (at most the budget). */
  get bytes(): number { return this.total; }
}
