// Tree encoding: round trip of every entry kind, determinism, strict decoding, seeded fuzz; the
// layout of a tree read without decoding it, one entry decoded at a time, and its listing print
// read from the bytes, each equal to what decoding the whole tree gives.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FormatError, ToolkitError } from '../../lib/errors/index.js';
import { blake3 } from '../../lib/hash/blake3.js';
import { decodeTree, decodeTreeEntry, decodeTreeIndex, encodeTree, encodeTreeIndex, treeLayout } from '../../lib/snapshot/tree-codec.js';
import { EncodedTree } from '../../lib/snapshot/encoded-tree.js';
import { encodedListingPrint, listingPrint } from '../../lib/snapshot/listing-memo.js';
import type { ChunkRef, TreeEntry } from '../../lib/snapshot/tree-entry.js';
import { mulberry32 } from '../helpers/seeded.js';


const id = (s: string) => blake3().hash(Buffer.from(s));
const ref = (s: string, length: number): ChunkRef => ({ id: id(s), length });
const T0 = 1_700_000_000_123_456_789n;

/** An entry as decodeTree returns it (rdev always present, no undefined keys). */
function entry(name: string | Buffer, type: TreeEntry['type'], extra: Partial<TreeEntry> = {}): TreeEntry {
  const e: TreeEntry = {
    name: typeof name === 'string' ? Buffer.from(name) : name, type, mode: 0o644, uid: 1000, gid: 1000, size: 0,
    mtimeNs: T0, atimeNs: T0 + 5n, ctimeNs: T0 + 9n, dev: 2049n, ino: 1234n, nlink: 1, rdev: 0, ...extra,
  };
  if (type === 'file' && !e.chunks) e.chunks = [];
  if (type === 'dir' && !e.subtree) e.subtree = id(`tree of ${e.name.toString('hex')}`);
  return e;
}

function sorted(entries: TreeEntry[]): TreeEntry[] {
  return [...entries].sort((a, b) => Buffer.compare(a.name, b.name));
}

function golden(): TreeEntry[] {
  return sorted([
    entry('a.txt', 'file', {
      size: 70_000, chunks: [ref('c1', 65_536), ref('c2', 4_464)],
      xattrs: [['security.selinux', Buffer.from('system_u:object_r:x\0', 'latin1')], ['user.comment', Buffer.from([0xff, 0, 1])]],
    }),
    entry('empty', 'file', { size: 0, chunks: [] }),
    entry('sparse.img', 'file', {
      size: 10 * 1024 * 1024, segments: [[0, 4096], [1 << 20, 8192], [10 * 1024 * 1024 - 1, 1]],
      chunks: [ref('s1', 4096), ref('s2', 8193)],
    }),
    entry('holes-only', 'file', { size: 1 << 30, segments: [], chunks: [] }),
    entry('dir', 'dir', { mode: 0o1777, nlink: 7, subtree: id('subtree') }),
    entry('link', 'symlink', { mode: 0o777, size: 9, linkTarget: Buffer.from('../a.txt\xff', 'latin1') }),
    entry('pipe', 'fifo', { mode: 0o600 }),
    entry('null', 'chardev', { rdev: 259, mode: 0o666, uid: 0, gid: 0 }),
    entry('sda', 'blockdev', { rdev: 2048, mode: 0o660, gid: 6 }),
    entry('sock', 'socket', { mode: 0o755 }),
    entry(Buffer.from([0x66, 0xff, 0xfe, 0x6f]), 'file', { size: 3, chunks: [ref('nonutf8', 3)] }),
    entry('é-unicode', 'file', { size: 1, chunks: [ref('u', 1)], mode: 0o4755, uid: 2 ** 32 - 2, gid: 2 ** 32 - 1 }),
    entry('old', 'file', {
      mtimeNs: -1n, atimeNs: -86_400_000_000_123n, ctimeNs: -(1n << 63n), dev: (1n << 64n) - 1n, ino: 1n << 63n, nlink: 2 ** 31,
    }),
    entry('big', 'file', { size: 2 ** 53 - 1, chunks: [ref('b1', 2 ** 52), ref('b2', 2 ** 52 - 1)], ctimeNs: (1n << 63n) - 1n }),
  ]);
}

function expectFormat(fn: () => unknown, pattern: RegExp, code = 'FORMAT'): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, FormatError, `expected FormatError, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    assert.is((e as FormatError).code, code);
    return;
  }
  assert.unreachable(`expected FormatError matching ${pattern}`);
}

test('every entry type round trips exactly', () => {
  const entries = golden();
  const buf = encodeTree(entries);
  assert.is(buf[0], 0x54);
  assert.is(buf[1], 1);
  const back = decodeTree(buf);
  assert.is(back.length, entries.length);
  back.forEach((b, i) => assert.equal(b, entries[i], `entry ${entries[i].name.toString('latin1')}`));
  // Spot checks that equal() compared buffers and bigints (not vacuous).
  const old = back.find((e) => e.name.toString() === 'old')!;
  assert.is(old.ctimeNs, -(1n << 63n));
  assert.is(old.dev, (1n << 64n) - 1n);
  assert.ok(back.some((e) => e.name.equals(Buffer.from([0x66, 0xff, 0xfe, 0x6f]))));
  assert.ok(back.find((e) => e.type === 'symlink')!.linkTarget!.equals(Buffer.from('../a.txt\xff', 'latin1')));
  assert.is(back.find((e) => e.type === 'chardev')!.rdev, 259);
});

test('empty tree round trips', () => {
  const b = encodeTree([]);
  assert.is(b.toString('hex'), '540100');
  assert.equal(decodeTree(b), []);
});

test('deterministic: same entries, same bytes; any change, different bytes', () => {
  const a = encodeTree(golden());
  assert.ok(encodeTree(golden()).equals(a));
  assert.ok(encodeTree(decodeTree(a)).equals(a));
  const changed = golden();
  changed[0] = { ...changed[0], mtimeNs: changed[0].mtimeNs + 1n };
  assert.not.ok(encodeTree(changed).equals(a));
  // Empty xattrs list and no xattrs encode the same.
  const e1 = entry('x', 'fifo');
  assert.ok(encodeTree([{ ...e1, xattrs: [] }]).equals(encodeTree([e1])));
});

test('minimal entries (small fields, times near the epoch) decode', () => {
  // A fifo with a 1-byte name and all-zero fields encodes in 14 bytes; a one-entry tree is valid
  // and must decode (the entry-count guard must not assume a larger minimum entry size).
  const tiny = entry('p', 'fifo', { mode: 0, uid: 0, gid: 0, mtimeNs: 0n, atimeNs: 0n, ctimeNs: 0n, dev: 0n, ino: 0n, nlink: 0 });
  const buf = encodeTree([tiny]);
  assert.is(buf.length, 3 + 14);
  assert.equal(decodeTree(buf), [tiny]);
  const many = Array.from({ length: 50 }, (_, i) => ({ ...tiny, name: Buffer.from(`n${String(i).padStart(2, '0')}`) }));
  assert.equal(decodeTree(encodeTree(many)), many);
});

test('decoder rejects unsorted and duplicate names', () => {
  const [a, b] = [entry('a', 'fifo'), entry('b', 'fifo')];
  expectFormat(() => decodeTree(encodeTree([b, a])), /not sorted or duplicated/);
  expectFormat(() => decodeTree(encodeTree([a, a])), /not sorted or duplicated/);
  // Byte order, not locale order: 'B' (0x42) sorts before 'a'.
  assert.is(decodeTree(encodeTree([entry('B', 'fifo'), a])).length, 2);
  expectFormat(() => decodeTree(encodeTree([a, entry('B', 'fifo')])), /not sorted/);
});

test('decoder rejects invalid names', () => {
  for (const bad of [Buffer.from('a/b'), Buffer.from('/'), Buffer.from('.'), Buffer.from('..'), Buffer.from('a\0b'), Buffer.alloc(0), Buffer.alloc(4097, 0x61)]) {
    expectFormat(() => decodeTree(encodeTree([entry(bad, 'fifo')])), /invalid entry name|exceeds limit/);
  }
  // Names that merely contain dots are fine.
  assert.is(decodeTree(encodeTree(sorted([entry('...', 'fifo'), entry('.hidden', 'fifo'), entry('a..b', 'fifo')]))).length, 3);
});

test('decoder rejects chunk lengths not summing to the size (or to the sparse extents)', () => {
  expectFormat(() => decodeTree(encodeTree([entry('f', 'file', { size: 10, chunks: [ref('x', 9)] })])), /chunk lengths sum to 9, expected 10/);
  expectFormat(() => decodeTree(encodeTree([entry('f', 'file', { size: 0, chunks: [ref('x', 1)] })])), /sum to 1, expected 0/);
  expectFormat(() => decodeTree(encodeTree([entry('f', 'file', { size: 100, segments: [[0, 10]], chunks: [ref('x', 100)] })])), /expected 10/);
  expectFormat(() => decodeTree(encodeTree([entry('f', 'file', { size: 100, segments: [[50, 10], [0, 10]], chunks: [ref('x', 20)] })])), /out of order/);
  expectFormat(() => decodeTree(encodeTree([entry('f', 'file', { size: 100, segments: [[95, 10]], chunks: [ref('x', 10)] })])), /past the file size/);
});

test('decoder rejects trailing bytes, unknown type and flags, type bits in mode, bad magic', () => {
  const good = encodeTree([entry('a', 'fifo')]);
  expectFormat(() => decodeTree(Buffer.concat([good, Buffer.from([0])])), /trailing bytes/);
  // Layout: 'T' 1 count=1 | len=1 'a' | type | flags | ...
  assert.is(good[5], 4);
  for (const t of [0, 8, 255]) {
    const b = Buffer.from(good); b[5] = t;
    expectFormat(() => decodeTree(b), /unknown entry type/);
  }
  for (const f of [16, 32, 128]) {
    const b = Buffer.from(good); b[6] = f;
    expectFormat(() => decodeTree(b), /unknown entry flags/);
  }
  expectFormat(() => decodeTree(encodeTree([entry('a', 'fifo', { mode: 0o10644 })])), /mode has type bits/);
  const magic = Buffer.from(good); magic[0] = 0x49;
  expectFormat(() => decodeTree(magic, 'tree 1234'), /^tree 1234: not a tree \(bad magic\)/);
  expectFormat(() => decodeTree(Buffer.alloc(0)), /truncated/);
});

test('decoder rejects a newer version with a clear message', () => {
  const b = encodeTree([entry('a', 'fifo')]);
  b[1] = 2;
  expectFormat(() => decodeTree(b, 'tree abc'), /tree abc: tree version 2 is not supported/, 'NEWER_VERSION');
});

test('decoder refuses absurd counts without allocating', () => {
  const b = Buffer.from([0x54, 1, 0xff, 0xff, 0xff, 0xff, 0x0f]);
  expectFormat(() => decodeTree(b), /cannot fit/);
});

test('encodeTree refuses a directory without a subtree id', () => {
  assert.throws(() => encodeTree([{ ...entry('d', 'dir'), subtree: Buffer.alloc(31) }]));
});

test('tree index round trip and rejections', () => {
  const parts = [ref('p1', 100_000), ref('p2', 1), ref('p3', 2 ** 40)];
  const b = encodeTreeIndex(parts);
  assert.is(b[0], 0x49);
  assert.equal(decodeTreeIndex(b), parts);
  assert.ok(encodeTreeIndex(parts).equals(b));
  assert.equal(decodeTreeIndex(encodeTreeIndex([])), []);
  expectFormat(() => decodeTreeIndex(Buffer.concat([b, Buffer.from([1])])), /trailing bytes/);
  expectFormat(() => decodeTreeIndex(encodeTree([])), /not a tree index/);
  expectFormat(() => decodeTree(b), /not a tree/);
  const v = Buffer.from(b); v[1] = 9;
  expectFormat(() => decodeTreeIndex(v), /unsupported tree index version/);
  for (let n = 0; n < b.length; n++) expectFormat(() => decodeTreeIndex(b.subarray(0, n)), /truncated|cannot fit/);
});

test('treeLayout, decodeTreeEntry and encodedListingPrint agree with the whole tree decoded', () => {
  for (const entries of [golden(), [], golden().slice(0, 1)]) {
    const at = new Uint32Array(entries.length + 1);
    const buf = encodeTree(entries, at);
    assert.equal([...treeLayout(buf)], [...at]);
    assert.equal(entries.map((_, i) => decodeTreeEntry(buf, at, i)), decodeTree(buf));
    const printAt = new Uint32Array(entries.length + 1), want = new Uint32Array(entries.length + 1);
    assert.ok(encodedListingPrint(buf, at, printAt).equals(listingPrint(entries, want)), 'the print, negative and 64-bit times and ids included');
    assert.equal([...printAt], [...want]);
  }
  // EncodedTree reads names and types in place: a name of 300 bytes has a 2-byte length.
  const long = sorted([...golden(), entry('L'.repeat(300), 'dir'), entry('m'.repeat(4096), 'fifo')]);
  const bytes = encodeTree(long);
  const view = new EncodedTree(bytes, treeLayout(bytes));
  assert.is(view.length, long.length);
  long.forEach((e, i) => {
    assert.ok(view.name(i).equals(e.name), `name ${i}`);
    assert.is(view.type(i), e.type);
    if (e.type === 'dir') assert.ok(view.subtree(i).equals(e.subtree!));
  });
  assert.equal(view.all(), long);
  const buf = encodeTree(golden());
  expectFormat(() => treeLayout(buf.subarray(0, buf.length - 1)), /truncated|trailing|cannot fit/);
  expectFormat(() => treeLayout(Buffer.concat([buf, Buffer.from([0])])), /trailing bytes/);
});

test('seeded fuzz: 2,000 truncations and byte flips of a golden tree decode or throw ToolkitError', () => {
  const goldenBuf = encodeTree(golden());
  const rnd = mulberry32(20240611);
  let decoded = 0, rejected = 0;
  const t0 = Date.now();
  for (let i = 0; i < 2000; i++) {
    let buf = Buffer.from(goldenBuf);
    const mode = i % 4;
    if (mode === 0 || mode === 3) {
      const flips = 1 + Math.floor(rnd() * 3);
      for (let f = 0; f < flips; f++) buf[Math.floor(rnd() * buf.length)] ^= 1 << Math.floor(rnd() * 8);
    }
    if (mode === 1) {
      const flips = 1 + Math.floor(rnd() * 8);
      for (let f = 0; f < flips; f++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
    }
    if (mode === 2 || mode === 3) buf = buf.subarray(0, Math.floor(rnd() * buf.length));
    const started = Date.now();
    let whole: TreeEntry[] | null = null;
    try {
      whole = decodeTree(buf, `fuzz ${i}`);
      assert.ok(Array.isArray(whole));
      decoded++;
    } catch (e) {
      if (!(e instanceof ToolkitError)) assert.unreachable(`case ${i} (seed mode ${mode}): ${String(e)}\n${buf.toString('hex')}`);
      assert.match((e as Error).message, `fuzz ${i}`);
      rejected++;
    }
    // The layout reader too: a layout or a ToolkitError; over a tree that decodes, the same entries and print.
    let at: Uint32Array | null = null;
    try {
      at = treeLayout(buf, `fuzz ${i}`);
    } catch (e) {
      if (!(e instanceof ToolkitError)) assert.unreachable(`layout, case ${i}: ${String(e)}\n${buf.toString('hex')}`);
      assert.is(whole, null, `case ${i}: the layout refused a tree that decodes`);
    }
    if (at) {
      for (let k = 0; k < at.length - 1; k++) {
        try {
          const e = decodeTreeEntry(buf, at, k, `fuzz ${i}`);
          if (whole) assert.equal(e, whole[k]);
        } catch (e) {
          if (!(e instanceof ToolkitError)) assert.unreachable(`entry ${k}, case ${i}: ${String(e)}`);
          assert.is(whole, null);
        }
      }
      if (whole) {
        let want: Buffer | null = null;
        try { want = listingPrint(whole); } catch { /* a value the print cannot hold: both refuse */ }
        if (want) assert.ok(encodedListingPrint(buf, at).equals(want), `case ${i}: print`);
        else assert.throws(() => encodedListingPrint(buf, at!));
      }
    }
    assert.ok(Date.now() - started < 500, `case ${i} too slow`);
  }
  assert.is(decoded + rejected, 2000);
  assert.ok(rejected > 1000, `only ${rejected} rejected`);
  assert.ok(Date.now() - t0 < 4000);
});

test.run();
