/**
 * The byte layout of an LMDB data file, as far as the index's checks read it with plain reads
 * (index-file-check.ts, index-file-walk.ts). It is LMDB's (lmdb-js 3.x bundles it:
 * node_modules/lmdb/dependencies/lmdb/libraries/liblmdb/mdb.c, MDB_page_header, MDB_meta, MDB_db, MDB_node,
 * MDB_ovpage) as built for 64-bit little-endian platforms without MDB_VL32, the only ones
 * lmdb-js ships for: page numbers, transaction ids and sizes are u64.
 */

/** MDB_page_header: pgno u64 | txnid u64 | pad u16 | flags u16 | lower u16 | upper u16 (overflow: pages u32). */
export const PAGE_HEADER_BYTES = 24;
export const PAGE = { pgno: 0, txnid: 8, flags: 18, lower: 20, upper: 22, overflowPages: 20 } as const;
export const P_BRANCH = 0x01;
export const P_LEAF = 0x02;
export const P_OVERFLOW = 0x04;
export const P_META = 0x08;
/** Pages of sorted-duplicate databases (DUPFIXED leaves, DUPSORT sub-pages): the index has none. */
export const P_LEAF2 = 0x20;
export const P_SUBP = 0x40;
/** The bits that say what a page is; the others are LMDB's in-memory bookkeeping, never written. */
export const PAGE_KINDS = P_BRANCH | P_LEAF | P_OVERFLOW | P_META | P_LEAF2 | P_SUBP;

/** MDB_meta, after the page header: magic u32 | version u32 | address u64 | mapsize u64 | dbs[2] | last_pg u64 | txnid u64. */
export const MDB_MAGIC = 0xbeefc0de;
export const MDB_DATA_VERSION = 2;
export const META = { magic: 0, version: 4, mapSize: 16, dbs: 24, lastPage: 120, txnid: 128 } as const;
export const META_BYTES = 144;

/** MDB_db: pad u32 (the page size, in the free tree's record) | flags u16 | depth u16 | branch, leaf, overflow, entries, root u64. */
export const DB_BYTES = 48;
export const DB = { pad: 0, flags: 4, depth: 6, entries: 32, root: 40 } as const;
export const FREE_DBI = 0;
export const MAIN_DBI = 1;
/** md_flags of a named database (mdb_dbi_open). */
export const MDB_REVERSEKEY = 0x02;
export const MDB_DUPSORT = 0x04;
export const MDB_INTEGERKEY = 0x08;
/** The root of an empty tree. */
export const P_INVALID = 0xffff_ffff_ffff_ffffn;
/** CURSOR_STACK: LMDB's cursors hold at most this many levels of a tree. */
export const MAX_DEPTH = 32;

/**
 * MDB_node: lo u16 | hi u16 | flags u16 | ksize u16, then the key, then (in a leaf) the data.
 * A leaf's data size is lo | hi << 16; a branch's child page is lo | hi << 16 | flags << 32.
 */
export const NODE_HEADER_BYTES = 8;
export const NODE = { lo: 0, hi: 2, flags: 4, keySize: 6 } as const;
export const F_BIGDATA = 0x01;
export const F_SUBDATA = 0x02;
export const F_DUPDATA = 0x04;
/** MDB_ovpage, the data of an F_BIGDATA node: pgno u64 | txnid u64 | pages u64. */
export const OVPAGE_BYTES = 24;
export const OVPAGE = { pgno: 0, pages: 16 } as const;

/** Page sizes LMDB accepts (mdb_env_set_pagesize: 256 to MAX_PAGESIZE, 64 KiB in lmdb-js). */
export const MIN_PAGE_SIZE = 256;
export const MAX_PAGE_SIZE = 0x10000;

/** What the checks find wrong with the file; caught by them and returned as a sentence. */
export class IndexFileDamage extends Error {}

export function fail(reason: string): never {
  throw new IndexFileDamage(reason);
}
