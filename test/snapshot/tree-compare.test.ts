// tree-compare: sameEntries must say "same" exactly when the two listings encode to the same
// bytes (the archiver then reuses the parent's tree id unencoded), and withParents must pair
// each listed entry with the parent tree's entry of the same name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FileMeta } from '../../lib/fs/file-meta.js';
import type { Listed } from '../../lib/snapshot/dir-listing.js';
import { encodeTree } from '../../lib/snapshot/tree-codec.js';
import { sameEntries, withParents } from '../../lib/snapshot/tree-compare.js';
import type { TreeEntry } from '../../lib/snapshot/tree-entry.js';
import { mulberry32, seededBytes } from '../helpers/seeded.js';

type Rnd = () => number;
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];

function randomEntry(rnd: Rnd, i: number): TreeEntry {
  const type = pick(rnd, ['file', 'file', 'dir', 'symlink', 'fifo'] as const);
  const e: TreeEntry = {
    name: Buffer.from(`e${String(i).padStart(3, '0')}`), type, mode: 0o644, uid: 1000, gid: 1000, size: 0,
    mtimeNs: 1_700_000_000_000_000_000n + BigInt(i), atimeNs: 1_700_000_000_000_000_000n, ctimeNs: 1_700_000_000_000_000_001n,
    dev: 2049n, ino: BigInt(1000 + i), nlink: 1, rdev: 0,
  };
  if (type === 'file') {
    e.chunks = Array.from({ length: Math.floor(rnd() * 3) }, (_, k) => ({ id: seededBytes(32, i * 7 + k), length: 4096 + k }));
    e.size = e.chunks.reduce((s, c) => s + c.length, 0);
    if (rnd() < 0.2) e.segments = [[0, e.size]];
  }
  if (type === 'dir') e.subtree = seededBytes(32, 500 + i);
  if (type === 'symlink') e.linkTarget = Buffer.from(`target-${i}`);
  if (rnd() < 0.3) e.xattrs = [['user.a', Buffer.from(`v${i}`)]];
  return e;
}

/** A copy sharing no object with the original: equal values, different Buffers and arrays. */
function deepCopy(e: TreeEntry): TreeEntry {
  return {
    ...e, name: Buffer.from(e.name),
    chunks: e.chunks?.map((c) => ({ id: Buffer.from(c.id), length: c.length })),
    segments: e.segments?.map(([o, l]) => [o, l] as [number, number]),
    subtree: e.subtree && Buffer.from(e.subtree), linkTarget: e.linkTarget && Buffer.from(e.linkTarget),
    xattrs: e.xattrs?.map(([k, v]) => [k, Buffer.from(v)] as [string, Buffer]),
  };
}

/** One change to one entry; some changes set the value it already had. */
function mutate(rnd: Rnd, e: TreeEntry): void {
  switch (Math.floor(rnd() * 12)) {
    case 0: e.mode ^= pick(rnd, [0, 0o100]); break;
    case 1: e.uid += pick(rnd, [0, 1]); break;
    case 2: e.mtimeNs += pick(rnd, [0n, 1n]); break;
    case 3: e.atimeNs += pick(rnd, [0n, 1n]); break;
    case 4: e.ctimeNs += pick(rnd, [0n, 1n]); break;
    case 5: e.ino += pick(rnd, [0n, 1n]); break;
    case 6: e.nlink += pick(rnd, [0, 1]); break;
    case 7: e.name = Buffer.from(e.name.toString() + pick(rnd, ['', 'x'])); break;
    case 8: if (e.chunks?.length) e.chunks[0].id[pick(rnd, [0, 31])] ^= pick(rnd, [0, 1]); break;
    case 9: if (e.chunks?.length) e.chunks[e.chunks.length - 1].length += pick(rnd, [0, 1]); break;
    case 10: e.xattrs = pick(rnd, [undefined, [], [['user.a', Buffer.from('changed')]]]); break;
    case 11: if (e.subtree) e.subtree[5] ^= pick(rnd, [0, 1]); else if (e.linkTarget) e.linkTarget = Buffer.from(e.linkTarget.toString() + pick(rnd, ['', '/'])); break;
  }
}

test('sameEntries is true exactly when the encodings are equal, over seeded listings', () => {
  let same = 0;
  let differ = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const rnd = mulberry32(seed);
    const a = Array.from({ length: 1 + Math.floor(rnd() * 6) }, (_, i) => randomEntry(rnd, i));
    const b = a.map(deepCopy);
    const changes = Math.floor(rnd() * 3);
    for (let k = 0; k < changes; k++) mutate(rnd, pick(rnd, b));
    if (rnd() < 0.05) b.pop();
    const encodedEqual = encodeTree(a).equals(encodeTree(b));
    assert.is(sameEntries(a, b), encodedEqual, `seed ${seed}`);
    if (encodedEqual) same++; else differ++;
  }
  // Both outcomes must really occur, or the test proves nothing.
  assert.ok(same > 50 && differ > 50, `same ${same}, differ ${differ}`);
});

test('withParents pairs entries by name and leaves new ones without a parent', () => {
  const listed = (name: string): Listed => ({ path: Buffer.from(name), rel: name, xattrBytes: 0, meta: { name: Buffer.from(name) } as FileMeta });
  const parents = ['b', 'd', 'e', 'g'].map((n) => ({ ...randomEntry(mulberry32(1), 0), name: Buffer.from(n) }));
  const pairs = [...withParents(['a', 'b', 'c', 'e', 'f', 'g', 'h'].map(listed), parents)];
  assert.equal(pairs.map(([l, p]) => `${l.rel}:${p?.name.toString() ?? '-'}`), ['a:-', 'b:b', 'c:-', 'e:e', 'f:-', 'g:g', 'h:-']);
  assert.equal([...withParents([listed('a')], null)].map(([, p]) => p), [undefined]);
});

test.run();
