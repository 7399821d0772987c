// Held trees (lib/snapshot/held-tree.ts): a tree spliced byte-wise must be byte for byte the
// tree encoded whole, and its listing print the one listingPrint gives, with the same offsets,
// over seeded entries of every kind and replacements that grow and shrink, inserts and
// removals (the tree's entry count changes with them); the held set keeps
// what a cut held, within its budget.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EncodedTree } from '../../lib/snapshot/encoded-tree.js';
import { editEntries, type HeldTree, HeldTrees, holdTree, spliceHeld, type TreeEdit } from '../../lib/snapshot/held-tree.js';
import { listingFingerprint, listingPrint, printFingerprint } from '../../lib/snapshot/listing-memo.js';
import { decodeTree, encodeTree, treeLayout } from '../../lib/snapshot/tree-codec.js';
import type { TreeEntry } from '../../lib/snapshot/tree-entry.js';
import { fuzzSeeds, mulberry32, seededBytes } from '../helpers/seeded.js';

const TOTALS = { files: 1, dirs: 2, symlinks: 3, others: 4, bytes: 5 };

function entry(rnd: () => number, name: Buffer, seed: number): TreeEntry {
  const kind = Math.floor(rnd() * 4);
  const big = (n: number) => BigInt(Math.floor(rnd() * n));
  const e: TreeEntry = {
    name, type: kind === 0 ? 'dir' : kind === 1 ? 'symlink' : kind === 2 ? 'fifo' : 'file', mode: Math.floor(rnd() * 0o7777), uid: Math.floor(rnd() * 70000), gid: 0, size: 0,
    mtimeNs: big(2 ** 60), atimeNs: big(2 ** 40), ctimeNs: big(2 ** 62), dev: big(2 ** 20), ino: big(2 ** 50), nlink: 1 + Math.floor(rnd() * 3), rdev: 0,
  };
  if (e.type === 'dir') e.subtree = seededBytes(32, seed);
  if (e.type === 'symlink') { e.linkTarget = seededBytes(1 + Math.floor(rnd() * 40), seed); e.size = e.linkTarget.length; }
  if (e.type === 'file') {
    const n = Math.floor(rnd() * 4);
    e.chunks = Array.from({ length: n }, (_, k) => ({ id: seededBytes(32, seed * 7 + k), length: 1 + Math.floor(rnd() * 9000) }));
    e.size = e.chunks.reduce((s, c) => s + c.length, 0);
  }
  if (rnd() < 0.2) e.xattrs = [['user.k', seededBytes(Math.floor(rnd() * 30), seed + 1)]];
  return e;
}

/** `entries` encoded whole, as held (the reference a splice must equal). */
function held(entries: readonly TreeEntry[]): HeldTree {
  const at = new Uint32Array(entries.length + 1);
  return holdTree(new EncodedTree(encodeTree(entries, at), at), TOTALS);
}

/** A held tree equals `entries` encoded and printed whole, offsets and all. */
function assertHeldIs(got: HeldTree, entries: TreeEntry[], what: string): void {
  const at = new Uint32Array(entries.length + 1), printAt = new Uint32Array(entries.length + 1);
  assert.ok(got.tree.bytes.equals(encodeTree(entries, at)), `${what}: encoding`);
  assert.equal([...got.tree.at], [...at], `${what}: entry offsets`);
  assert.ok(got.print.equals(listingPrint(entries, printAt)), `${what}: listing print`);
  assert.equal([...got.printAt], [...printAt], `${what}: print offsets`);
  assert.ok(printFingerprint(got.print).equals(listingFingerprint(entries)), `${what}: fingerprint`);
  assert.equal(got.tree.all(), decodeTree(got.tree.bytes), `${what}: entries decoded one by one`);
}

test('a spliced held tree equals the tree encoded whole, through replaces, inserts and removals (seeded)', () => {
  for (const seed of fuzzSeeds(1, 60)) {
    const rnd = mulberry32(seed);
    const n = 1 + Math.floor(rnd() * 60);
    const names = [...new Set(Array.from({ length: n }, (_, i) => `n${Math.floor(rnd() * 1e6)}-${i}`))].map((s) => Buffer.from(s)).sort(Buffer.compare);
    let entries = names.map((name, i) => entry(rnd, name, seed * 1000 + i));
    // As loaded from a store: the layout read from the bytes, not given by the encoder.
    const bytes = encodeTree(entries);
    let h = holdTree(new EncodedTree(bytes, treeLayout(bytes)), TOTALS);
    assertHeldIs(h, entries, `seed ${seed} loaded`);
    for (let round = 0; round < 6; round++) {
      // The model: entries by name, edited; the edits as the archiver makes them.
      const byName = new Map(entries.map((e) => [e.name.toString('latin1'), e]));
      const edits: TreeEdit[] = [];
      const touched = new Set<number>();
      for (let k = Math.floor(rnd() * 5); k >= 0 && entries.length > 0; k--) {
        const i = Math.floor(rnd() * entries.length);
        if (touched.has(i)) continue;
        touched.add(i);
        const name = entries[i].name;
        const e = rnd() < 0.3 ? null : entry(rnd, name, seed * 1000 + 100 * (round + 1) + k);
        if (e) byName.set(name.toString('latin1'), e); else byName.delete(name.toString('latin1'));
        edits.push({ at: i, remove: true, entry: e });
      }
      for (let k = Math.floor(rnd() * 4); k > 0; k--) {
        // Names that sort before, between and after the others (a 3-digit count past 'n9...' sorts last).
        const name = Buffer.from(rnd() < 0.2 ? `a${k}` : rnd() < 0.2 ? `z${k}` : `n${Math.floor(rnd() * 1e6)}-x${round}${k}`);
        if (byName.has(name.toString('latin1'))) continue;
        const e = entry(rnd, name, seed * 1000 + 500 + 10 * round + k);
        byName.set(name.toString('latin1'), e);
        let at = 0;
        while (at < entries.length && Buffer.compare(entries[at].name, name) < 0) at++;
        edits.push({ at, remove: false, entry: e });
      }
      edits.sort((x, y) => x.at - y.at || Number(x.remove) - Number(y.remove) || (x.remove ? 0 : Buffer.compare(x.entry!.name, y.entry!.name)));
      const next = [...byName.values()].sort((x, y) => Buffer.compare(x.name, y.name));
      assert.equal(editEntries(entries, edits).map((e) => e.name.toString()), next.map((e) => e.name.toString()), `seed ${seed} round ${round}: entries`);
      h = spliceHeld(h, edits, TOTALS);
      assertHeldIs(h, next, `seed ${seed} round ${round}`);
      entries = next;
    }
  }
});

test('a tree spliced to no entries, and from none, is the empty tree and back', () => {
  const rnd = mulberry32(3);
  const one = [entry(rnd, Buffer.from('only'), 1)];
  const empty = spliceHeld(held(one), [{ at: 0, remove: true, entry: null }], TOTALS);
  assertHeldIs(empty, [], 'emptied');
  assertHeldIs(spliceHeld(empty, [{ at: 0, remove: false, entry: one[0] }], TOTALS), one, 'refilled');
});

test('edits that would break the name order are refused', () => {
  const rnd = mulberry32(5);
  const entries = [entry(rnd, Buffer.from('a'), 1), entry(rnd, Buffer.from('b'), 2)];
  assert.throws(() => spliceHeld(held(entries), [{ at: 0, remove: true, entry: entry(rnd, Buffer.from('c'), 3) }], TOTALS), /another name/);
  assert.throws(() => spliceHeld(held(entries), [{ at: 0, remove: false, entry: entry(rnd, Buffer.from('c'), 3) }], TOTALS), /name order/);
  assert.throws(() => spliceHeld(held(entries), [{ at: 1, remove: true, entry: null }, { at: 0, remove: true, entry: null }], TOTALS), /out of order/);
});

test('HeldTrees keeps what the cut held, within its budget, and nothing after a failed cut', () => {
  const rnd = mulberry32(9);
  const tree = (k: number) => held([entry(rnd, Buffer.from(`e${k}`), k)]);
  const id = (k: number) => Buffer.alloc(32, k);
  const trees = new HeldTrees(600);  // room for a few one-entry trees
  for (let k = 0; k < 10; k++) trees.hold(id(k), tree(k));
  assert.ok(trees.size >= 2 && trees.size < 10 && trees.bytes <= 600, `the budget bounds it: ${trees.size} trees, ${trees.bytes} bytes`);
  trees.endCut();
  assert.ok(trees.size >= 2);
  trees.hold(id(1), trees.get(id(1))!);
  trees.endCut();
  assert.is(trees.size, 1, 'what the cut did not hold is dropped');
  assert.ok(trees.get(id(1)));
  assert.is(trees.get(id(0)), undefined);
  trees.hold(id(1), trees.get(id(1))!);
  trees.endCut(false);
  assert.is(trees.size, 0, 'a failed cut leaves nothing held');
  assert.is(trees.bytes, 0);
});

test.run();
