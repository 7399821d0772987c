/**
 * A check of the index's LMDB data file with plain reads, made before LMDB maps it. LMDB trusts
 * its file: random bytes, a truncated file or a damaged meta page make it read through wild
 * page numbers and offsets into its map, and the process dies on SIGSEGV or SIGBUS, which no
 * JavaScript can catch. The index is only a cache, so a file that fails here is thrown away and
 * rebuilt instead (chunk-store.ts).
 *
 * What is checked (a few small reads, whatever the file's size):
 *  - both meta pages (0 and 1): the meta flag and page number, LMDB's magic and data version, a
 *    page size that is a power of two LMDB allows and the same in both;
 *  - in each meta: the last used page inside the file (the writer writes every page before the
 *    meta that names it) and inside the map size, the free and main trees' roots inside the
 *    used pages;
 *  - the root pages of both trees of both metas: the page number they carry, a branch or leaf
 *    type, sane free-space bounds; the main tree's root (it holds the named databases: chunks,
 *    packs, meta, ...) node by node: every node inside the page, each database record of its
 *    size with its root page inside the used pages and carrying that page number and type.
 *
 * Limit: pages below the roots (the bulk of the B-trees) are not read, so a file whose metas
 * and roots are intact but whose inner pages are garbage still passes, and LMDB may still
 * crash on it. Checking those means reading the whole file at every command. The commands that
 * recover from that (`store rebuild-index`, `store repair`) open the old environment only when
 * a snapshot record on disk is damaged, to rescue its good copy (Store.rebuildIndex).
 *
 * The layout is LMDB's (lmdb-js 3.x bundles it: dependencies/lmdb/libraries/liblmdb/mdb.c,
 * MDB_page_header, MDB_meta, MDB_db, MDB_node) as built for 64-bit little-endian platforms,
 * the only ones lmdb-js ships for: page numbers, transaction ids and sizes are u64.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** MDB_page_header: pgno u64 | txnid u64 | pad u16 | flags u16 | lower u16 | upper u16. */
const PAGE_HEADER_BYTES = 24;
const PAGE = { pgno: 0, flags: 18, lower: 20, upper: 22 } as const;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_OVERFLOW = 0x04;
const P_META = 0x08;

/** MDB_meta, after the page header: magic u32 | version u32 | address u64 | mapsize u64 | dbs[2] | last_pg u64 | txnid u64. */
const MDB_MAGIC = 0xbeefc0de;
const MDB_DATA_VERSION = 2;
const META = { magic: 0, version: 4, mapSize: 16, dbs: 24, lastPage: 120 } as const;
const META_BYTES = 144;

/** MDB_db: pad u32 (the page size, in the free tree's record) | flags u16 | depth u16 | branch, leaf, overflow, entries, root u64. */
const DB_BYTES = 48;
const DB = { pad: 0, root: 40 } as const;
const FREE_DBI = 0;
const MAIN_DBI = 1;
/** The root of an empty tree. */
const P_INVALID = 0xffff_ffff_ffff_ffffn;

/** MDB_node: lo u16 | hi u16 (data size) | flags u16 | ksize u16, then key and data. */
const NODE_HEADER_BYTES = 8;
const F_SUBDATA = 0x02;

/** Page sizes LMDB accepts (mdb_env_set_pagesize: 256 to MAX_PAGESIZE, 64 KiB in lmdb-js). */
const MIN_PAGE_SIZE = 256;
const MAX_PAGE_SIZE = 0x10000;

interface Meta { lastPage: bigint; roots: bigint[] }

class Damage extends Error {}

function fail(reason: string): never {
  throw new Damage(reason);
}

/**
 * Null when `file` looks like an LMDB environment that LMDB can open safely (or does not exist:
 * LMDB then creates it); otherwise why not, in a few words ("meta page 1 has a bad magic").
 */
export function checkIndexFile(file: string): string | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    checkOpenFile(fd);
    return null;
  } catch (err) {
    if (err instanceof Damage) return err.message;
    throw err;
  } finally {
    closeSync(fd);
  }
}

function checkOpenFile(fd: number): void {
  const read = (pos: bigint, length: number): Buffer => {
    const b = Buffer.alloc(length);
    const n = readSync(fd, b, 0, length, pos);
    if (n < length) fail(pos === 0n && n === 0 ? 'the file is empty' : `the file ends at byte ${pos + BigInt(n)} (truncated)`);
    return b;
  };
  // The size after the metas are read: a writer writes pages before the meta naming them and
  // never shrinks the file, so a meta read first never names a page beyond a size read later.
  const first = read(0n, PAGE_HEADER_BYTES + META_BYTES);
  const pageSize = first.readUInt32LE(PAGE_HEADER_BYTES + META.dbs + FREE_DBI * DB_BYTES + DB.pad);
  if (pageSize < MIN_PAGE_SIZE || pageSize > MAX_PAGE_SIZE || (pageSize & (pageSize - 1)) !== 0) {
    if (first.readUInt32LE(PAGE_HEADER_BYTES + META.magic) !== MDB_MAGIC) fail('meta page 0 has a bad magic');
    fail(`meta page 0 gives an impossible page size ${pageSize}`);
  }
  const ps = BigInt(pageSize);
  const metas = [readMeta(first, 0, pageSize), readMeta(read(ps, PAGE_HEADER_BYTES + META_BYTES), 1, pageSize)];
  const pages = BigInt(fstatSync(fd).size) / ps;
  for (const [i, m] of metas.entries()) {
    if (m.lastPage + 1n > pages) fail(`meta page ${i} names page ${m.lastPage}, but the file has ${pages} pages (truncated)`);
  }
  for (const [i, m] of metas.entries()) {
    for (const [dbi, root] of m.roots.entries()) {
      if (root === P_INVALID) continue;
      const page = read(root * ps, pageSize);
      checkTreePage(page, root, pageSize, `the ${dbi === FREE_DBI ? 'free' : 'main'} tree root of meta ${i}`);
      if (dbi === MAIN_DBI && (page.readUInt16LE(PAGE.flags) & P_LEAF)) checkNamedDatabases(page, m, pageSize, i, (p) => read(p * ps, PAGE_HEADER_BYTES));
    }
  }
}

function readMeta(b: Buffer, i: number, pageSize: number): Meta {
  if (b.readBigUInt64LE(PAGE.pgno) !== BigInt(i) || !(b.readUInt16LE(PAGE.flags) & P_META)) fail(`page ${i} is not a meta page`);
  const m = PAGE_HEADER_BYTES;
  if (b.readUInt32LE(m + META.magic) !== MDB_MAGIC) fail(`meta page ${i} has a bad magic`);
  if ((b.readUInt32LE(m + META.version) & 0xffff) !== MDB_DATA_VERSION) fail(`meta page ${i} has LMDB data version ${b.readUInt32LE(m + META.version) & 0xffff}, not ${MDB_DATA_VERSION}`);
  if (b.readUInt32LE(m + META.dbs + FREE_DBI * DB_BYTES + DB.pad) !== pageSize) fail(`the meta pages disagree on the page size`);
  const lastPage = b.readBigUInt64LE(m + META.lastPage);
  const mapSize = b.readBigUInt64LE(m + META.mapSize);
  if (lastPage < 1n || (lastPage + 1n) * BigInt(pageSize) > mapSize) fail(`meta page ${i} names last page ${lastPage}, outside its map of ${mapSize} bytes`);
  const roots = [FREE_DBI, MAIN_DBI].map((dbi) => b.readBigUInt64LE(m + META.dbs + dbi * DB_BYTES + DB.root));
  for (const root of roots) checkRoot(root, lastPage, `meta page ${i}`);
  return { lastPage, roots };
}

function checkRoot(root: bigint, lastPage: bigint, where: string): void {
  if (root !== P_INVALID && (root < 2n || root > lastPage)) fail(`${where} names root page ${root}, outside pages 2..${lastPage}`);
}

/** A branch or leaf page's header: its own number, its type, its free-space bounds. */
function checkTreePage(page: Buffer, pgno: bigint, pageSize: number, what: string): void {
  if (page.readBigUInt64LE(PAGE.pgno) !== pgno) fail(`${what} (page ${pgno}) carries page number ${page.readBigUInt64LE(PAGE.pgno)}`);
  const flags = page.readUInt16LE(PAGE.flags);
  const kind = flags & (P_BRANCH | P_LEAF | P_OVERFLOW | P_META);
  if (kind !== P_BRANCH && kind !== P_LEAF) fail(`${what} (page ${pgno}) is neither a branch nor a leaf (flags 0x${flags.toString(16)})`);
  const lower = page.readUInt16LE(PAGE.lower), upper = page.readUInt16LE(PAGE.upper);
  if (lower % 2 !== 0 || lower > upper || upper > pageSize - PAGE_HEADER_BYTES) fail(`${what} (page ${pgno}) has impossible bounds ${lower}..${upper}`);
}

/**
 * The main tree's root leaf lists the named databases, each value an MDB_db record: LMDB reads
 * these at every open, and then each database's root page.
 */
function checkNamedDatabases(page: Buffer, m: Meta, pageSize: number, i: number, readHeader: (pgno: bigint) => Buffer): void {
  const count = page.readUInt16LE(PAGE.lower) / 2;
  for (let k = 0; k < count; k++) {
    const at = PAGE_HEADER_BYTES + page.readUInt16LE(PAGE_HEADER_BYTES + 2 * k);
    if (at + NODE_HEADER_BYTES > pageSize) fail(`a node of the main tree root of meta ${i} lies outside its page`);
    const dataSize = page.readUInt16LE(at) | (page.readUInt16LE(at + 2) << 16);
    const keySize = page.readUInt16LE(at + 6);
    if (!(page.readUInt16LE(at + 4) & F_SUBDATA)) continue;
    const db = at + NODE_HEADER_BYTES + keySize;
    if (dataSize !== DB_BYTES || db + DB_BYTES > pageSize) fail(`a database record in the main tree root of meta ${i} is damaged`);
    const root = page.readBigUInt64LE(db + DB.root);
    const name = page.toString('latin1', at + NODE_HEADER_BYTES, db).replace(/\0+$/, ''); // lmdb-js ends names with a NUL
    checkRoot(root, m.lastPage, `database '${name}' of meta ${i}`);
    if (root === P_INVALID) continue;
    checkTreePage(readHeader(root), root, pageSize, `the root of database '${name}' of meta ${i}`);
  }
}
