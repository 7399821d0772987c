/**
 * Trees held between snapshots, for splicing (tree-splice.ts) without decoding or encoding a
 * wide directory again. foxingd cuts a snapshot every few seconds, and each cut splices the
 * directories above its changes: the source root of a tree of 10,000 directories was loaded,
 * decoded, encoded and fingerprinted whole at every cut (~100 ms of a 280 ms cut, for 100
 * changed entries out of 10,000). A held tree keeps its entries, its encoding and the bytes
 * its listing fingerprint hashes, each with where every entry's bytes begin, so the next tree
 * is the old bytes with the changed entries' bytes replaced: a copy and two hashes, no per-entry
 * work but for the changed ones.
 *
 * A held tree is keyed by its id, and an id names its bytes: a held tree is never stale. It is
 * worth holding only while it is the parent of the next cut, so `HeldTrees` keeps the trees
 * the last cut held (wrote, or kept unchanged) and drops the rest, within a byte budget. Pure:
 * no I/O.
 */
import { encodeTree, encodeTreeEntry } from './tree-codec.js';
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
 * `held` with entries `changed` (index → new entry; same name, so the order holds) replaced:
 * only they are encoded and printed; the other entries' bytes are copied.
 */
export function spliceHeld(held: HeldTree, changed: ReadonlyMap<number, TreeEntry>, totals: SubtreeTotals): HeldTree {
  const entries = held.entries.slice();
  const indices = [...changed.keys()].sort((a, b) => a - b);
  const encodedNew: Buffer[] = [], printNew: Buffer[] = [];
  for (const i of indices) {
    const e = changed.get(i)!;
    if (!e.name.equals(entries[i].name)) throw new RangeError(`held tree: entry ${i} replaced by another name`);
    entries[i] = e;
    encodedNew.push(encodeTreeEntry(e));
    printNew.push(listingPrint([e]).subarray(1));  // without the version byte
  }
  const [encoded, encodedAt] = replaceRanges(held.encoded, held.encodedAt, indices, encodedNew);
  const [print, printAt] = replaceRanges(held.print, held.printAt, indices, printNew);
  return { entries, encoded, encodedAt, print, printAt, totals };
}

/** `bytes` with the ranges of entries `indices` (ascending) replaced by `parts`, and the new offsets. */
function replaceRanges(bytes: Buffer, at: Uint32Array, indices: readonly number[], parts: readonly Buffer[]): [Buffer, Uint32Array] {
  const pieces: Buffer[] = [];
  const next = new Uint32Array(at.length);
  let from = 0, shift = 0, k = 0;
  for (let i = 0; i < at.length; i++) {
    next[i] = at[i] + shift;
    if (k < indices.length && indices[k] === i) {
      pieces.push(bytes.subarray(from, at[i]), parts[k]);
      shift += parts[k].length - (at[i + 1] - at[i]);
      from = at[i + 1];
      k++;
    }
  }
  pieces.push(bytes.subarray(from));
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
