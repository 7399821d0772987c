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
 *    used pages, the flags LMDB acts on in their records: no sorted duplicates in the free tree
 *    (LMDB aborts on an assertion, mdb_cursor_init), no sorted duplicates or integer keys in
 *    the main tree (LMDB then opens no named database: MDB_INCOMPATIBLE on every command,
 *    none rebuilding the index). The free tree's other flag bits are the environment's;
 *  - the root pages of both trees of both metas: the page number they carry, a branch or leaf
 *    type, sane free-space bounds; the main tree's root (it holds the named databases: chunks,
 *    packs, meta, ...) node by node: every node inside the page, each database record of its
 *    size with its root page inside the used pages and carrying that page number and type.
 *
 * Pages below the roots (the bulk of the B-trees) are not read here: index-file-walk.ts reads
 * them, for the trees a command reads, after this check (StoreIndex.open, IndexWalk). This
 * check is what a file must pass before any walk can trust its metas.
 *
 * The layout is LMDB's, as lmdb-layout.ts gives it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import {
  DB, DB_BYTES, F_SUBDATA, fail, FREE_DBI, IndexFileDamage, MAIN_DBI, MAX_PAGE_SIZE, MDB_DATA_VERSION, MDB_DUPSORT, MDB_INTEGERKEY,
  MDB_MAGIC, META, META_BYTES, MIN_PAGE_SIZE, NODE_HEADER_BYTES, P_BRANCH, P_INVALID, P_LEAF, P_META, P_OVERFLOW, PAGE, PAGE_HEADER_BYTES,
} from './lmdb-layout.js';

/** A tree's record in a meta page (MDB_db): what the walk (index-file-walk.ts) starts from. */
export interface TreeRecord { root: bigint; flags: number; depth: number; entries: bigint }

export interface Meta { lastPage: bigint; txnid: bigint; roots: bigint[]; trees: TreeRecord[] }

/** What a file that passes the check is made of: its page size, page count and both metas. */
export interface IndexLayout { pageSize: number; pages: bigint; metas: Meta[] }

/**
 * Null when `file` looks like an LMDB environment that LMDB can open safely (or does not exist:
 * LMDB then creates it); otherwise why not, in a few words ("meta page 1 has a bad magic").
 */
export function checkIndexFile(file: string): string | null {
  return judgeIndexFile(file, (fd) => { readIndexLayout(fd); });
}

/** Checks of a file whose metas keep changing under them (a writer committing) before it is left unjudged. */
const JUDGE_ATTEMPTS = 3;

/**
 * Runs `check` (which throws IndexFileDamage) on the index file `file`, opened read-only: null
 * when it passes or the file does not exist (LMDB then creates it), otherwise the damage it found. A writer committing meanwhile (another process's snapshot) can
 * make sound pages look damaged: LMDB rewrites a meta page at each commit and reuses the pages
 * only the older meta still names, which this reader, holding no LMDB read lock, may be in the
 * middle of reading. So damage counts only when both meta pages read the same, byte for byte,
 * before and after the check; otherwise the check runs again, and a file that keeps changing is
 * not judged (null): a busy index is not a damaged one, and LMDB itself reads it safely under
 * its read lock.
 */
export function judgeIndexFile(file: string, check: (fd: number) => void): string | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    for (let attempt = 1; ; attempt++) {
      const before = metaBytes(fd);
      try {
        check(fd);
        return null;
      } catch (err) {
        if (!(err instanceof IndexFileDamage)) throw err;
        if (metaBytes(fd).equals(before)) return err.message;
        if (attempt === JUDGE_ATTEMPTS) return null;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Both meta pages' header and meta record, as bytes (meta 0's alone when its page size is impossible). */
export function metaBytes(fd: number): Buffer {
  const n = PAGE_HEADER_BYTES + META_BYTES;
  const b = Buffer.alloc(2 * n);
  const got = readSync(fd, b, 0, n, 0);
  const pageSize = got === n ? b.readUInt32LE(PAGE_HEADER_BYTES + META.dbs + FREE_DBI * DB_BYTES + DB.pad) : 0;
  if (pageSize < MIN_PAGE_SIZE || pageSize > MAX_PAGE_SIZE || (pageSize & (pageSize - 1)) !== 0) return b.subarray(0, got);
  return b.subarray(0, got + readSync(fd, b, n, n, pageSize));
}

/** Checks the open file `fd` as checkIndexFile says; throws IndexFileDamage when it fails. */
export function readIndexLayout(fd: number): IndexLayout {
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
  return { pageSize, pages, metas };
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
  const trees = [FREE_DBI, MAIN_DBI].map((dbi) => treeRecord(b, m + META.dbs + dbi * DB_BYTES));
  const roots = trees.map((t) => t.root);
  for (const root of roots) checkRoot(root, lastPage, `meta page ${i}`);
  if (trees[FREE_DBI].flags & MDB_DUPSORT) fail(`meta page ${i} gives the free tree sorted duplicates (flags 0x${trees[FREE_DBI].flags.toString(16)})`);
  if (trees[MAIN_DBI].flags & (MDB_DUPSORT | MDB_INTEGERKEY)) fail(`meta page ${i} gives the main tree flags 0x${trees[MAIN_DBI].flags.toString(16)}, under which LMDB opens no named database`);
  return { lastPage, txnid: b.readBigUInt64LE(m + META.txnid), roots, trees };
}

/** The MDB_db record at `at` in `b`. */
export function treeRecord(b: Buffer, at: number): TreeRecord {
  return { root: b.readBigUInt64LE(at + DB.root), flags: b.readUInt16LE(at + DB.flags), depth: b.readUInt16LE(at + DB.depth), entries: b.readBigUInt64LE(at + DB.entries) };
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
