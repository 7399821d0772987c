/**
 * A full structural walk of the index's LMDB data file with plain reads, before LMDB maps it.
 * The open-time check (index-file-check.ts) reads the metas and the roots; damage below the
 * roots (garbage in branch, leaf or overflow pages) passes it, and LMDB, which trusts every
 * page it follows, then dies on SIGSEGV or SIGBUS or aborts on an assertion: when it writes
 * through such a page (a split, a free-list merge) and when it reads a key or value whose size
 * runs past the file. This walk reads every page that the trees of both metas reach, so that
 * such a file is refused instead (and, being a cache, rebuilt: chunk-store.ts).
 *
 * Checked, for the free tree, the main tree and every named database (chunks, packs, ...)
 * whose record is in the main tree's leaves:
 *  - every named database's flags: integer keys or none (the index has no duplicate or
 *    reversed keys);
 *  - every page: the page number it carries, its type (a branch above the leaves, a leaf at the
 *    depth the tree's record gives, never a sub-page or DUPFIXED page) and no other flag (LMDB's marks for a page in a write
 *    transaction, P_LOOSE and P_KEEP, are never written; copied from a written page, P_LOOSE
 *    made every commit fail with MDB_PROBLEM), free-space bounds; at least two keys in a
 *    branch (LMDB asserts it), one in a leaf; the transaction id it carries no newer than its
 *    meta's (the LMDB in lmdb-js tells a page its write transaction has already copied by that
 *    id alone, IS_WRITABLE in node_modules/lmdb/dependencies/lmdb/libraries/liblmdb/mdb.c: a
 *    committed page with a newer id is written in place, through the read-only map, and the
 *    writer dies on SIGSEGV);
 *  - every node: its offset inside the page above the free space, its key and in-page data
 *    inside the page, together filling the page from its upper bound exactly as LMDB packs
 *    them; the keys in order (the tree's comparator: bytes, or integers for integer keys);
 *  - child pages inside 2..last page and reached once (no cycle, no page in two places);
 *  - F_BIGDATA values: an overflow run inside the used pages, whose first page carries its
 *    number, the overflow type and the run's length, and holds the value; F_SUBDATA records
 *    (named databases) of MDB_db's size, in the main tree only; free-tree records with an
 *    8-byte key and a page list whose count fits the record (LMDB reads that many);
 *  - the pages those lists name (lmdb-js's format: a page number, or minus a run's length then
 *    its first page, or 0 for a used slot): inside 2..last page, and none that a walked tree
 *    of the same snapshot reaches. A writer takes its new pages from these lists and writes
 *    them without reading them: a wild number put the writer's pages past the file's end (its
 *    meta then named pages the file lacks), a live one overwrote a page still in use;
 *  - each tree's entry count against its record.
 * The older meta's trees share most pages with the newest one's: a page already checked there
 * at the same height is not read again (only its entry count then goes unchecked).
 *
 * Not checked: that keys fall between their parent's separators (a misplaced key makes a lookup
 * miss it, LMDB does not crash on it), free pages against the trees left out (`skip`) and
 * against the pages below those the older meta shares with the newest, a page listed free
 * twice (LMDB drops the duplicate), and LMDB's third, "flushed" meta (lmdb-js's
 * overlappingSync: used only when opening after a reboot).
 *
 * Cost: every page the trees reach is read once, in page order, in windows of WINDOW_BYTES;
 * memory is those windows plus two bytes per page of the file and one number per page of the
 * widest tree level. Another process may commit while the walk reads: after its second commit
 * it may reuse pages of the snapshots walked, so damage is a verdict only when neither meta
 * changed during the walk (judgeIndexFile, index-file-check.ts).
 */
import { readSync } from 'node:fs';
import { type IndexLayout, judgeIndexFile, type Meta, readIndexLayout, treeRecord, type TreeRecord } from './index-file-check.js';
import {
  DB_BYTES, F_BIGDATA, F_DUPDATA, F_SUBDATA, fail, FREE_DBI, MAIN_DBI, MAX_DEPTH, MDB_INTEGERKEY, NODE,
  NODE_HEADER_BYTES, OVPAGE, OVPAGE_BYTES, P_BRANCH, P_INVALID, P_LEAF, P_OVERFLOW, PAGE, PAGE_HEADER_BYTES, PAGE_KINDS,
} from './lmdb-layout.js';

/**
 * Bytes read at once: a run of wanted pages up to this long is one read. Small, and one window
 * for both metas' walks, not zero-filled: each fresh page of memory is a page fault (16-22 us on
 * the bench VM), and two 1 MiB zeroed windows cost ~20 ms of a 1 MB index's ~25 ms walk.
 */
const WINDOW_BYTES = 256 << 10;
/** Roles of a page in a walk (besides a tree page's height above the leaves, 1..MAX_DEPTH). */
const OVERFLOW_HEAD = 100;
const OVERFLOW_BODY = 101;

/**
 * Null when every page the index file's trees reach is sound (or the file does not exist);
 * otherwise why not, in a few words. The open-time check comes first (checkIndexFile). The
 * named databases in `skip` are left out (a command that never reads them).
 */
export function walkIndexFile(file: string, skip: readonly string[] = []): string | null {
  return judgeIndexFile(file, (fd) => walkLayout(fd, readIndexLayout(fd), skip));
}

/** The newest meta's trees in full, then the older one's pages that the newest does not share. */
function walkLayout(fd: number, layout: IndexLayout, skip: readonly string[]): void {
  const order = layout.metas[0].txnid >= layout.metas[1].txnid ? [0, 1] : [1, 0]; // LMDB's pick on a tie: meta 0
  const window = new PageWindow(fd, layout.pageSize);
  const newest = new SnapshotWalk(window, layout, order[0], null).run(skip);
  window.forget();
  new SnapshotWalk(window, layout, order[1], newest).run(skip);
}

interface Tree { name: string; record: TreeRecord; kind: 'free' | 'main' | 'named'; dbName?: string }
interface Overflow { pgno: number; pages: number; size: number; free: boolean; where: string }
/** Pages a free-tree record lists: `pages` from `first`. */
interface FreeRun { first: number; pages: number; where: string }

/** One meta's snapshot: its free tree, main tree, named databases and overflow runs. */
class SnapshotWalk {
  private readonly meta: Meta;
  private readonly lastPage: number;
  /** The meta's transaction id: no page of its snapshot carries a newer one. */
  private readonly txnid: number;
  private readonly ps: number;
  /** What each page is in this snapshot (0: not reached yet). */
  private readonly roles: Uint8Array;
  private readonly named: Tree[] = [];
  private readonly overflows: Overflow[] = [];
  private readonly freeRuns: FreeRun[] = [];

  /** `earlier`: the roles of the pages the newest snapshot's walk checked (null: this is it). */
  constructor(private readonly window: PageWindow, layout: IndexLayout, private readonly index: number, private readonly earlier: Uint8Array | null) {
    this.meta = layout.metas[index];
    this.lastPage = Number(this.meta.lastPage);
    this.txnid = Number(this.meta.txnid);
    this.ps = layout.pageSize;
    this.roles = new Uint8Array(this.lastPage + 1);
  }

  run(skip: readonly string[]): Uint8Array {
    this.tree({ name: 'the free tree', record: this.meta.trees[FREE_DBI], kind: 'free' });
    this.tree({ name: 'the main tree', record: this.meta.trees[MAIN_DBI], kind: 'main' });
    for (const t of this.named) if (!skip.includes(t.dbName!)) this.tree(t);
    this.overflowRuns();
    this.freePagesUnused();
    return this.roles;
  }

  /** No page a free list names is one the snapshot's walked trees reach (LMDB would write over it). */
  private freePagesUnused(): void {
    for (const { first, pages, where } of this.freeRuns) {
      for (let p = first; p < first + pages; p++) {
        if (this.roles[p] !== 0) fail(`${where}: free page ${p} is in use in meta ${this.index}'s trees`);
      }
    }
  }

  /** Level by level from the root, each level in page order. */
  private tree(t: Tree): void {
    const { root, depth, entries, flags } = t.record;
    const what = `${t.name} of meta ${this.index}`;
    if (root === P_INVALID) {
      if (depth !== 0 || entries !== 0n) fail(`${what} is empty but has depth ${depth} and ${entries} entries`);
      return;
    }
    if (depth < 1 || depth > MAX_DEPTH) fail(`${what} has an impossible depth ${depth}`);
    // Its databases have integer keys or none of LMDB's flags. Others, duplicate or reversed
    // keys, or garbage LMDB keeps (MDB_VALID, 0x8000: then every read failed with
    // MDB_INCOMPATIBLE, store check too, and nothing rebuilt the index), are refused.
    if (t.kind === 'named' && flags & ~MDB_INTEGERKEY) fail(`${what} has flags 0x${flags.toString(16)}, which the index never uses (only integer keys, 0x8)`);
    const compare = t.kind === 'free' || flags & MDB_INTEGERKEY ? compareIntegers : compareBytes;
    let complete = this.claim(Number(root), depth, what);
    let level = complete ? [Number(root)] : [];
    let counted = 0;
    const { buf: b, u16: w } = this.window;
    for (let height = depth; level.length > 0; height--) {
      level.sort((x, y) => x - y);
      const next: number[] = [];
      for (let i = 0; i < level.length; i++) {
        const p = level[i];
        const base = this.window.page(level, i);
        const n = checkHeader(this.window, base, p, height > 1 ? P_BRANCH : P_LEAF, this.txnid, what);
        if (height > 1 && n < (t.kind === 'free' ? 1 : 2)) fail(`page ${p} of ${what} is a branch with ${n} keys`);
        // Nodes: inside the page above its free space, packed from there to the end, keys in order.
        const upper = base + PAGE_HEADER_BYTES + w[(base + PAGE.upper) >>> 1], end = base + this.ps;
        let used = 0, prev = -1, prevSize = 0;
        for (let k = 0; k < n; k++) {
          const at = base + PAGE_HEADER_BYTES + w[((base + PAGE_HEADER_BYTES) >>> 1) + k];
          if (at < upper || at % 2 !== 0 || at + NODE_HEADER_BYTES > end) fail(`page ${p} of ${what}: node ${k} lies outside the page's nodes`);
          const keySize = w[(at + NODE.keySize) >>> 1], nodeFlags = w[(at + NODE.flags) >>> 1];
          const size = NODE_HEADER_BYTES + keySize + (height > 1 ? 0 : nodeFlags & F_BIGDATA ? OVPAGE_BYTES : w[(at + NODE.lo) >>> 1] + w[(at + NODE.hi) >>> 1] * 0x10000);
          if (at + size > end) fail(`page ${p} of ${what}: node ${k} (${size} bytes) runs past the page`);
          used += size + (size & 1);
          if ((height > 1 ? k > 1 : k > 0) && compare(b, prev, prevSize, at + NODE_HEADER_BYTES, keySize) >= 0) fail(`page ${p} of ${what}: key ${k} is out of order`);
          prev = at + NODE_HEADER_BYTES; prevSize = keySize;
          if (height > 1) {
            const child = w[(at + NODE.lo) >>> 1] + w[(at + NODE.hi) >>> 1] * 0x10000 + nodeFlags * 0x1_0000_0000;
            if (this.claim(child, height - 1, what)) next.push(child); else complete = false;
          } else if (nodeFlags !== 0 || t.kind === 'free') {
            this.leafNode(b, at, keySize, t, `page ${p} of ${what}`);
          }
        }
        if (used !== end - upper) fail(`page ${p} of ${what}: its nodes take ${used} bytes, its bounds leave ${end - upper}`);
        if (height === 1) counted += n;
      }
      level = next;
    }
    if (complete && BigInt(counted) !== entries) fail(`${what} holds ${counted} entries, its record says ${entries}`);
  }

  /**
   * Takes page `p` for a tree page `height` levels above the leaves; false when the newest
   * snapshot's walk checked it already at that height (the same page, so the same subtree).
   */
  private claim(p: number, height: number, what: string): boolean {
    if (!(p >= 2 && p <= this.lastPage)) fail(`${what} names page ${p}, outside pages 2..${this.lastPage}`);
    if (this.roles[p] !== 0) fail(`${what} reaches page ${p} a second time`);
    this.roles[p] = height;
    const before = this.earlier?.[p] ?? 0;
    if (before !== 0 && before !== height) fail(`${what} has page ${p} at height ${height}, the newer meta at ${before === OVERFLOW_HEAD || before === OVERFLOW_BODY ? 'an overflow page' : `height ${before}`}`);
    return before === 0;
  }

  /** A leaf node's data: inside the page, an overflow run, or a named database's record. */
  private leafNode(page: Buffer, at: number, keySize: number, t: Tree, where: string): void { // `at`: the node's offset in `page`
    const flags = page.readUInt16LE(at + NODE.flags);
    const size = page.readUInt16LE(at + NODE.lo) + page.readUInt16LE(at + NODE.hi) * 0x10000;
    const data = at + NODE_HEADER_BYTES + keySize;
    if (flags & F_DUPDATA) fail(`${where} has duplicate data, which the index never uses`);
    if (t.kind === 'free' && keySize !== 8) fail(`${where}: a free-page record has a key of ${keySize} bytes`);
    if (flags & F_SUBDATA) {
      if (t.kind !== 'main' || flags & F_BIGDATA || size !== DB_BYTES) fail(`${where} has a damaged database record`);
      const name = page.toString('latin1', at + NODE_HEADER_BYTES, data).replace(/\0+$/, ''); // lmdb-js ends names with a NUL
      this.named.push({ name: `database '${name}'`, record: treeRecord(page, data), kind: 'named', dbName: name });
    } else if (flags & F_BIGDATA) {
      const pgno = Number(page.readBigUInt64LE(data + OVPAGE.pgno)), pages = Number(page.readBigUInt64LE(data + OVPAGE.pages));
      if (!(pgno >= 2 && pages >= 1 && pgno + pages - 1 <= this.lastPage)) fail(`${where} names overflow pages ${pgno}+${pages}, outside pages 2..${this.lastPage}`);
      if (size > pages * this.ps - PAGE_HEADER_BYTES) fail(`${where} has a value of ${size} bytes in ${pages} overflow pages`);
      this.overflows.push({ pgno, pages, size, free: t.kind === 'free', where });
    } else if (t.kind === 'free') {
      this.pageList(page, data, size, where);
    }
  }

  /** The overflow runs the leaves name, in page order: each run's first page. */
  private overflowRuns(): void {
    this.overflows.sort((a, b) => a.pgno - b.pgno);
    const firsts = this.overflows.map((o) => o.pgno);
    for (const [i, o] of this.overflows.entries()) {
      for (let p = o.pgno; p < o.pgno + o.pages; p++) {
        if (this.roles[p] !== 0) fail(`${o.where}: overflow page ${p} is reached a second time`);
        this.roles[p] = p === o.pgno ? OVERFLOW_HEAD : OVERFLOW_BODY;
      }
      if (this.earlier?.[o.pgno] === OVERFLOW_HEAD && this.earlier[o.pgno + o.pages - 1] !== 0 && this.earlier[o.pgno + o.pages] !== OVERFLOW_BODY) continue;
      const base = this.window.page(firsts, i);
      if (checkHeader(this.window, base, o.pgno, P_OVERFLOW, this.txnid, o.where) !== o.pages) {
        fail(`${o.where}: overflow page ${o.pgno} does not start a run of ${o.pages} pages`);
      }
      if (o.free) this.pageList(this.window.read(o.pgno * this.ps + PAGE_HEADER_BYTES, o.size), 0, o.size, o.where);
    }
  }

  /**
   * A free-page record (lmdb-js's IDL): a count, then at least that many entries (LMDB reads
   * them all), each a page number, minus a run's length followed by the run's first page, or 0
   * (a slot LMDB emptied; also a run's first page that LMDB skips). The runs are kept for
   * freePagesUnused.
   */
  private pageList(b: Buffer, at: number, size: number, where: string): void {
    const entry = (i: number): number => b.readInt32LE(at + 8 * i + 4) * 0x1_0000_0000 + b.readUInt32LE(at + 8 * i);
    const count = size < 8 ? -1 : entry(0);
    if (count < 0 || (count + 1) * 8 > size) fail(`${where}: a free-page list does not fit its ${size} bytes`);
    for (let i = 1; i <= count; i++) {
      let first = entry(i), pages = 1;
      if (first < 0) {
        if (i === count) fail(`${where}: a free-page list ends inside a run`);
        pages = -first;
        first = entry(++i);
      }
      if (first === 0) continue;
      if (!(first >= 2 && first + pages - 1 <= this.lastPage)) fail(`${where}: a free-page list names pages ${first}+${pages}, outside pages 2..${this.lastPage}`);
      this.freeRuns.push({ first, pages, where });
    }
  }
}

/**
 * The header of page `p` as `kind`, in the snapshot of transaction `txnid`: its number, its
 * transaction id, its type, and for a branch or leaf its bounds. Returns the number of keys, or
 * of pages for an overflow page.
 */
function checkHeader({ buf: b, u16: w, u32, ps }: PageWindow, base: number, p: number, kind: number, txnid: number, what: string): number {
  const where = (): string => kind === P_OVERFLOW ? `overflow page ${p} (from ${what})` : `page ${p} of ${what}`;
  if (u32[base >>> 2] + u32[(base >>> 2) + 1] * 0x1_0000_0000 !== p) fail(`${where()} carries page number ${b.readBigUInt64LE(base + PAGE.pgno)}`);
  // Above 2^53 the sum rounds and could hide an id a few past a meta's that large: no index
  // makes 2^53 commits, and garbage there is far larger.
  if (u32[(base + PAGE.txnid) >>> 2] + u32[((base + PAGE.txnid) >>> 2) + 1] * 0x1_0000_0000 > txnid) {
    fail(`${where()} carries transaction ${b.readBigUInt64LE(base + PAGE.txnid)}, newer than its meta's ${txnid}`);
  }
  const flags = w[(base + PAGE.flags) >>> 1];
  if ((flags & PAGE_KINDS) !== kind) fail(`${where()} is not ${kind === P_BRANCH ? 'a branch' : kind === P_LEAF ? 'a leaf' : 'an overflow'} page (flags 0x${flags.toString(16)})`);
  if (flags !== kind) fail(`${where()} carries flags 0x${flags.toString(16)}: LMDB's marks for a page being written, which no written page keeps`);
  if (kind === P_OVERFLOW) return u32[(base + PAGE.overflowPages) >>> 2];
  const lower = w[(base + PAGE.lower) >>> 1], upper = w[(base + PAGE.upper) >>> 1];
  if (lower % 2 !== 0 || lower > upper || upper > ps - PAGE_HEADER_BYTES) fail(`${where()} has impossible bounds ${lower}..${upper}`);
  if (lower === 0) fail(`${where()} is empty`);
  return lower / 2;
}

/** Keys as bytes, a shorter prefix first (LMDB's default, and lmdb-js's compareFast on its keys). */
function compareBytes(b: Buffer, a: number, aSize: number, c: number, cSize: number): number {
  for (let i = 0, n = Math.min(aSize, cSize); i < n; i++) if (b[a + i] !== b[c + i]) return b[a + i] - b[c + i];
  return aSize - cSize;
}

/** MDB_INTEGERKEY (and the free tree's transaction ids): unsigned little-endian, all of one size. */
function compareIntegers(b: Buffer, a: number, aSize: number, c: number, cSize: number): number {
  if (aSize !== cSize) return 1;
  for (let i = aSize - 1; i >= 0; i--) if (b[a + i] !== b[c + i]) return b[a + i] - b[c + i];
  return 0;
}

/**
 * Pages read a window at a time: a sorted list of wanted pages is served in runs. A page is
 * `ps` bytes of `buf` from the offset `page` returns, also readable as words (`u16`, `u32`).
 */
class PageWindow {
  readonly buf: Buffer;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  private first = 0;
  private count = 0;

  constructor(private readonly fd: number, readonly ps: number) {
    this.buf = Buffer.allocUnsafe(Math.max(ps, WINDOW_BYTES));
    // Host order: little-endian, as every platform lmdb-js ships for (lmdb-layout.ts).
    this.u16 = new Uint16Array(this.buf.buffer, this.buf.byteOffset, this.buf.length / 2);
    this.u32 = new Uint32Array(this.buf.buffer, this.buf.byteOffset, this.buf.length / 4);
  }

  /** `length` bytes from `pos` in a buffer of their own (a value longer than the window). */
  read(pos: number, length: number): Buffer {
    const b = Buffer.allocUnsafe(length);
    if (readSync(this.fd, b, 0, length, pos) < length) fail(`the file ends before byte ${pos + length} (truncated)`);
    return b;
  }

  /** Holds no page any more (the next walk reads its own). */
  forget(): void {
    this.count = 0;
  }

  /** Page `pages[i]`; on a miss, one read from it through the last of `pages` (sorted) the window holds. */
  page(pages: readonly number[], i: number): number {
    const p = pages[i];
    if (p < this.first || p >= this.first + this.count) {
      const fits = this.buf.length / this.ps;
      let j = i;
      while (j + 1 < pages.length && pages[j + 1] < p + fits) j++;
      const got = readSync(this.fd, this.buf, 0, (pages[j] - p + 1) * this.ps, p * this.ps);
      if (got < this.ps) fail(`the file ends before page ${p} (truncated)`);
      this.first = p;
      this.count = Math.floor(got / this.ps);
    }
    return (p - this.first) * this.ps;
  }
}
