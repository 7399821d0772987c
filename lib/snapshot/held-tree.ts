/**
 * Trees held between snapshots, for splicing (tree-splice.ts) without decoding or encoding a
 * wide directory again. foxingd cuts a snapshot every few seconds, and each cut splices the
 * directories above its changes: the source root of a tree of 10,000 directories was loaded,
 * decoded, encoded and fingerprinted whole at every cut (~100 ms of a 280 ms cut, for 100
 * changed entries out of 10,000). A held tree keeps its encoding (entries decoded only when
 * asked for: encoded-tree.ts) and the bytes its listing fingerprint hashes, each with where
 * every entry's bytes begin, so the next tree
 * is the old bytes with the changed entries' bytes replaced, new ones inserted and removed ones
 * cut out (TreeEdit): a copy and two hashes, no per-entry work but for the changed ones.
 *
 * A held tree is keyed by its id, and an id names its bytes: a held tree is never stale. It is
 * worth holding only while it is the parent of the next cut, so `HeldTrees` keeps the trees
 * the last cut held (wrote, or kept unchanged) and drops the rest, within a byte budget. Pure:
 * no I/O.
 */
import { ByteWriter } from '../util/byte-writer.js';
import { EncodedTree } from './encoded-tree.js';
import { encodeTreeEntry, TREE_MAGIC, TREE_VERSION } from './tree-codec.js';
import { encodedListingPrint, listingPrint, type SubtreeTotals } from './listing-memo.js';
import type { TreeEntry } from './tree-entry.js';

export interface HeldTree {
  /** The tree's bytes and where each entry begins, its entries decoded when asked for (never mutated). */
  readonly tree: EncodedTree;
  /** listingPrint of its entries, the bytes its listing fingerprint hashes, and where each entry's begin. */
  readonly print: Buffer;
  readonly printAt: Uint32Array;
  /** What the tree holds all the way down (its listing memo's totals). */
  readonly totals: SubtreeTotals;
}

/**
 * A tree to hold, as stored (loaded from the store: its bytes are kept, not encoded again) or as
 * encodeTree wrote it; its print is made from the bytes. Limit: a tree another encoder wrote in
 * a form encodeTree would not (it decodes the same) keeps that form, and so does what is
 * spliced from it: its id differs from encodeTree's, which costs a tree stored twice at most.
 */
export function holdTree(tree: EncodedTree, totals: SubtreeTotals): HeldTree {
  const printAt = new Uint32Array(tree.at.length);
  return { tree, print: encodedListingPrint(tree.bytes, tree.at, printAt), printAt, totals };
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
  const old = held.tree;
  // Where each edit's entry lands in the new tree, to check the name order around it.
  const landed: number[] = [];
  let shift = 0, from = 0;
  for (const ed of edits) {
    if (ed.at < from || ed.at > old.length || (ed.remove && ed.at >= old.length)) throw new RangeError(`held tree: edit at ${ed.at} out of order`);
    if (ed.remove) {
      if (ed.entry && !ed.entry.name.equals(old.name(ed.at))) throw new RangeError(`held tree: entry ${ed.at} replaced by another name`);
      from = ed.at + 1;
    } else if (!ed.entry) throw new RangeError(`held tree: an insert at ${ed.at} without an entry`);
    if (ed.entry) landed.push(ed.at + shift);
    shift += ed.remove ? (ed.entry ? 0 : -1) : 1;
  }
  const count = old.length + shift;
  const encodedNew = edits.map((ed) => ed.entry && encodeTreeEntry(ed.entry));
  const printNew = edits.map((ed) => ed.entry && listingPrint([ed.entry]).subarray(1));  // without the version byte
  const [encoded, encodedAt] = applyEdits(old.bytes, old.at, edits, encodedNew, treeHeader(count), count);
  const [print, printAt] = applyEdits(held.print, held.printAt, edits, printNew, held.print.subarray(0, held.printAt[0]), count);
  const tree = new EncodedTree(encoded, encodedAt);
  for (const j of landed) {
    if ((j > 0 && Buffer.compare(tree.name(j - 1), tree.name(j)) >= 0) || (j + 1 < count && Buffer.compare(tree.name(j), tree.name(j + 1)) >= 0)) {
      throw new RangeError(`held tree: entries out of name order at ${j}`);
    }
  }
  return { tree, print, printAt, totals };
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

/**
 * Bytes a held tree costs, roughly, when it is held: its two byte strings, their offsets, and
 * ~300 bytes an entry object for as many as a splice decodes (a few; counted as 16 for all).
 */
function heldBytes(t: HeldTree): number {
  return t.tree.bytes.length + t.print.length + t.tree.length * (8 + 16);
}

/**
 * The held trees of a run of snapshots (foxingd's cutter keeps one). `endCut` drops the trees
 * the cut did not `hold`: they are in no tree of its snapshot, so no parent of what the next
 * cut splices.
 */
export class HeldTrees {
  private readonly trees = new Map<string, { tree: HeldTree; cost: number }>();
  private used = new Set<string>();
  private total = 0;

  constructor(private readonly budget = 32 << 20) {}

  get(id: Buffer): HeldTree | undefined {
    return this.trees.get(id.toString('hex'))?.tree;
  }

  /** Holds `tree` under `id`, unless that would pass the budget. */
  hold(id: Buffer, tree: HeldTree): void {
    const key = id.toString('hex');
    if (this.trees.has(key)) { this.used.add(key); return; }
    const cost = heldBytes(tree);
    if (this.total + cost > this.budget) return;
    this.trees.set(key, { tree, cost });
    this.total += cost;
    this.used.add(key);
  }

  /** Drops every tree this cut did not hold (a cut that failed: all of them). */
  endCut(ok = true): void {
    for (const [key, t] of this.trees) {
      if (ok && this.used.has(key)) continue;
      this.trees.delete(key);
      this.total -= t.cost;
    }
    this.used = new Set();
  }

  get size(): number { return this.trees.size; }
  /** What the held trees cost, by heldBytes' reckoning (at most the budget). */
  get bytes(): number { return this.total; }
}
