/**
 * Where things are in an intact LMDB file (the store's index), for tests that damage one kind
 * of page on purpose: the pages of each tree of the newest meta, and the byte offset of each
 * tree's MDB_db record. Trusts the file (it follows what it reads): use it before damaging.
 */
import {
  DB_BYTES, F_BIGDATA, F_SUBDATA, FREE_DBI, MAIN_DBI, META, NODE, NODE_HEADER_BYTES, OVPAGE, P_BRANCH, P_INVALID, PAGE,
  PAGE_HEADER_BYTES,
} from '../../lib/index/lmdb-layout.js';

export interface TreePages {
  /** Byte offset of the tree's MDB_db record (in a meta page, or in a leaf of the main tree). */
  record: number;
  root: number;
  /** Branch and leaf pages, root first, level by level. */
  branches: number[];
  leaves: number[];
  /** First pages of overflow runs. */
  overflows: number[];
}

export function pageSizeOf(b: Buffer): number {
  return b.readUInt32LE(PAGE_HEADER_BYTES + META.dbs);
}

/** Byte offset of node `k` of page `p`. */
export function nodeAt(b: Buffer, p: number, k: number): number {
  const at = p * pageSizeOf(b);
  return at + PAGE_HEADER_BYTES + b.readUInt16LE(at + PAGE_HEADER_BYTES + 2 * k);
}

export function keyCount(b: Buffer, p: number): number {
  return b.readUInt16LE(p * pageSizeOf(b) + PAGE.lower) / 2;
}

/** The trees of the newest (or the older) meta: 'free', 'main' and each named database by its name. */
export function treePages(b: Buffer, which: 'newest' | 'older' = 'newest'): Map<string, TreePages> {
  const ps = pageSizeOf(b);
  const txnid = (i: number) => b.readBigUInt64LE(i * ps + PAGE_HEADER_BYTES + META.txnid);
  const newest = txnid(0) >= txnid(1) ? 0 : 1;
  const meta = (which === 'newest' ? newest : 1 - newest) * ps + PAGE_HEADER_BYTES;
  const trees = new Map<string, TreePages>();
  const walk = (name: string, record: number): void => {
    const rootNo = b.readBigUInt64LE(record + 40);
    if (rootNo === P_INVALID) return;
    const t: TreePages = { record, root: Number(rootNo), branches: [], leaves: [], overflows: [] };
    trees.set(name, t);
    const named: Array<[string, number]> = [];
    const visit = (p: number): void => {
      const branch = (b.readUInt16LE(p * ps + PAGE.flags) & P_BRANCH) !== 0;
      (branch ? t.branches : t.leaves).push(p);
      for (let k = 0; k < keyCount(b, p); k++) {
        const at = nodeAt(b, p, k);
        const flags = b.readUInt16LE(at + NODE.flags);
        const data = at + NODE_HEADER_BYTES + b.readUInt16LE(at + NODE.keySize);
        if (branch) visit(b.readUInt16LE(at + NODE.lo) + b.readUInt16LE(at + NODE.hi) * 0x10000 + flags * 0x1_0000_0000);
        else if (flags & F_BIGDATA) t.overflows.push(Number(b.readBigUInt64LE(data + OVPAGE.pgno)));
        else if (flags & F_SUBDATA) named.push([b.toString('latin1', at + NODE_HEADER_BYTES, data).replace(/\0+$/, ''), data]);
      }
    };
    visit(t.root);
    for (const [n, at] of named) walk(n, at);
  };
  walk('free', meta + META.dbs + FREE_DBI * DB_BYTES);
  walk('main', meta + META.dbs + MAIN_DBI * DB_BYTES);
  return trees;
}

/** Transaction id of the newest meta. */
export function newestTxnid(b: Buffer): bigint {
  const ps = pageSizeOf(b);
  const txnid = (i: number) => b.readBigUInt64LE(i * ps + PAGE_HEADER_BYTES + META.txnid);
  return txnid(0) >= txnid(1) ? txnid(0) : txnid(1);
}

/**
 * Byte offsets of the entries that name a page (a page number, or a run's first page after
 * minus its length: lmdb-js's format, index-file-walk.ts) in the free-page lists that leaves of
 * the newest meta's free tree hold (not those in overflow pages), in page order.
 */
export function freeListEntries(b: Buffer): number[] {
  const entries: number[] = [];
  for (const p of treePages(b).get('free')?.leaves ?? []) {
    for (let k = 0; k < keyCount(b, p); k++) {
      const at = nodeAt(b, p, k);
      if (b.readUInt16LE(at + NODE.flags) & F_BIGDATA) continue;
      const list = at + NODE_HEADER_BYTES + b.readUInt16LE(at + NODE.keySize);
      for (let i = 1, n = Number(b.readBigUInt64LE(list)); i <= n; i++) {
        const e = b.readBigInt64LE(list + 8 * i);
        if (e > 0n) entries.push(list + 8 * i);
        else if (e < 0n) entries.push(list + 8 * ++i);
      }
    }
  }
  return entries;
}

/** Makes the free-list entry at `at` (from freeListEntries) name one page: a run's length before it becomes an empty slot. */
export function oneFreePage(b: Buffer, at: number): number {
  if (b.readBigInt64LE(at - 8) < 0n) b.writeBigInt64LE(0n, at - 8);
  return at;
}
