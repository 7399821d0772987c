/**
 * The store's index: an LMDB environment mapping chunk id → pack location, pack numbers →
 * pack ids, and the snapshot catalogue. It is a cache: every byte of it can be rebuilt from
 * the packs' trailers and the snapshot records (Store.rebuildIndex), so losing it loses nothing.
 * This is the only module that opens the store's LMDB environment (index-file-check.ts and
 * index-file-walk.ts read its file first); its writes go through index-writes.ts.
 *
 * Chunk value layout (18 bytes, little-endian): packNo u32 | offset u32 | storedLength u32 |
 * rawLength u32 | codec u8 | type u8; a bundle member's value has 4 more bytes, u32 share: its
 * part of its bundle's stored bytes (formats/store.md §10).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import { FormatError, NotFoundError, ToolkitError } from '../errors/index.js';
import { CHUNK_BUNDLE, type PackEntry } from '../store/index.js';
import { CODEC_BUNDLED } from '../codec/codec-ids.js';
import { checkIndexFile } from './index-file-check.js';
import { walkIndexFile } from './index-file-walk.js';
import { rememberWalk, walkedBefore, type WalkedTrees, walkKey } from './walk-verdict.js';
import { indexSlack, writeCompactIndex } from './index-compaction.js';
import { IndexWrites } from './index-writes.js';
import { native } from '../native/load.js';
import { MapBudget } from './map-budget.js';
import type { DeferredChunks } from './deferred-chunks.js';
import { killPoint } from '../util/kill-point.js';
import { lmdb } from './load-lmdb.js';
import { FIRST_LOSS_EPOCH, freshLossEpoch } from './loss-epoch.js';

export const INDEX_VERSION = 1;
const CHUNK_VALUE_BYTES = 18;
/** A bundle member's value: CHUNK_VALUE_BYTES, then its share of its bundle's stored bytes. */
const MEMBER_VALUE_BYTES = 22;

/** What a chunk value says the chunk takes of its pack's payloads: its stored length, and a member's share of its bundle. */
function storedBytesOf(v: Buffer): number {
  return v.readUInt32LE(8) + (v.length >= MEMBER_VALUE_BYTES ? v.readUInt32LE(18) : 0);
}

/** A chunk's value (the layout in this module's head); a bundle member's carries its `share`. */
function chunkValue(packNo: number, offset: number, storedLength: number, rawLength: number, codec: number, type: number, share: number): Buffer {
  const member = codec === CODEC_BUNDLED;
  const v = Buffer.allocUnsafe(member ? MEMBER_VALUE_BYTES : CHUNK_VALUE_BYTES);
  if (member) v.writeUInt32LE(share, CHUNK_VALUE_BYTES);
  v.writeUInt32LE(packNo, 0);
  v.writeUInt32LE(offset, 4);
  v.writeUInt32LE(storedLength, 8);
  v.writeUInt32LE(rawLength, 12);
  v[16] = codec;
  v[17] = type;
  return v;
}

/**
 * Per entry of a pack's trailer, the share of its bundle's stored bytes a bundle member stands
 * for (0 for any other record): the bundle's stored length split in proportion to the members'
 * raw lengths, rounded down. Writers put a bundle's members right after it (formats/store.md §7.6).
 */
export function bundleShares(entries: readonly PackEntry[]): Uint32Array {
  const shares = new Uint32Array(entries.length);
  let bundle: PackEntry | null = null;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.type === CHUNK_BUNDLE) bundle = e;
    else if (e.codec !== CODEC_BUNDLED) bundle = null;
    else if (bundle && bundle.rawLength > 0) shares[i] = Math.floor(bundle.storedLength * e.rawLength / bundle.rawLength);
  }
  return shares;
}
/**
 * Chunks per transaction of addDeferredPacks: ids in order fill pages one after another, so
 * 16,384 of them dirty ~500 pages (2 MiB), and a commit's fsyncs are paid every 16,384 chunks.
 */
const MERGE_SLICE = 16_384;
/** The meta key naming the packs whose chunks addDeferredPacks has not finished putting. */
const DEFERRED_KEY = 'deferredPacks';
/** Chunks per index transaction when a pack is added (see addPack), until this index has added BULK_AFTER chunks by packs. */
const PACK_SLICE = 256;
/** Chunks per index transaction when a pack is added once this index has added BULK_AFTER (see addPack). */
const PACK_SLICE_BULK = 1024;
const BULK_AFTER = 131_072;
/** Listing memos per index transaction (see putListingMemo). */
const MEMO_BATCH = 1024;
/**
 * Checks (and walks) of the data file before a verdict of damage (INDEX_DAMAGED_RETRY_MS
 * apart): a file being created, or a page being reused by another process's commit, can look
 * damaged for a moment; real damage stays. Paid only when a check fails.
 */
const INDEX_CHECKS = 3;
const INDEX_DAMAGED_RETRY_MS = 50;
/**
 * LMDB's return codes for a file it cannot use
 * (node_modules/lmdb/dependencies/lmdb/libraries/liblmdb/lmdb.h): MDB_PAGE_NOTFOUND, MDB_CORRUPTED,
 * MDB_PANIC, MDB_VERSION_MISMATCH, MDB_INVALID, and the two its page code returns when a page
 * contradicts its tree (damage below what StoreIndex.open checks): MDB_PAGE_FULL, MDB_BAD_TXN.
 * Also MDB_INCOMPATIBLE: the index's databases are always opened with the flags this file
 * created them with, so a flag that disagrees was written by damage, not by us (the walk refuses
 * the known cases; this makes any it misses a rebuild, not an exit 2 that names no file).
 */
const LMDB_DAMAGE_CODES = new Set([-30797, -30796, -30795, -30794, -30793, -30786, -30784, -30782]);
/**
 * Chunk lookups between two looks at what the index's mappings hold (StoreIndex.looked,
 * map-budget.ts); a power of two (addChunksInTxn). A look reads /proc/self/status (~40 µs here).
 */
const RELEASE_LOOKUPS = 128;
/** A release over budget gives back this share of the file, the next part each time (map-budget.ts). */
const RELEASE_PARTS = 4;
/** Entries of a pass in key order between two releases (listChunks); a power of two. */
const LIST_RELEASE_ENTRIES = 16384;
/** A catalogue entry a read-only index dropped (see `overlay`). */
const REMOVED = Symbol('removed');

export interface IndexOpenOptions {
  /**
   * Open without writing anything (a store on read-only media): no directory or lock file is
   * made, and catalogue updates stay in memory (see `overlay`). Other writes are refused.
   */
  readOnly?: boolean;
  /** How much of the file to walk before LMDB maps it (IndexWalk); default 'bounded'. */
  walk?: IndexWalk;
  /** What lookups may leave mapped before they release it (map-budget.ts); default MAP_BUDGET_BYTES. */
  mapBudgetBytes?: number;
}

/**
 * How much of the data file StoreIndex.open walks, page by page, before LMDB maps it
 * (index-file-walk.ts), after the open-time check of its metas and roots (index-file-check.ts).
 * LMDB trusts every page it follows: garbage below the roots kills it with a signal, when it
 * writes through it (splits, freelist merges: snap create, import, prune, gc) and when it reads
 * a value or key whose size runs past the map (any command). So every command walks the trees
 * it reads first:
 *  - 'all': every tree, whatever the size (store check);
 *  - 'bounded': every tree when the file is at most WALK_LIMIT_BYTES, else the catalogue
 *    (writers, and readers of chunks: restore, export, stats, diff);
 *  - 'catalogue': all trees but CHUNK_TREES (small whatever the store: one entry per pack
 *    and per snapshot), for the commands that read nothing else (snap list, store stats);
 *  - 'none': a process that walked the file already (chunk workers; a file created here).
 */
export type IndexWalk = 'all' | 'bounded' | 'catalogue' | 'none';

/**
 * What StoreIndex.open did with the file before mapping it: the open-time check alone (walk
 * 'none'), that and a walk, or that and a walk's remembered verdict on the same bytes
 * (walk-verdict.ts: a walk that passed on a file no one has written since is not repeated,
 * except by 'all').
 */
export type IndexFileCheck = 'checked' | 'walked' | 'remembered';

/** The trees that grow with the data (one entry per chunk, per directory listing): the bulk of the file. */
const CHUNK_TREES = ['chunks', 'listing-memos'];

/**
 * The largest index that 'bounded' walks in full. The walk reads the whole file, about 1 ms per
 * MB cached and 2 from disk (docs/BENCHMARKS.md): up to 256 MiB (some 2.7 million chunks) that
 * stays under half a second, small against a command that writes to or restores from such a
 * store; above it those commands walk only the catalogue, and damage in the chunk trees is
 * found by `fxcp store check`, which always walks everything (docs/lifecycle.md, "A damaged
 * index").
 */
export const WALK_LIMIT_BYTES = 256 * 2 ** 20;

/**
 * The index cannot be used: its file fails the checks before mapping (index-file-check.ts,
 * index-file-walk.ts), LMDB reports it corrupt, or it names a pack it does not list. It is a cache: rebuild it.
 */
export function indexDamaged(file: string, problem: string): FormatError {
  return new FormatError(`${file}: damaged index: ${problem}`, { path: file, problem }, 'INDEX_DAMAGED');
}

/**
 * INDEX_DAMAGED for an error LMDB returns on a file it cannot use (with `advice` after the
 * problem, when given); null for any other error.
 */
export function lmdbDamage(file: string, err: unknown, advice = ''): FormatError | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && LMDB_DAMAGE_CODES.has(code)) return indexDamaged(file, (err as Error).message + advice);
  // A value whose bytes are garbage (the walk checks the trees' structure, not what values
  // hold): msgpackr, which decodes the index's values and nothing else of ours, says so.
  if (err instanceof Error && !(err instanceof ToolkitError) && MSGPACK_DAMAGE.test(err.message)) return indexDamaged(file, `a value cannot be decoded (${err.message.trim()})${advice}`);
  return null;
}

/** msgpackr's messages for bytes that are not a value it wrote (node_modules/msgpackr/unpack.js). */
const MSGPACK_DAMAGE = /^(Unexpected end of MessagePack data|Unexpected end of buffer|Data read, but end of buffer not reached|Unknown MessagePack token|Unknown extension|Could not find typed array|Record id is not defined)/;

export interface ChunkLocation {
  packNo: number;
  packId: string;
  offset: number;
  storedLength: number;
  rawLength: number;
  codec: number;
  type: number;
  /** What the chunk takes of its pack's payloads: storedLength, and for a bundle member its share of its bundle. */
  storedBytes: number;
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
  /**
   * Read-only: the catalogue changes that reconciling with snapshots/ would have written (a
   * record added, REMOVED for one gone), kept in memory for this process and put over the
   * catalogue by every read of it. At most one entry per snapshot record.
   */
  private readonly overlay: Map<string, unknown> | null;
  /** Every write goes through this (space check, failures as NO_SPACE or IO; index-writes.ts). */
  private readonly writes: IndexWrites;
  /** How the file was checked before it was mapped (set by open). */
  fileCheck: IndexFileCheck = 'checked';

  private constructor(private readonly env: RootDatabase, readonly file: string, readonly readOnly: boolean, private readonly mapBudget: MapBudget) {
    this.overlay = readOnly ? new Map() : null;
    this.writes = new IndexWrites(file);
    this.chunks = env.openDB<Buffer, Buffer>({ name: 'chunks', keyEncoding: 'binary', encoding: 'binary' });
    this.packs = env.openDB<PackInfo, number>({ name: 'packs', keyEncoding: 'uint32' });
    this.packNos = env.openDB<number, string>({ name: 'pack-ids' });
    this.snapshots = env.openDB<unknown, string>({ name: 'snapshots' });
    this.meta = env.openDB<unknown, string>({ name: 'meta' });
    this.listingMemos = env.openDB<Buffer, Buffer>({ name: 'listing-memos', keyEncoding: 'binary', encoding: 'binary' });
  }

  /**
   * Opens the index in `dir` (creating it unless read-only), after checking its data file with
   * plain reads (index-file-check.ts, then the walk `opts.walk` asks for: IndexWalk): a file that
   * fails, or that LMDB then reports corrupt, throws INDEX_DAMAGED and is never used.
   * Read-only, a missing index throws NO_INDEX.
   */
  static open(dir: string, opts: IndexOpenOptions = {}): StoreIndex {
    const file = join(dir, 'index.mdb');
    const readOnly = opts.readOnly === true;
    const walk = opts.walk ?? 'bounded';
    let how: IndexFileCheck = 'checked';
    const inspect = (): string | null => {
      const problem = checkIndexFile(file);
      if (problem !== null || walk === 'none') return problem;
      const trees: WalkedTrees = walk === 'all' || (walk === 'bounded' && fileSize(file) <= WALK_LIMIT_BYTES) ? 'all' : 'catalogue';
      // The same bytes as a walk that passed already (walk-verdict.ts): not walked again, but
      // by `store check` ('all'), whose job is to look.
      const key = walkKey(file);
      if (key !== null && walk !== 'all' && walkedBefore(file, key, trees)) {
        how = 'remembered';
        return null;
      }
      how = 'walked';
      const found = walkIndexFile(file, trees === 'all' ? [] : CHUNK_TREES);
      if (found === null && key !== null && !readOnly) rememberWalk(file, key, trees);
      return found;
    };
    let problem = inspect();
    for (let i = 1; problem !== null && i < INDEX_CHECKS; i++) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, INDEX_DAMAGED_RETRY_MS);
      problem = inspect();
    }
    if (problem !== null) throw indexDamaged(file, problem);
    if (readOnly && !existsSync(file)) throw new NotFoundError(`${file}: no index`, { path: file }, 'NO_INDEX');
    if (brokenCloses.has(file)) {
      throw new ToolkitError('IO', `${file}: a write of this index failed earlier in this process and LMDB has not let it go yet; try again, or restart the process`, { path: file });
    }
    if (!readOnly) mkdirSync(dir, { recursive: true });
    let env: RootDatabase | undefined;
    try {
      // eventTurnBatching off: with it, lmdb-js opens each event turn's batch with a write of
      // its own whose commit promise it drops, so a failed commit (a full disk, EIO from an
      // fsync) was an unhandled rejection that ended the process with a stack trace. Every
      // write here is in an explicit transaction anyway.
      env = lmdb().open({ path: file, maxDbs: 8, readOnly, eventTurnBatching: false, mapSize: mapSizeFor(fileSize(file)) });
      // Opening the named databases and one read make LMDB walk the main tree and the meta
      // database now, so damage it reports there is INDEX_DAMAGED here, not in a command.
      const index = new StoreIndex(env, file, readOnly, new MapBudget(file, opts.mapBudgetBytes));
      index.fileCheck = how;
      index.meta.get('version');
      return index;
    } catch (err) {
      try { void env?.close().catch(() => {}); } catch { /* a broken environment is dropped */ }
      throw lmdbDamage(file, err) ?? new ToolkitError('IO', `${file}: cannot open the index: ${(err as Error).message}`,
        { path: file, errno: (err as { code?: unknown }).code }, { cause: err });
    }
  }

  /** Throws NO_SPACE unless a transaction adding `keys` keys has room (IndexWrites.requireSpace). */
  requireSpace(keys: number): void {
    this.writes.requireSpace(keys);
  }

  /** True when the index was built by this version and finished building. */
  isUsable(): boolean {
    return this.meta.get('version') === INDEX_VERSION && this.meta.get('complete') === true;
  }

  /** Guards the writes a read-only index must not make (no command that only reads makes them). */
  private requireWritable(): void {
    if (this.readOnly) throw new ToolkitError('INTERNAL', `${this.file}: the index was opened read-only`, { path: this.file });
  }

  hasChunk(id: Uint8Array): boolean {
    this.looked();
    return this.chunks.doesExist(id as Buffer);
  }

  /** Lookups since this index last released the file's mappings (see `looked`). */
  private lookups = 0;

  /**
   * Counts a chunk lookup, and every RELEASE_LOOKUPS of them releases the pages this process
   * has mapped of the index file once they hold the budget (map-budget.ts): each lookup of a
   * random id faults in a leaf page and, by the kernel's fault-around, pages beside it, so a
   * million lookups would leave the whole file resident (~120 MiB at 1M chunks, ~315 MiB at
   * 3M). Released, the pages stay in the page cache and fault in again without I/O
   * (native/src/file_maps.cc). The release is per process, so the chunk workers and the main
   * thread each trigger it for all. Without the native addon nothing is released.
   */
  private looked(): void {
    if (++this.lookups >= RELEASE_LOOKUPS) this.releaseAfterLookups();
  }

  /** releaseMappedPart once the mappings hold the budget (map-budget.ts). */
  private releaseAfterLookups(): void {
    this.lookups = 0;
    if (this.mapBudget.spent()) this.releaseMappedPart();
  }

  /** The part of the file the next releaseMappedPart gives back. */
  private releasePart = 0;

  /**
   * Releases the pages this process has mapped of one part of the index file (1/RELEASE_PARTS
   * of its size, the next part each time), or of all of it where the file is over twice the
   * budget: over budget, the mappings then hold 3/4 to all of it rather than none to all of it,
   * and fewer lookups fault (map-budget.ts).
   */
  releaseMappedPart(): void {
    this.lookups = 0;
    try {
      const size = statSync(this.file).size;
      if (!this.mapBudget.releasesByPart(size)) { native?.releaseFileMaps(this.file); return; }
      const part = Math.ceil(size / RELEASE_PARTS);
      native?.releaseFileMaps(this.file, this.releasePart * part, part);
      this.releasePart = (this.releasePart + 1) % RELEASE_PARTS;
    } catch { /* as releaseMappedPages */ }
  }

  /** Releases the pages this process has mapped of the index file (looked, and after a pack is indexed). */
  releaseMappedPages(): void {
    this.lookups = 0;
    try {
      native?.releaseFileMaps(this.file);
    } catch { /* the file is gone (a removed store) or /proc is not mounted: the pages stay mapped, nothing else changes */ }
  }

  getChunk(id: Uint8Array): ChunkLocation | undefined {
    this.looked();
    const v = this.chunks.getBinaryFast(id as Buffer);
    if (!v) return undefined;
    // getBinaryFast returns a shared buffer that the next read overwrites: decode it first.
    const loc = {
      packNo: v.readUInt32LE(0), packId: '', offset: v.readUInt32LE(4), storedLength: v.readUInt32LE(8),
      rawLength: v.readUInt32LE(12), codec: v[16], type: v[17], storedBytes: storedBytesOf(v),
    };
    loc.packId = this.packId(loc.packNo);
    return loc;
  }

  /** Whether pack number `packNo` is listed. */
  listsPack(packNo: number): boolean {
    return this.packs.doesExist(packNo);
  }

  packId(packNo: number): string {
    let id = this.packIdCache.get(packNo);
    if (id === undefined) {
      const info = this.packs.get(packNo);
      if (!info) throw indexDamaged(this.file, `it names pack #${packNo}, which it does not list (run 'fxcp store rebuild-index')`);
      id = info.id;
      this.packIdCache.set(packNo, id);
    }
    return id;
  }

  hasPack(packId: string): boolean {
    return this.packNos.doesExist(packId);
  }

  /**
   * Records a sealed pack and its chunks, PACK_SLICE chunks to a transaction: the first
   * transaction records the pack (its number and id) with the first slice, each later one adds
   * a slice. A chunk already indexed (written concurrently into another pack) keeps its first
   * location; the duplicate is garbage for gc. Resolves once every slice is committed (only then
   * may a snapshot name the pack's chunks).
   *
   * Why slices: LMDB copies every page a write transaction changes into memory it allocates,
   * and keeps those copies for reuse as long as the environment is open (LMDB's me_dpages). Ids
   * are random, so a transaction of n new chunks changes about n leaf pages: 8,192 tiny chunks
   * (a first snapshot of small files) held ~32 MiB in the process for good, 1,024 hold ~4 MiB,
   * for the same CPU (measured on an index of a million chunks). And the file: the pages a
   * transaction copies from are free only two or three commits later (LMDB keeps the last
   * snapshots readable), so the last few transactions' copies stay as new pages. A 1 %-changed
   * snapshot of 1,000,000 small files (31,000 new chunks, ~17,000 leaves touched) grew an index
   * laid out in order (addDeferredPacks) by 12.0 MB at 512 a transaction, 7.7 at 256, 7.3 at
   * 128; 256 costs ~5 µs more a new chunk than 1,024 (100,000 random ids, a million indexed),
   * 128 twice that. And each commit waits for the last one's sync: 1,000,000 random ids added
   * by addPack into an empty index (packs of 8,192) took 34.0 s (20.2 CPU-s) at 256, 24.9 s
   * (16.4) at 1,024 — what a daemon's first cut of 1,000,000 small files pays, since it does not
   * defer (lowMemory): 76-84 s at 256 against 72-74 s at 1,024, peak RSS 257-259 MiB against
   * 241-244 (its bound is 256). The file
   * grows by the few transactions' copies that are not free yet, whatever the run's length, so
   * once this index has added BULK_AFTER chunks by packs (a run that large stores ~200 MB of
   * small files or more) its slices are PACK_SLICE_BULK: ~9 MB more of the file, once. Limit: a crash between two
   * slices leaves the pack indexed in part: its other chunks look new to later writers, who
   * store them again (duplicates gc drops); nothing named them, since a record is written only
   * after its packs are indexed.
   */
  async addPack(packId: string, size: number, entries: PackEntry[]): Promise<void> {
    this.requireWritable();
    let packNo = 0;
    const shares = bundleShares(entries);
    let from = 0;
    do {
      const first = from === 0, to = Math.min(entries.length, from + this.packSlice()), at = from;
      const added = await this.write(to - from, true, () => {
        const totals = this.totals();
        if (first) {
          if (this.packNos.doesExist(packId)) return false;
          packNo = this.recordPack(packId, size, chunkCount(entries), totals);
        }
        this.addChunksInTxn(entries, shares, at, to, packNo, totals);
        this.meta.put('totals', totals);
        return true;
      });
      this.releaseAfterLookups();
      if (!added) return;
      from = to;
    } while (from < entries.length);
  }

  /**
   * Indexes the packs of a run that held their chunks out of the index (deferred-chunks.ts):
   * the packs first, in one transaction that also names them under DEFERRED_KEY; then their
   * chunks in id order, MERGE_SLICE to a transaction, put as addPack puts them; the name goes
   * with the last. In id order each put finds its leaf where the last one left off.
   * Pages need room: filled in order (appended, or put in order, which LMDB splits at the end
   * as it does an append) they are full, so the next snapshot's random inserts split a page
   * each, and a 1 %-changed snapshot of 1,000,000 files grew the index by ~48-67 MiB (68-91
   * MiB added in all, 24.1 before). So each slice puts two of every three ids in order (full
   * pages), then the third (each page splits once and takes its share): pages ~3/4 full. A crash in between leaves the name, and the next writer
   * puts those packs' chunks again (deferredPackNos, Store.reconcilePacks). An id the run
   * stored twice keeps its first pack's copy, as addPack would.
   */
  async addDeferredPacks(packs: ReadonlyArray<{ packId: string; size: number; count: number }>, spill: DeferredChunks): Promise<void> {
    this.requireWritable();
    if (packs.length === 0) return;
    const packNos = new Uint32Array(packs.length);
    await this.write(packs.length * 2, true, () => {
      const totals = this.totals();
      packs.forEach((p, i) => { packNos[i] = this.packNos.get(p.packId) ?? this.recordPack(p.packId, p.size, p.count, totals); });
      this.meta.put(DEFERRED_KEY, [...packNos]);
      this.meta.put('totals', totals);
    });
    if (process.env.FOXING_TEST_KILL_AT === 'snap:merge-listed') await this.flushed().then(() => killPoint('snap:merge-listed'));
    const put = (this.chunks.putSync as unknown as (k: Buffer, v: Buffer, o: { noOverwrite: true }) => boolean).bind(this.chunks);
    let slice: Array<{ id: Buffer; value: Buffer; raw: number; stored: number }> = [];
    const commit = async (last: boolean): Promise<void> => {
      const items = slice;
      slice = [];
      await this.write(items.length, true, () => {
        const totals = this.totals();
        // Two of every three ids first, then the third: see the head for why pages need room.
        for (const third of [false, true]) {
          for (let i = 0; i < items.length; i++) {
            if ((i % 3 === 2) !== third) continue;
            const c = items[i];
            if (!put(c.id, c.value, { noOverwrite: true })) continue;
            totals.chunks++;
            totals.rawBytes += c.raw;
            totals.storedBytes += c.stored;
          }
        }
        this.meta.put('totals', totals);
        if (last) this.meta.remove(DEFERRED_KEY);
      });
      this.releaseAfterLookups();
    };
    let previous: Buffer | null = null;
    for (const r of spill.sorted()) {
      if (previous !== null && previous.equals(r.id)) continue;
      previous = r.id;
      const value = chunkValue(packNos[r.ordinal], r.offset, r.storedLength, r.rawLength, r.codec, r.type, r.share);
      slice.push({ id: r.id, value, raw: r.rawLength, stored: r.storedLength + r.share });
      if (slice.length === MERGE_SLICE) await commit(false);
    }
    await commit(true);
  }

  /** The packs an interrupted addDeferredPacks named: their chunks may be missing from the index. */
  deferredPackNos(): number[] {
    return (this.meta.get(DEFERRED_KEY) as number[] | undefined) ?? [];
  }

  /** Puts the chunks of listed pack `packNo` (its trailer's `entries`) that the index lacks (Store.reconcilePacks). */
  async putPackChunks(packNo: number, entries: PackEntry[]): Promise<void> {
    this.requireWritable();
    const shares = bundleShares(entries);
    let from = 0;
    do {
      const to = Math.min(entries.length, from + this.packSlice()), at = from;
      await this.write(to - from, true, () => {
        const totals = this.totals();
        this.addChunksInTxn(entries, shares, at, to, packNo, totals);
        this.meta.put('totals', totals);
      });
      this.releaseAfterLookups();
      from = to;
    } while (from < entries.length);
  }

  /** Drops the name an interrupted addDeferredPacks left, once its packs' chunks are all put. */
  async endDeferredPacks(): Promise<void> {
    await this.write(1, false, () => this.meta.remove(DEFERRED_KEY));
  }

  /** A new pack's number and records, in the caller's transaction. */
  private recordPack(packId: string, size: number, count: number, totals: IndexTotals): number {
    const packNo = ((this.meta.get('nextPackNo') as number | undefined) ?? 1);
    this.meta.put('nextPackNo', packNo + 1);
    this.packs.put(packNo, { id: packId, size, count });
    this.packNos.put(packId, packNo);
    totals.packs++;
    totals.packBytes += size;
    return packNo;
  }

  /** Chunks added by packs since this index was opened (addPack, putPackChunks): what packSlice goes by. */
  private addedByPacks = 0;

  /** Chunks for the next transaction of addPack or putPackChunks (see addPack). */
  private packSlice(): number {
    return this.addedByPacks >= BULK_AFTER ? PACK_SLICE_BULK : PACK_SLICE;
  }

  /** Entries [from, to) of pack `packNo`, in the caller's transaction. */
  private addChunksInTxn(entries: PackEntry[], shares: Uint32Array, from: number, to: number, packNo: number, totals: IndexTotals): void {
    for (let i = from; i < to; i++) {
      const e = entries[i];
      // Each random id reads its leaf through the map (see `looked`); the budget is looked at as
      // it goes, not only after the commit: a pack of 8,192 tiny chunks can map ~100 KiB for each.
      if ((i & (RELEASE_LOOKUPS - 1)) === RELEASE_LOOKUPS - 1) this.releaseAfterLookups();
      // A bundle is found through its members' records, never by its id; its bytes are its members' shares.
      if (e.type === CHUNK_BUNDLE) continue;
      if (!this.putChunk(e, packNo, shares[i], true)) continue;
      this.addedByPacks++;
      totals.chunks++;
      totals.rawBytes += e.rawLength;
      totals.storedBytes += e.storedLength + shares[i];
    }
  }

  private addPackInTxn(packId: string, size: number, entries: PackEntry[], totals: IndexTotals): void {
    this.addChunksInTxn(entries, bundleShares(entries), 0, entries.length, this.recordPack(packId, size, chunkCount(entries), totals), totals);
  }

  /**
   * Puts a chunk's location, in the caller's transaction. `keepFirst`: not over an entry the id
   * has already (LMDB's MDB_NOOVERWRITE: one descent of the tree, where a lookup first and then
   * the put made two; a first snapshot of 200,000 small files spent ~0.6 s of its main thread in
   * those lookups); returns false when it had one.
   */
  private putChunk(e: PackEntry, packNo: number, share: number, keepFirst = false): boolean {
    const v = chunkValue(packNo, e.offset, e.storedLength, e.rawLength, e.codec, e.type, share);
    if (!keepFirst) {
      this.chunks.put(e.id, v);
      return true;
    }
    // In the caller's write transaction (putSync does not start one of its own). lmdb's types
    // say void; it returns whether the put was done (false: the key exists), in lmdb 3.x.
    return (this.chunks.putSync(e.id, v, { noOverwrite: true }) as unknown as boolean) === true;
  }

  /**
   * Gc's one index step (formats/store.md §Garbage collection): in one transaction, drop the
   * `removed` packs with every chunk entry that points into them, then add the `added` packs
   * (repacked copies of live chunks). Readers see either the old or the new locations, never a
   * mix; the pack files on disk are removed only after this commit.
   */
  async replacePacks(added: Array<{ packId: string; size: number; entries: PackEntry[] }>, removed: Array<{ packNo: number; entries: PackEntry[] }>): Promise<void> {
    this.requireWritable();
    // No space check first: this is gc, which frees space, and LMDB may reuse freed pages.
    const keys = added.reduce((n, a) => n + a.entries.length, 0) + removed.reduce((n, r) => n + r.entries.length, 0);
    await this.write(keys, false, () => {
      const totals = this.totals();
      for (const r of removed) {
        const info = this.packs.get(r.packNo);
        if (!info) continue;
        for (const e of r.entries) {
          if (e.type === CHUNK_BUNDLE) continue;
          // Each removal reads its random leaf through the map, as a lookup does (`looked`): a
          // repack of a pack of 8,192 tiny chunks otherwise mapped the whole file (prune at
          // 3,000,000 files: the index's 320 MB resident at the end, a 615 MiB peak).
          this.looked();
          const v = this.chunks.get(e.id);
          if (!v || v.readUInt32LE(0) !== r.packNo) continue;
          this.chunks.remove(e.id);
          this.listingMemos.remove(e.id);
          totals.chunks--;
          totals.rawBytes -= v.readUInt32LE(12);
          totals.storedBytes -= storedBytesOf(v);
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
        const shares = bundleShares(a.entries);
        for (const [i, e] of a.entries.entries()) {
          if (e.type === CHUNK_BUNDLE) continue;
          this.looked();
          if (this.chunks.doesExist(e.id)) continue;
          this.putChunk(e, existing, shares[i]);
          totals.chunks++;
          totals.rawBytes += e.rawLength;
          totals.storedBytes += e.storedLength + shares[i];
        }
      }
      this.meta.put('totals', totals);
    });
  }

  /** Packs the index lists (LMDB keeps the count: no scan). */
  packCount(): number {
    return (this.packs.getStats() as { entryCount: number }).entryCount;
  }

  /**
   * Drops packs that are gone from the store, with every chunk entry that points into them,
   * and starts a new loss epoch. Their trailers are gone too, so the chunk entries are found by
   * one pass over all of them: this runs only after a loss. Returns the number of chunk entries
   * dropped.
   */
  async forgetPacks(packNos: readonly number[]): Promise<number> {
    this.requireWritable();
    const gone = new Set(packNos);
    let dropped = 0;
    await this.write(packNos.length, false, () => {
      const totals = this.totals();
      // Collected first: entries are not removed under the cursor that walks them.
      const doomed: Array<{ id: Buffer; value: Buffer }> = [];
      for (const { key, value } of this.chunks.getRange()) {
        if (gone.has(value.readUInt32LE(0))) doomed.push({ id: Buffer.from(key), value: Buffer.from(value) });
      }
      for (const { id, value } of doomed) {
        this.chunks.remove(id);
        this.listingMemos.remove(id);
        totals.chunks--;
        totals.rawBytes -= value.readUInt32LE(12);
        totals.storedBytes -= storedBytesOf(value);
        dropped++;
      }
      for (const packNo of gone) {
        const info = this.packs.get(packNo);
        if (!info) continue;
        this.packs.remove(packNo);
        this.packNos.remove(info.id);
        this.packIdCache.delete(packNo);
        totals.packs--;
        totals.packBytes -= info.size;
      }
      this.meta.put('totals', totals);
      // In the same transaction: whoever reads the new epoch sees the packs forgotten.
      this.meta.put('lossEpoch', freshLossEpoch());
    });
    return dropped;
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
    if (this.readOnly) return;
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
    // Not awaited, and a failure only loses cache entries: nothing waits on a memo.
    try { this.write(batch.length, true, () => { for (const [id, memo] of batch) void this.listingMemos.put(id, memo); }).catch(() => {}); } catch { /* dropped */ }
  }

  packNo(packId: string): number | undefined {
    return this.packNos.get(packId);
  }

  /** Number of chunk entries (counted by LMDB, not from the totals). */
  chunkCount(): number {
    return this.chunks.getCount();
  }

  /**
   * Every chunk entry in key order: id and place (check's index-against-packs pass, gc's pack
   * tallies). The pages read are released every LIST_RELEASE_ENTRIES (~1.5 MB of leaves), so a
   * pass over a 320 MB index (3M chunks) does not leave it all resident.
   */
  *listChunks(): Iterable<{ id: Buffer; packNo: number; offset: number; storedLength: number; rawLength: number; codec: number; storedBytes: number }> {
    let n = 0;
    for (const { key, value } of this.chunks.getRange()) {
      if ((++n & (LIST_RELEASE_ENTRIES - 1)) === 0) this.releaseAfterLookups();
      yield { id: Buffer.from(key), packNo: value.readUInt32LE(0), offset: value.readUInt32LE(4), storedLength: value.readUInt32LE(8), rawLength: value.readUInt32LE(12), codec: value[16], storedBytes: storedBytesOf(value) };
    }
  }

  totals(): IndexTotals {
    return { ...EMPTY_TOTALS, ...(this.meta.get('totals') as IndexTotals | undefined) };
  }

  async putSnapshot(id: string, record: unknown): Promise<boolean> {
    if (this.overlay) { this.overlay.set(id, record); return true; }
    // In a transaction, as every write here: a bare put's failed commit also rejects a
    // promise lmdb-js keeps to itself, which nothing could handle.
    return this.write(1, true, () => { void this.snapshots.put(id, record); return true; });
  }

  getSnapshot(id: string): unknown {
    const o = this.overlay?.get(id);
    if (o !== undefined) return o === REMOVED ? undefined : o;
    return this.snapshots.get(id);
  }

  removeSnapshot(id: string): Promise<boolean> {
    if (this.overlay) { this.overlay.set(id, REMOVED); return Promise.resolve(true); }
    return this.write(1, false, () => { void this.snapshots.remove(id); return true; });
  }

  hasSnapshot(id: string): boolean {
    const o = this.overlay?.get(id);
    if (o !== undefined) return o !== REMOVED;
    return this.snapshots.doesExist(id);
  }

  /** The catalogue's ids without decoding the records (what reconciling on every open needs). */
  *listSnapshotIds(): Iterable<string> {
    if (!this.overlay) { yield* this.snapshots.getKeys(); return; }
    for (const id of this.snapshots.getKeys()) if (!this.overlay.has(id)) yield id;
    for (const [id, record] of this.overlay) if (record !== REMOVED) yield id;
  }

  *listSnapshots(): Iterable<{ id: string; record: unknown }> {
    for (const { key, value } of this.snapshots.getRange()) if (!this.overlay?.has(key)) yield { id: key, record: value };
    for (const [id, record] of this.overlay ?? []) if (record !== REMOVED) yield { id, record };
  }

  *listPacks(): Iterable<{ packNo: number; info: PackInfo }> {
    for (const { key, value } of this.packs.getRange()) yield { packNo: key, info: value };
  }

  /**
   * Marks a newly built index finished. It starts a fresh loss epoch: a new store has nothing
   * to lose, and a rebuilt index cannot tell which packs the old one knew.
   */
  async markComplete(): Promise<void> {
    this.requireWritable();
    await this.write(3, true, () => {
      this.meta.put('version', INDEX_VERSION);
      this.meta.put('complete', true);
      this.meta.put('lossEpoch', freshLossEpoch());
    });
  }

  /** The store's loss epoch (lib/index/loss-epoch.ts), as committed now (not a stale read). */
  lossEpoch(): string {
    this.env.resetReadTxn();
    return (this.meta.get('lossEpoch') as string | undefined) ?? FIRST_LOSS_EPOCH;
  }


  /**
   * A write transaction adding about `keys` keys, its commit seen through IndexWrites; `check`
   * first throws NO_SPACE where the file system has not the room (requireSpace). Near a full
   * file system (under SYNC_BELOW_BYTES free) it runs synchronously, on this thread. Why:
   * lmdb-js (3.5.6) can let a commit fail on its write thread and then keep the environment's
   * write lock for ever, waiting for callbacks that batch will never run (brokenCloses); a
   * synchronous commit that fails releases the lock and throws here. With room to spare the
   * write thread's overlap is kept.
   */
  private write<T>(keys: number, check: boolean, body: () => T): Promise<T> {
    const available = check ? this.writes.requireSpace(keys) : this.writes.available();
    if (available >= SYNC_BELOW_BYTES) return this.writes.committed(this.env.transaction(body), keys);
    let result: T;
    try {
      result = this.env.transactionSync(body);
    } catch (err) {
      return this.writes.committed(Promise.reject(err), keys);
    }
    return this.writes.committed(Promise.resolve(result), keys);
  }

  /**
   * Resolves when every write so far is durable; throws if one could not be made so: a commit
   * or sync that lmdb-js's write thread reported failed after its promise had resolved
   * (writeFailed), as NO_SPACE or IO naming the index.
   */
  async flushed(): Promise<void> {
    this.writeMemos();
    await this.writes.committed(Promise.resolve(this.env.flushed), 0);
  }

  /** The data file's pages and how many no database uses (index-compaction.ts). */
  slack(): { pages: number; unused: number } {
    this.env.resetReadTxn();
    return indexSlack(this.env);
  }

  /**
   * Writes a compact copy of everything committed into a new index in `dir`, after the pending
   * listing memos (index-compaction.ts). The caller swaps it in with no other process using
   * the index (chunk-store.ts compactIndex).
   */
  async writeCompactCopy(dir: string): Promise<void> {
    this.requireWritable();
    await this.flushed();
    this.env.resetReadTxn();
    await writeCompactIndex(this.env, dir);
  }

  async close(): Promise<void> {
    this.writes.close();
    // After a failed write lmdb-js may never settle what close waits for: the environment is
    // closed without waiting, and a later open of the same file in this process waits for
    // that close first (StoreIndex.settle; brokenCloses says why).
    if (this.writes.broken) {
      const file = this.writes.file;
      const closed: Promise<void> = this.env.close().then(() => {}, () => {}).finally(() => { if (brokenCloses.get(file) === closed) brokenCloses.delete(file); });
      brokenCloses.set(file, closed);
      return;
    }
    this.writeMemos();
    await this.env.close();
  }

  /**
   * Waits (at most `maxMs`) for the close of a handle on the index in `dir` that a failed write
   * broke in this process; StoreIndex.open refuses the file while that close has not ended.
   */
  static async settle(dir: string, maxMs = BROKEN_CLOSE_WAIT_MS): Promise<void> {
    const closed = brokenCloses.get(join(dir, 'index.mdb'));
    if (!closed) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((r) => { timer = setTimeout(r, maxMs); })]);
    clearTimeout(timer);
  }
}

/**
 * Handles of this process whose write failed (a full disk), still closing, by data file.
 * lmdb-js's write thread of such a handle may hold LMDB's write mutex until the main thread
 * has run what it waits for. LMDB shares one environment between the handles a process opens
 * on a file, so a new handle beginning a write transaction meanwhile blocked the main thread on
 * that mutex for ever, and with it every signal handler: foxingd, its versioned target full,
 * no longer stopped on SIGTERM. A new open waits for the old close (StoreIndex.settle), and
 * one that comes while it still runs is refused with an error that says so.
 */
const brokenCloses = new Map<string, Promise<void>>();
/** Free bytes under which the index commits synchronously (StoreIndex.write). */
const SYNC_BELOW_BYTES = 64 * 1024 * 1024;
/** How long an open waits for a broken handle's close. */
const BROKEN_CLOSE_WAIT_MS = 10_000;

/**
 * The address space the index is mapped with: at least MAP_FLOOR_BYTES, and 4x the file rounded
 * up to a GiB. lmdb-js otherwise starts at a 128 KiB map and doubles it whenever it fills, and
 * keeps every earlier map in place (a Buffer it handed out may still point into one): the first
 * snapshot of a million small files went through ten maps, and the pages read through the old
 * ones stayed resident, counted once per map. The file is 159 MB after that snapshot, and its
 * mappings held 463 MiB of RSS. Reserving address space costs no memory (the file is not grown
 * to it without MDB_WRITEMAP, and a read-only shared mapping is not committed memory);
 * a store that outgrows it is remapped by lmdb-js as before. LMDB keeps the larger of this and
 * the size a file's meta page records.
 */
const MAP_FLOOR_BYTES = 16 * 2 ** 30;
const GIB = 2 ** 30;
function mapSizeFor(bytes: number): number | undefined {
  if (process.arch === 'arm' || process.arch === 'ia32') return undefined;  // 32-bit: lmdb-js's own sizing
  return Math.max(MAP_FLOOR_BYTES, Math.ceil((bytes * 4) / GIB) * GIB);
}

/** The size of `file`, 0 when it does not exist. */
function fileSize(file: string): number {
  return statSync(file, { throwIfNoEntry: false })?.size ?? 0;
}

/** The records of a pack that are chunks (the index's `count` of a pack): all but its bundles. */
export function chunkCount(entries: readonly PackEntry[]): number {
  let n = 0;
  for (const e of entries) if (e.type !== CHUNK_BUNDLE) n++;
  return n;
}
