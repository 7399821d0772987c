/**
 * The store's index: an LMDB environment mapping chunk id → pack location, pack numbers →
 * pack ids, and the snapshot catalogue. It is a cache: every byte of it can be rebuilt from
 * the packs' trailers and the snapshot records (index-rebuild.ts), so losing it loses nothing.
 * This is the only module that knows LMDB.
 *
 * Chunk value layout (18 bytes, little-endian): packNo u32 | offset u32 | storedLength u32 |
 * rawLength u32 | codec u8 | type u8.   (formats/store.md §Index)
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import { freeSpace, isNoSpace, noSpaceError } from '../fs/free-space.js';
import type { PackEntry } from '../store/pack-codec.js';
import { lmdb } from './load-lmdb.js';

export const INDEX_VERSION = 1;
const CHUNK_VALUE_BYTES = 18;
/** Listing memos per index transaction (see putListingMemo). */
const MEMO_BATCH = 1024;
/** LMDB's page size: what the free-space estimate of a transaction counts in (see requireSpace). */
const PAGE_BYTES = 4096;
/** Pages a transaction may add besides one per key: branch pages of each database, meta pages. */
const TXN_PAGES = 32;

export interface ChunkLocation {
  packNo: number;
  packId: string;
  offset: number;
  storedLength: number;
  rawLength: number;
  codec: number;
  type: number;
}

export interface PackInfo { id: string; size: number; count: number }

export interface IndexTotals { chunks: number; rawBytes: number; storedBytes: number; packs: number; packBytes: number }

const EMPTY_TOTALS: IndexTotals = { chunks: 0, rawBytes: 0, storedBytes: 0, packs: 0, packBytes: 0 };

export class StoreIndex {
  private readonly chunks: Database<Buffer, Buffer>;
  private readonly packs: Database<PackInfo, number>;
  private readonly packNos: Database<number, string>;
  private readonly snapshots: Database<unknown, string>;
  private readonly meta: Database<unknown, string>;
  private readonly listingMemos: Database<Buffer, Buffer>;
  private readonly packIdCache = new Map<number, string>();

  private constructor(private readonly env: RootDatabase, private readonly dir: string) {
    this.chunks = env.openDB<Buffer, Buffer>({ name: 'chunks', keyEncoding: 'binary', encoding: 'binary' });
    this.packs = env.openDB<PackInfo, number>({ name: 'packs', keyEncoding: 'uint32' });
    this.packNos = env.openDB<number, string>({ name: 'pack-ids' });
    this.snapshots = env.openDB<unknown, string>({ name: 'snapshots' });
    this.meta = env.openDB<unknown, string>({ name: 'meta' });
    this.listingMemos = env.openDB<Buffer, Buffer>({ name: 'listing-memos', keyEncoding: 'binary', encoding: 'binary' });
  }

  static open(dir: string): StoreIndex {
    mkdirSync(dir, { recursive: true });
    const env = lmdb().open({ path: join(dir, 'index.mdb'), maxDbs: 8 });
    return new StoreIndex(env, dir);
  }

  /**
   * The free space a write transaction adding `keys` keys may need: LMDB copies every page it
   * changes, and ids are random, so at worst one new leaf page per key, plus TXN_PAGES.
   */
  private static spaceFor(keys: number): number {
    return (keys + TXN_PAGES) * PAGE_BYTES;
  }

  /**
   * Throws NO_SPACE (naming the store) unless the file system has the room a transaction adding
   * `keys` keys may need. The commit is not even tried: an LMDB page write that finds the disk
   * full makes lmdb print to stderr itself (a "Write error" line from C, a stack trace from its
   * JavaScript) before the commit fails (issue 18, D6). An estimate (f_bavail, and a writer
   * elsewhere may take the space first); a commit that still fails is converted by `committed`.
   */
  requireSpace(keys: number): void {
    const needed = StoreIndex.spaceFor(keys);
    if (freeSpace(this.dir).available < needed) throw noSpaceError(dirname(this.dir), needed);
  }

  /**
   * A write's promise, with a failure on a full file system turned into NO_SPACE. lmdb-js
   * rejects a failed commit with "Commit failed", the cause in `commitError`, a promise of its
   * own that rejects too: handled here, never left unhandled (that ended the process with a
   * stack trace). A failure with room to spare passes as it is.
   */
  private committed<T>(write: Promise<T>, keys: number): Promise<T> {
    return write.catch((err: unknown) => {
      const cause = (err as { commitError?: Promise<unknown> } | null)?.commitError;
      if (cause && typeof cause.catch === 'function') cause.catch(() => {});
      let full = isNoSpace(err);
      try { full ||= freeSpace(this.dir).available < StoreIndex.spaceFor(keys); } catch { /* as it was */ }
      throw full ? noSpaceError(dirname(this.dir), StoreIndex.spaceFor(keys), err) : err;
    });
  }

  /** True when the index was built by this version and finished building. */
  isUsable(): boolean {
    return this.meta.get('version') === INDEX_VERSION && this.meta.get('complete') === true;
  }

  hasChunk(id: Uint8Array): boolean {
    return this.chunks.doesExist(id as Buffer);
  }

  getChunk(id: Uint8Array): ChunkLocation | undefined {
    const v = this.chunks.getBinaryFast(id as Buffer);
    if (!v) return undefined;
    // getBinaryFast returns a shared buffer that the next read overwrites: decode it first.
    const loc = {
      packNo: v.readUInt32LE(0), packId: '', offset: v.readUInt32LE(4), storedLength: v.readUInt32LE(8),
      rawLength: v.readUInt32LE(12), codec: v[16], type: v[17],
    };
    loc.packId = this.packId(loc.packNo);
    return loc;
  }

  packId(packNo: number): string {
    let id = this.packIdCache.get(packNo);
    if (id === undefined) {
      const info = this.packs.get(packNo);
      if (!info) throw new Error(`index names pack #${packNo}, which it does not list`);
      id = info.id;
      this.packIdCache.set(packNo, id);
    }
    return id;
  }

  hasPack(packId: string): boolean {
    return this.packNos.doesExist(packId);
  }

  /**
   * Records a sealed pack and its chunks in one transaction. A chunk already indexed (written
   * concurrently into another pack) keeps its first location; the duplicate is garbage for gc.
   */
  async addPack(packId: string, size: number, entries: PackEntry[]): Promise<void> {
    this.requireSpace(entries.length);
    await this.committed(this.env.transaction(() => {
      if (this.packNos.doesExist(packId)) return;
      const totals = this.totals();
      this.addPackInTxn(packId, size, entries, totals);
      this.meta.put('totals', totals);
    }), entries.length);
  }

  private addPackInTxn(packId: string, size: number, entries: PackEntry[], totals: IndexTotals): void {
    const packNo = ((this.meta.get('nextPackNo') as number | undefined) ?? 1);
    this.meta.put('nextPackNo', packNo + 1);
    this.packs.put(packNo, { id: packId, size, count: entries.length });
    this.packNos.put(packId, packNo);
    for (const e of entries) {
      if (this.chunks.doesExist(e.id)) continue;
      this.putChunk(e, packNo);
      totals.chunks++;
      totals.rawBytes += e.rawLength;
      totals.storedBytes += e.storedLength;
    }
    totals.packs++;
    totals.packBytes += size;
  }

  private putChunk(e: PackEntry, packNo: number): void {
    const v = Buffer.allocUnsafe(CHUNK_VALUE_BYTES);
    v.writeUInt32LE(packNo, 0);
    v.writeUInt32LE(e.offset, 4);
    v.writeUInt32LE(e.storedLength, 8);
    v.writeUInt32LE(e.rawLength, 12);
    v[16] = e.codec;
    v[17] = e.type;
    this.chunks.put(e.id, v);
  }

  /**
   * Gc's one index step (formats/store.md §Garbage collection): in one transaction, drop the
   * `removed` packs with every chunk entry that points into them, then add the `added` packs
   * (repacked copies of live chunks). Readers see either the old or the new locations, never a
   * mix; the pack files on disk are removed only after this commit.
   */
  async replacePacks(added: Array<{ packId: string; size: number; entries: PackEntry[] }>, removed: Array<{ packNo: number; entries: PackEntry[] }>): Promise<void> {
    // No space check first: this is gc, which frees space, and LMDB may reuse freed pages.
    const keys = added.reduce((n, a) => n + a.entries.length, 0) + removed.reduce((n, r) => n + r.entries.length, 0);
    await this.committed(this.env.transaction(() => {
      const totals = this.totals();
      for (const r of removed) {
        const info = this.packs.get(r.packNo);
        if (!info) continue;
        for (const e of r.entries) {
          const v = this.chunks.get(e.id);
          if (!v || v.readUInt32LE(0) !== r.packNo) continue;
          this.chunks.remove(e.id);
          this.listingMemos.remove(e.id);
          totals.chunks--;
          totals.rawBytes -= v.readUInt32LE(12);
          totals.storedBytes -= v.readUInt32LE(8);
        }
        this.packs.remove(r.packNo);
        this.packNos.remove(info.id);
        this.packIdCache.delete(r.packNo);
        totals.packs--;
        totals.packBytes -= info.size;
      }
      for (const a of added) {
        const existing = this.packNos.get(a.packId);
        if (existing === undefined) { this.addPackInTxn(a.packId, a.size, a.entries, totals); continue; }
        // The same pack id means the same trailer, so the same records at the same offsets: a
        // repack that a killed gc already wrote (and a reconcile indexed, its chunks then still
        // pointing at the old packs). Point the chunks that lost their entry at it.
        for (const e of a.entries) if (!this.chunks.doesExist(e.id)) { this.putChunk(e, existing); totals.chunks++; totals.rawBytes += e.rawLength; totals.storedBytes += e.storedLength; }
      }
      this.meta.put('totals', totals);
    }), keys);
  }

  /** The listing memo of a tree (lib/snapshot/listing-memo.ts), if one was recorded. */
  getListingMemo(treeId: Uint8Array): Buffer | undefined {
    return this.listingMemos.getBinary(treeId as Buffer) ?? undefined;
  }

  /**
   * Records a listing memo (the buffers are kept, not copied, until written). Memos are a
   * cache: a lost one costs the next snapshot one directory's listing, so they need no commit
   * of their own. Put one by one as directories finished, lmdb-js committed them in ~850
   * transactions, each with its fdatasyncs, during a first snapshot of the bench set; they go
   * MEMO_BATCH to a transaction, and the rest with `flushed` or `close`.
   */
  putListingMemo(treeId: Uint8Array, memo: Buffer): void {
    this.memoBatch.push([treeId as Buffer, memo]);
    if (this.memoBatch.length >= MEMO_BATCH) this.writeMemos();
  }

  private memoBatch: Array<[Buffer, Buffer]> = [];

  private writeMemos(): void {
    const batch = this.memoBatch;
    this.memoBatch = [];
    if (batch.length === 0) return;
    // Memos are a cache: on a nearly full file system they are dropped, not written (see
    // requireSpace: a page write that fails makes lmdb print).
    try { this.requireSpace(batch.length); } catch { return; }
    // Not awaited, and a failure only loses cache entries: nothing waits on a memo.
    this.committed(this.env.transaction(() => { for (const [id, memo] of batch) void this.listingMemos.put(id, memo); }), batch.length).catch(() => {});
  }

  packNo(packId: string): number | undefined {
    return this.packNos.get(packId);
  }

  /** Number of chunk entries (counted by LMDB, not from the totals). */
  chunkCount(): number {
    return this.chunks.getCount();
  }

  /** Every chunk entry: id and pack number (for check's index-against-packs pass). */
  *listChunks(): Iterable<{ id: Buffer; packNo: number; offset: number; storedLength: number }> {
    for (const { key, value } of this.chunks.getRange()) {
      yield { id: Buffer.from(key), packNo: value.readUInt32LE(0), offset: value.readUInt32LE(4), storedLength: value.readUInt32LE(8) };
    }
  }

  totals(): IndexTotals {
    return { ...EMPTY_TOTALS, ...(this.meta.get('totals') as IndexTotals | undefined) };
  }

  async putSnapshot(id: string, record: unknown): Promise<boolean> {
    this.requireSpace(1);
    return this.committed(this.snapshots.put(id, record), 1);
  }

  removeSnapshot(id: string): Promise<boolean> {
    return this.committed(this.snapshots.remove(id), 1);
  }

  hasSnapshot(id: string): boolean {
    return this.snapshots.doesExist(id);
  }

  /** The catalogue's ids without decoding the records (what reconciling on every open needs). */
  listSnapshotIds(): Iterable<string> {
    return this.snapshots.getKeys();
  }

  *listSnapshots(): Iterable<{ id: string; record: unknown }> {
    for (const { key, value } of this.snapshots.getRange()) yield { id: key, record: value };
  }

  *listPacks(): Iterable<{ packNo: number; info: PackInfo }> {
    for (const { key, value } of this.packs.getRange()) yield { packNo: key, info: value };
  }

  async markComplete(): Promise<void> {
    this.requireSpace(2);
    await this.committed(this.meta.put('version', INDEX_VERSION), 2);
    await this.committed(this.meta.put('complete', true), 2);
  }

  /** Resolves when every write so far is durable. */
  async flushed(): Promise<void> {
    this.writeMemos();
    await this.committed(Promise.resolve(this.env.flushed), 0);
  }

  async close(): Promise<void> {
    this.writeMemos();
    await this.env.close();
  }
}
