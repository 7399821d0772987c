/**
 * `snap stats`: what each snapshot holds and what it costs. For every snapshot: the chunks it
 * references (file data, trees and tree parts, each counted once per snapshot) with their raw
 * and stored bytes, and the chunks no other snapshot references: the bytes deleting it (then
 * gc) would free. In total: logical bytes against stored bytes, chunks no snapshot references
 * (what gc would free now), and a size histogram of the referenced data chunks.
 *
 * How: every distinct chunk gets a number (ChunkTable) and a few u32 columns: raw and stored
 * length (from the index), kind, owner (the one snapshot referencing it, or SHARED) and the last
 * snapshot that visited it. Each snapshot is walked from its root tree; a chunk already visited
 * by this snapshot is skipped with everything beneath it, so a subtree repeated inside one
 * snapshot is walked once. The child list of each decoded tree is memoised as chunk numbers
 * (4 bytes per reference, up to MEMO_MAX_REFS), so a tree shared by many snapshots is read and
 * decoded once, not once per snapshot. No file data is read.
 *
 * Limit: a chunk's kind (data or tree) is taken from where it is first met. A file whose bytes
 * are exactly some tree's encoding shares that tree's id; if the file is met first, the tree is
 * not descended. That needs a file holding a raw fxcp tree chunk, and is not handled.
 *
 * Memory: about 70 bytes per distinct chunk plus 4 bytes per memoised tree reference; never a
 * file list. Stored bytes are the chunks' compressed lengths in packs, without the 44-byte
 * record headers and pack trailers (`store stats` shows pack bytes on disk).
 */
import { abortPoint } from '../errors/index.js';
import type { Warn } from '../errors/index.js';
import { type ChunkTable, type Store, type StoreMaintenance, storeMaintenance, type U32Column } from '../store/index.js';
import { listSnapshots, shortId } from './snapshot-catalogue.js';
import { loadTreeWithParts } from './tree-store.js';

export interface UsageCounts {
  /** Distinct chunks (data, tree and tree-part chunks). */
  chunks: number;
  rawBytes: number;
  storedBytes: number;
}

export interface SnapshotUsage {
  id: string;
  time: string;
  source: string;
  tags: string[];
  /** From the snapshot record: regular files and their apparent size (holes included). */
  files: number;
  apparentBytes: number;
  /** Chunks this snapshot references, each once. */
  referenced: UsageCounts;
  /** Chunks only this snapshot references: what deleting it (and a gc) would free. */
  unique: UsageCounts;
  /** 1 - referenced stored bytes / apparent bytes; null for an empty snapshot. */
  savings: number | null;
}

export interface HistogramBucket {
  /** Raw chunk sizes in [from, to). */
  from: number;
  to: number;
  chunks: number;
  bytes: number;
}

export interface StoreUsage {
  snapshots: SnapshotUsage[];
  total: {
    snapshots: number;
    apparentBytes: number;
    /** Chunks referenced by at least one snapshot. */
    referenced: UsageCounts & { dataChunks: number; treeChunks: number };
    /** Chunks in the index that no snapshot references (gc would free them). */
    unreferenced: UsageCounts;
    /** Chunks some tree names that the index does not have (each was warned about). */
    missingChunks: number;
    savings: number | null;
  };
  /** Power-of-two buckets of the raw sizes of referenced data chunks (trees excluded). */
  histogram: HistogramBucket[];
}

export interface StatsOptions {
  onWarn: Warn;
  signal?: AbortSignal;
}

const KIND_DATA = 1, KIND_TREE = 2, KIND_PART = 3;
const MISSING = 0x8000_0000;
const SHARED = 0xffff_ffff;
/** Memoised tree references kept at most (4 bytes each: 256 MiB). Beyond it trees are re-read. */
const MEMO_MAX_REFS = 64 * 1024 * 1024;

export async function snapshotStats(store: Store, opts: StatsOptions): Promise<StoreUsage> {
  return new UsageCounter(store, opts, await storeMaintenance()).run();
}

class UsageCounter {
  private readonly table: ChunkTable;
  private readonly raw: U32Column;
  private readonly stored: U32Column;
  /** Kind in the low bits, MISSING flag in the top bit. */
  private readonly kind: U32Column;
  /** 0 = not yet referenced, s + 1 = only snapshot s, SHARED. */
  private readonly owner: U32Column;
  private readonly lastSeen: U32Column;
  private readonly memo = new Map<number, Uint32Array>();
  private memoRefs = 0;
  private missing = 0;
  /** Short id of the snapshot being walked (for warnings). */
  private current = '';

  constructor(private readonly store: Store, private readonly opts: StatsOptions, { ChunkTable, U32Column }: StoreMaintenance) {
    // Sized for the chunks the index holds (nearly all are referenced), so nothing regrows.
    const expected = Math.min(store.index.totals().chunks + 16, 1 << 24);
    this.table = new ChunkTable(expected);
    [this.raw, this.stored, this.kind, this.owner, this.lastSeen] = Array.from({ length: 5 }, () => new U32Column(expected));
  }

  async run(): Promise<StoreUsage> {
    const snaps = listSnapshots(this.store);
    const refs: UsageCounts[] = [];
    for (let s = 0; s < snaps.length; s++) {
      this.current = shortId(snaps[s].id);
      refs.push(await this.walk(s, Buffer.from(snaps[s].record.tree, 'hex')));
    }
    const unique = snaps.map(() => ({ chunks: 0, rawBytes: 0, storedBytes: 0 }));
    const total = { chunks: 0, rawBytes: 0, storedBytes: 0, dataChunks: 0, treeChunks: 0 };
    const buckets = new Map<number, HistogramBucket>();
    for (let n = 0; n < this.table.size; n++) {
      const k = this.kind.get(n);
      if (k & MISSING) continue;
      const raw = this.raw.get(n), stored = this.stored.get(n);
      total.chunks++;
      total.rawBytes += raw;
      total.storedBytes += stored;
      if (k === KIND_DATA) {
        total.dataChunks++;
        const b = raw === 0 ? 0 : 31 - Math.clz32(raw);
        let bucket = buckets.get(b);
        if (!bucket) buckets.set(b, bucket = { from: b === 0 ? 0 : 2 ** b, to: 2 ** (b + 1), chunks: 0, bytes: 0 });
        bucket.chunks++;
        bucket.bytes += raw;
      } else total.treeChunks++;
      const o = this.owner.get(n);
      if (o !== SHARED && o !== 0) {
        const u = unique[o - 1];
        u.chunks++;
        u.rawBytes += raw;
        u.storedBytes += stored;
      }
    }
    const inIndex = this.store.index.totals();
    const apparent = snaps.reduce((sum, x) => sum + x.record.stats.bytes, 0);
    return {
      snapshots: snaps.map(({ id, record }, s) => ({
        id, time: record.time, source: record.source, tags: record.tags, files: record.stats.files,
        apparentBytes: record.stats.bytes, referenced: refs[s], unique: unique[s], savings: savings(refs[s].storedBytes, record.stats.bytes),
      })),
      total: {
        snapshots: snaps.length, apparentBytes: apparent,
        referenced: total,
        unreferenced: {
          chunks: Math.max(0, inIndex.chunks - total.chunks),
          rawBytes: Math.max(0, inIndex.rawBytes - total.rawBytes),
          storedBytes: Math.max(0, inIndex.storedBytes - total.storedBytes),
        },
        missingChunks: this.missing,
        savings: savings(total.storedBytes, apparent),
      },
      histogram: [...buckets.values()].sort((a, b) => a.from - b.from),
    };
  }

  /** Visits every chunk snapshot s references, each once; returns what they add up to. */
  private async walk(s: number, root: Buffer): Promise<UsageCounts> {
    const mark = s + 1;
    const sum: UsageCounts = { chunks: 0, rawBytes: 0, storedBytes: 0 };
    const stack = [this.number(root, KIND_TREE)];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (this.lastSeen.get(n) === mark) continue;
      this.lastSeen.set(n, mark);
      const k = this.kind.get(n);
      if (k & MISSING) continue;
      sum.chunks++;
      sum.rawBytes += this.raw.get(n);
      sum.storedBytes += this.stored.get(n);
      const o = this.owner.get(n);
      this.owner.set(n, o === 0 || o === mark ? mark : SHARED);
      if (k === KIND_TREE) for (const c of await this.children(n)) stack.push(c);
    }
    return sum;
  }

  /** The chunk numbers a tree refers to: its parts, its files' chunks, its subtrees. */
  private async children(n: number): Promise<Uint32Array> {
    const known = this.memo.get(n);
    if (known) return known;
    await abortPoint(this.opts.signal);
    const { entries, parts } = await loadTreeWithParts(this.store, this.table.id(n));
    const out: number[] = [];
    for (const p of parts) out.push(this.number(p.id, KIND_PART));
    for (const e of entries) {
      if (e.chunks) for (const c of e.chunks) out.push(this.number(c.id, KIND_DATA));
      if (e.subtree) out.push(this.number(e.subtree, KIND_TREE));
    }
    const list = Uint32Array.from(out);
    if (this.memoRefs + list.length <= MEMO_MAX_REFS) {
      this.memo.set(n, list);
      this.memoRefs += list.length;
    }
    return list;
  }

  /** A chunk's number, looking up its lengths in the index the first time it is seen. */
  private number(id: Uint8Array, kind: number): number {
    const { n, added } = this.table.insert(id);
    if (!added) return n;
    const loc = this.store.index.getChunk(id);
    if (!loc) {
      this.missing++;
      this.kind.set(n, kind | MISSING);
      const hex = Buffer.from(id).toString('hex');
      this.opts.onWarn('CHUNK_MISSING', `${this.store.root}: chunk ${hex} (${kind === KIND_DATA ? 'file data' : 'tree'}) ` +
        `is missing from the store; first referenced by snapshot ${this.current}`, { path: this.store.root, chunk: hex });
      return n;
    }
    this.kind.set(n, kind);
    this.raw.set(n, loc.rawLength);
    this.stored.set(n, loc.storedBytes);
    return n;
  }
}

function savings(stored: number, apparent: number): number | null {
  return apparent > 0 ? 1 - stored / apparent : null;
}
