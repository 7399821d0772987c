/**
 * Binary encoding of trees (formats/store.md §Trees). Pure and deterministic: the same
 * entries always give the same bytes, so an unchanged directory gives the same tree id.
 *
 *   tree   := 'T' version=1 count:uvarint entry{count}
 *   entry  := name:lbytes type:u8 flags:u8 mode uid gid size:uvarint
 *             mtime atime ctime:svarint64 dev ino:uvarint64 nlink:uvarint
 *             [rdev:uvarint]                      flags & 1
 *             [target:lbytes]                     flags & 2
 *             [n:uvarint (name:lbytes value:lbytes){n}]  flags & 4
 *             [n:uvarint (offset length:uvarint){n}]     flags & 8  (sparse extents)
 *             [n:uvarint (id[32] length:uvarint){n}]     type = file
 *             [subtree id[32]]                    type = dir
 *   index  := 'I' version=1 count:uvarint (id[32] length:uvarint){count}
 * An index chunk lists the chunks whose concatenation is one large tree's 'T' encoding.
 */
import { FormatError } from '../errors/index.js';
import { ByteReader } from '../util/byte-reader.js';
import { ByteWriter } from '../util/byte-writer.js';
import { type ChunkRef, ENTRY_TYPE_CODES, ENTRY_TYPES_BY_CODE, type TreeEntry } from './tree-entry.js';

export const TREE_MAGIC = 0x54; // 'T'
export const TREE_INDEX_MAGIC = 0x49; // 'I'
export const TREE_VERSION = 1;

const F_RDEV = 1, F_LINK = 2, F_XATTR = 4, F_SPARSE = 8;

/**
 * The tree's bytes. With `at` (entries.length + 1 long), where each entry's bytes begin, and
 * the end: a tree that changes in a few entries can then be spliced (held-tree.ts).
 */
export function encodeTree(entries: readonly TreeEntry[], at?: Uint32Array): Buffer {
  const w = new ByteWriter(64 + entries.length * 96);
  w.u8(TREE_MAGIC).u8(TREE_VERSION).uvarint(entries.length);
  for (let i = 0; i < entries.length; i++) {
    if (at) at[i] = w.length;
    writeEntry(w, entries[i]);
  }
  if (at) at[entries.length] = w.length;
  return w.finish();
}

/** One entry's bytes, as encodeTree writes them. */
export function encodeTreeEntry(e: TreeEntry): Buffer {
  const w = new ByteWriter(128);
  writeEntry(w, e);
  return w.finish();
}

function writeEntry(w: ByteWriter, e: TreeEntry): void {
  const flags = (e.rdev ? F_RDEV : 0) | (e.linkTarget ? F_LINK : 0) | (e.xattrs?.length ? F_XATTR : 0) | (e.segments ? F_SPARSE : 0);
  w.lbytes(e.name).u8(ENTRY_TYPE_CODES[e.type]).u8(flags)
    .uvarint(e.mode).uvarint(e.uid).uvarint(e.gid).uvarint(e.size)
    .svarintBig(e.mtimeNs).svarintBig(e.atimeNs).svarintBig(e.ctimeNs)
    .uvarintBig(e.dev).uvarintBig(e.ino).uvarint(e.nlink);
  if (flags & F_RDEV) w.uvarint(e.rdev);
  if (flags & F_LINK) w.lbytes(e.linkTarget!);
  if (flags & F_XATTR) {
    w.uvarint(e.xattrs!.length);
    for (const [k, v] of e.xattrs!) w.lbytes(Buffer.from(k, 'utf8')).lbytes(v);
  }
  if (flags & F_SPARSE) {
    w.uvarint(e.segments!.length);
    for (const [o, l] of e.segments!) w.uvarint(o).uvarint(l);
  }
  if (e.type === 'file') writeRefs(w, e.chunks ?? []);
  if (e.type === 'dir') {
    if (!e.subtree || e.subtree.length !== 32) throw new RangeError('directory entry without a subtree id');
    w.bytes(e.subtree);
  }
}

function writeRefs(w: ByteWriter, refs: readonly ChunkRef[]): void {
  w.uvarint(refs.length);
  for (const r of refs) w.bytes(r.id).uvarint(r.length);
}

function readRefs(r: ByteReader): ChunkRef[] {
  const n = r.count(33);
  const out: ChunkRef[] = new Array(n);
  // Ids are views into the tree's buffer, not copies: a directory of large files lists tens of
  // thousands of chunks, and a copy each was most of the time to decode its tree.
  for (let i = 0; i < n; i++) out[i] = { id: r.bytes(32), length: r.uvarint() };
  return out;
}

export function decodeTree(buf: Buffer, what = 'tree'): TreeEntry[] {
  const r = new ByteReader(buf, what);
  const n = readHeader(r);
  const out: TreeEntry[] = [];
  let prev: Buffer | null = null;
  for (let i = 0; i < n; i++) {
    const e = readEntry(r);
    if (prev && Buffer.compare(prev, e.name) >= 0) r.fail('entries not sorted or duplicated');
    prev = e.name;
    out.push(e);
  }
  if (r.remaining !== 0) r.fail('trailing bytes after the last entry');
  return out;
}

/**
 * Where each entry of tree `buf` begins (one more: the end), as encodeTree's `at` gives them,
 * without decoding any: every entry's framing is checked (lengths, varints, flags, types), its
 * values are not (decodeTreeEntry checks those of the one it reads). A tree loaded to be
 * spliced (encoded-tree.ts) decodes only the entries it looks at.
 */
export function treeLayout(buf: Buffer, what = 'tree'): Uint32Array {
  const r = new ByteReader(buf, what);
  const n = readHeader(r);
  const at = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) {
    at[i] = r.pos;
    skipEntry(r);
  }
  if (r.remaining !== 0) r.fail('trailing bytes after the last entry');
  at[n] = r.pos;
  return at;
}

/** Entry i of tree `buf` whose layout is `at` (treeLayout), decoded and checked as decodeTree does but for the name order. */
export function decodeTreeEntry(buf: Buffer, at: Uint32Array, i: number, what = 'tree'): TreeEntry {
  const r = new ByteReader(buf.subarray(0, at[i + 1]), what);
  r.pos = at[i];
  const e = readEntry(r);
  if (r.remaining !== 0) r.fail('entry longer than its layout');
  return e;
}

function readHeader(r: ByteReader): number {
  if (r.u8() !== TREE_MAGIC) r.fail('not a tree (bad magic)');
  const version = r.u8();
  if (version !== TREE_VERSION) throw new FormatError(`${r.what}: tree version ${version} is not supported (this fxcp reads ${TREE_VERSION})`, {}, 'NEWER_VERSION');
  return r.count(14); // the smallest entry (a fifo with a 1-byte name, all zeros) is 14 bytes
}

function skipEntry(r: ByteReader): void {
  if (r.lbytes(4096).length === 0) r.fail('empty entry name');
  const type = ENTRY_TYPES_BY_CODE[r.u8()] ?? r.fail('unknown entry type');
  const flags = r.u8();
  if (flags & ~15) r.fail('unknown entry flags');
  for (let k = 0; k < 4; k++) r.uvarint();
  for (let k = 0; k < 5; k++) r.skipVarint();
  r.uvarint();
  if (flags & F_RDEV) r.uvarint();
  if (flags & F_LINK) r.lbytes(65536);
  if (flags & F_XATTR) for (let j = r.count(2); j > 0; j--) { r.lbytes(255); r.lbytes(1 << 24); }
  if (flags & F_SPARSE) for (let j = r.count(2); j > 0; j--) { r.uvarint(); r.uvarint(); }
  if (type === 'file') for (let j = r.count(33); j > 0; j--) { r.bytes(32); r.uvarint(); }
  if (type === 'dir') r.bytes(32);
}

function readEntry(r: ByteReader): TreeEntry {
  const name = Buffer.from(r.lbytes(4096));
  if (name.length === 0 || name.includes(0x2f) || name.includes(0) || name.equals(DOT) || name.equals(DOTDOT)) {
    r.fail(`invalid entry name ${JSON.stringify(name.toString('utf8'))}`);
  }
  const type = ENTRY_TYPES_BY_CODE[r.u8()] ?? r.fail('unknown entry type');
  const flags = r.u8();
  if (flags & ~15) r.fail('unknown entry flags');
  const e: TreeEntry = {
    name, type, mode: r.uvarint(), uid: r.uvarint(), gid: r.uvarint(), size: r.uvarint(),
    mtimeNs: r.svarintBig(), atimeNs: r.svarintBig(), ctimeNs: r.svarintBig(),
    dev: r.uvarintBig(), ino: r.uvarintBig(), nlink: r.uvarint(), rdev: 0,
  };
  if (e.mode > 0o7777) r.fail('mode has type bits');
  if (flags & F_RDEV) e.rdev = r.uvarint();
  if (flags & F_LINK) e.linkTarget = Buffer.from(r.lbytes(65536));
  if (flags & F_XATTR) {
    const k = r.count(2);
    e.xattrs = [];
    for (let j = 0; j < k; j++) e.xattrs.push([r.lbytes(255).toString('utf8'), Buffer.from(r.lbytes(1 << 24))]);
  }
  if (flags & F_SPARSE) {
    const k = r.count(2);
    e.segments = [];
    let end = 0;
    for (let j = 0; j < k; j++) {
      const o = r.uvarint(), l = r.uvarint();
      if (o < end || o + l > e.size) r.fail('sparse extents out of order or past the file size');
      end = o + l;
      e.segments.push([o, l]);
    }
  }
  if (type === 'file') {
    e.chunks = readRefs(r);
    const data = e.segments ? e.segments.reduce((s, [, l]) => s + l, 0) : e.size;
    const sum = e.chunks.reduce((s, c) => s + c.length, 0);
    if (sum !== data) r.fail(`file ${JSON.stringify(name.toString('utf8'))} chunk lengths sum to ${sum}, expected ${data}`);
  }
  if (type === 'dir') e.subtree = Buffer.from(r.bytes(32));
  return e;
}

const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

export function encodeTreeIndex(parts: readonly ChunkRef[]): Buffer {
  const w = new ByteWriter(16 + parts.length * 36);
  w.u8(TREE_INDEX_MAGIC).u8(TREE_VERSION);
  writeRefs(w, parts);
  return w.finish();
}

export function decodeTreeIndex(buf: Buffer, what = 'tree index'): ChunkRef[] {
  const r = new ByteReader(buf, what);
  if (r.u8() !== TREE_INDEX_MAGIC) r.fail('not a tree index (bad magic)');
  if (r.u8() !== TREE_VERSION) r.fail('unsupported tree index version');
  const refs = readRefs(r);
  if (r.remaining !== 0) r.fail('trailing bytes');
  return refs;
}
