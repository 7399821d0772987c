/**
 * The chunk store: the component everything else produces into or consumes from.
 *
 *   STORE/config            what the store is (format version, chunker parameters, hash)
 *   STORE/packs/xx/*.pack   immutable packs of compressed chunks, each with a trailer listing them
 *   STORE/snapshots/*.snap  immutable snapshot records
 *   STORE/index/            LMDB: chunk id → pack location, snapshot catalogue (a rebuildable cache)
 *   STORE/locks/            lock files
 *   STORE/tmp/              blobs being written (never read)
 *
 * Reads verify every chunk against its id. Writers add chunks through ChunkWriter, which
 * appends to packs and indexes a pack only after it is durable (formats/store.md §Crash safety).
 */
import { promises as fsp, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FormatError, IntegrityError, NotFoundError, ToolkitError, UsageError } from '../errors/index.js';
import { ChunkCodec } from '../codec/codec.js';
import { CODEC_BUNDLED, CODEC_IDS } from '../codec/codec-ids.js';
import { makeDirs } from '../fs/make-dirs.js';
import { blake3 } from '../hash/blake3.js';
import { type ChunkLocation, type IndexWalk, lmdbDamage, StoreIndex } from '../index/store-index.js';
import { indexMapBudget } from '../index/map-budget.js';
import { fsyncDir, writeFileAtomic } from '../util/atomic-file.js';
import type { BlobStorage } from './blob-storage.js';
import type { RemoteStore, StoreLocation, WorkerStoreRef } from './store-location.js';
import { checkRecord, decodeVerified, verifyBundleRecord } from './chunk-verify.js';
import { BundleCache } from './bundle-cache.js';
import { MemberReader } from './member-reader.js';
import type { SealedPack } from './pack-writer.js';
import { commitRecord, type CommitChecks, type RecordToCommit } from './record-commit.js';
import { encodeRecordHeader, type PackEntry } from './pack-codec.js';
import { readPackEntries } from './pack-reader.js';
import { newStoreConfig, parseStoreConfig, type StoreConfig } from './store-config.js';
import { BUNDLES_SINCE_VERSION, CHUNK_BUNDLE, CONFIG_FILE, DIRS, RECORD_HEADER_BYTES } from './store-layout.js';
import { discardIndexDir } from './index-discard.js';
import { compactIndexDir, type IndexCompaction } from './index-compact.js';
import { readOnlyStoreError, writeProblem } from './store-access.js';
import type { Warn } from '../errors/index.js';
import type { StoredPlace } from './chunk-ref.js';
import { forEachLimit } from '../util/for-each-limit.js';
import { ClaimTable } from './claim-table.js';
import type { ChunkWriter } from './chunk-writer.js';
import { DeferredIndexing } from './deferred-indexing.js';

/** Blob removals in flight at once (each is one unlink; see forEachLimit). */
const REMOVE_CONCURRENCY = 32;

export interface OpenOptions {
  /** Create the store when the directory is missing or empty. */
  create?: boolean;
  onWarn?: Warn;
  /**
   * 'read' for a command that only reads: a store it cannot write (read-only media, no
   * permission) is opened read-only, its index too, or a temporary one is built outside it.
   * 'write' (the default): such a store is refused with READ_ONLY.
   */
  access?: 'read' | 'write';
  /**
   * The caller rebuilds the index itself (rebuildIndex, under its exclusive lock): the old one
   * is not opened here, so no damage in it can stop the rebuild (rebuildIndex opens it only to
   * rescue a damaged record's good copy, after its file check).
   */
  rebuildIndex?: boolean;
  /** The command, named in READ_ONLY's message. */
  command?: string;
  /** How much of the index file to walk before LMDB maps it (IndexWalk: 'catalogue' for commands that read no chunk). */
  indexWalk?: IndexWalk;
  /**
   * `store check`: walk all of the index, and leave a damaged one as it is: the command uses
   * a temporary index and `indexDamage` says what is wrong.
   */
  reportIndexDamage?: boolean;
}

/** Reads what only the old index holds before a rebuild discards it; `openOld` opens it on demand. */
export type Rescue = (openOld: () => StoreIndex | null) => Promise<void>;

/** A ChunkSource (lib/snapshot/chunk-source.ts) by its shape: loadChunk, loadChunkPreferSync, local, placeOf. */
export class Store {
  private readonly codec = new ChunkCodec();
  /** The last bundle a member was read from (bundle-cache.ts). */
  private readonly bundles = new BundleCache(this.codec);
  /** Where a read-only store's temporary index lives (removed by close), or null. */
  private temporaryIndexRoot: string | null = null;
  /** Why the store's index is damaged, when it was left as it is (OpenOptions.reportIndexDamage). */
  indexDamage: string | null = null;
  /** The last reconcileSnapshots added or removed a catalogue entry. */
  private catalogueChanged = false;

  /** How messages name the store: its directory, or s3://BUCKET/PREFIX. */
  readonly root: string;
  /** A local directory of the store's own (the store's directory; a remote store's cache): tmp/ spills, quarantine. */
  readonly localDir: string;
  /** Set for a store whose config and locks are elsewhere (an S3 bucket). */
  readonly remote: RemoteStore | null;
  readonly storage: BlobStorage;
  /** The index's directory (StoreLocation.indexDir; a read-only store may use a temporary one instead). */
  private readonly indexDir: string;

  private constructor(
    location: StoreLocation,
    readonly config: StoreConfig,
    private openIndex: StoreIndex | null,
    /** This process cannot write the store: it was opened for reading only. */
    readonly readOnly = false,
  ) {
    this.root = location.remote?.name ?? location.root;
    this.localDir = location.root;
    this.remote = location.remote ?? null;
    this.storage = location.storage;
    this.indexDir = location.indexDir;
  }

  /**
   * What a chunk worker needs to reach this store (worker-packer.ts): its storage as a
   * descriptor and its index directory. A storage without a descriptor cannot be shared.
   */
  workerRef(): WorkerStoreRef {
    const d = this.storage.descriptor;
    if (!d) throw new ToolkitError('INTERNAL', `${this.root}: this store's storage cannot be reached from worker threads`, { path: this.root });
    return { storage: d, indexDir: this.indexDir, bundles: this.takesBundles, mapBudgetBytes: indexMapBudget() };
  }

  get index(): StoreIndex {
    if (!this.openIndex) throw new ToolkitError('INTERNAL', `${this.root}: the index is not open (opened to be rebuilt, and not rebuilt)`, { path: this.root });
    return this.openIndex;
  }

  /** Opens the store at `location` (directoryLocation(path) for a local directory). */
  static async open(location: StoreLocation, opts: OpenOptions = {}): Promise<Store> {
    const root = resolve(location.root);
    if (root !== location.root) location = { ...location, root };
    if (location.remote) return Store.openRemote(location, location.remote, opts);
    const configPath = join(root, CONFIG_FILE);
    let text: string;
    try {
      // Synchronous, as the rest of opening (the index): nothing else runs yet, and a thread-pool
      // round trip is a measurable part of a small command's start-up.
      text = readFileSync(configPath, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && opts.create) return Store.create(location);
      if (code === 'ENOENT') {
        const exists = await fsp.stat(root).then((s) => s.isDirectory(), () => null);
        if (exists === null) throw new NotFoundError(`${root}: no such store`, { path: root }, 'NO_STORE');
        throw new FormatError(`${root}: not a foxing store (no config file)`, { path: root }, 'NOT_A_STORE');
      }
      if (code === 'ENOTDIR') throw new FormatError(`${root}: not a foxing store (not a directory)`, { path: root }, 'NOT_A_STORE');
      throw new ToolkitError('IO', `${configPath}: cannot read: ${(err as Error).message}`, { path: configPath });
    }
    const config = parseStoreConfig(text, root);
    const problem = writeProblem(root, location.indexDir);
    if (problem !== null && opts.access !== 'read') throw readOnlyStoreError(root, problem, opts.command);
    const store = new Store(location, config, null, problem !== null);
    if (!opts.rebuildIndex) {
      // A failed open leaves no index open and no temporary index behind.
      await store.useIndex(opts).catch(async (err: unknown) => { await store.close().catch(() => {}); throw err; });
    }
    return store;
  }

  /**
   * A remote store (s3-location.ts): the config was read with the location; the index is this
   * host's cache, brought in step with the bucket's packs at every open (other hosts add packs,
   * and gc on another host removes some), with pack trailers read by ranged GETs.
   */
  private static async openRemote(location: StoreLocation, remote: RemoteStore, opts: OpenOptions): Promise<Store> {
    let text = remote.configText;
    if (text === null) {
      if (!opts.create) throw await remote.missingStore();
      const e = await remote.missingStore();
      if (e instanceof FormatError) throw e;
      const config = remote.freshConfig!;
      if (!(await remote.createConfig(JSON.stringify(config, null, 2) + '\n'))) {
        throw new ToolkitError('IO', `${remote.name}: another process created the store at the same time; run the command again`, { path: remote.name });
      }
      text = JSON.stringify(config);
    }
    const config = parseStoreConfig(text, `${remote.name}/${CONFIG_FILE}`);
    await makeDirs(location.root);
    const store = new Store(location, config, null, false);
    if (!opts.rebuildIndex) {
      try {
        await store.useIndex(opts);
        if (!store.indexDamage) await store.reconcilePacks(opts.onWarn);
      } catch (err) {
        await store.close().catch(() => {});
        throw err;
      }
    }
    return store;
  }

  /**
   * Opens the index, or builds it when it cannot be used: missing, unfinished, of another
   * version, or damaged (StoreIndex.open checks the file before LMDB maps it). Nothing that is
   * only a cache stops a command: a damaged index is discarded with one warning and rebuilt,
   * and on a read-only store any unusable index is replaced, for this command only, by one
   * built in a temporary directory outside the store (as large as the index, removed by close).
   * Damage includes what the walk of the index finds (IndexWalk: LMDB dies on a signal where it
   * follows garbage below the roots). `reportIndexDamage` (store check) leaves a damaged index
   * as it is and uses a temporary one, as a read-only store does.
   */
  private async useIndex({ onWarn, indexWalk, reportIndexDamage }: OpenOptions): Promise<void> {
    const dir = this.indexDir;
    let why: string;
    await StoreIndex.settle(dir);
    try {
      this.openIndex = StoreIndex.open(dir, { readOnly: this.readOnly, walk: reportIndexDamage ? 'all' : indexWalk });
      if (this.openIndex.isUsable()) {
        // A crash between a snapshot record's rename and its catalogue entry leaves a record the
        // catalogue does not list yet: one readdir finds it (read-only: in memory). A record
        // added or removed by a client over ssh:// (which indexes nothing on this side) comes
        // with packs added or removed: those are brought in step too.
        await this.reconcileSnapshots(onWarn);
        if (this.catalogueChanged && !this.remote && !this.readOnly) await this.reconcilePacks(onWarn);
        return;
      }
      why = 'is unfinished or of another version';
    } catch (err) {
      const e = err instanceof ToolkitError ? err : lmdbDamage(join(dir, 'index.mdb'), err);
      if (e?.code !== 'INDEX_DAMAGED' && e?.code !== 'NO_INDEX') throw err;
      why = e.code === 'NO_INDEX' ? 'is missing' : `is damaged (${String(e.data.problem)})`;
      if (e.code === 'INDEX_DAMAGED' && reportIndexDamage) this.indexDamage = e.message;
      else if (e.code === 'INDEX_DAMAGED' && !this.readOnly) onWarn?.('INDEX_DAMAGED', `${e.message}; discarded and rebuilt (it is a cache)`, { path: e.data.path });
    }
    if (this.readOnly || this.indexDamage !== null) this.temporaryIndexRoot = mkdtempSync(join(tmpdir(), 'fxcp-index-'));
    if (this.readOnly) {
      onWarn?.('INDEX_TEMPORARY', `${this.root}: the store is read-only and its index ${why}: using a temporary index in ${this.temporaryIndexRoot} for this command`,
        { path: this.root, temporary: this.temporaryIndexRoot });
    }
    await this.rebuildIndex(onWarn);
  }

  private static async create(location: StoreLocation): Promise<Store> {
    const root = location.root;
    await makeDirs(root);
    const entries = (await fsp.readdir(root)).filter((e) => e !== DIRS.locks);
    if (entries.length > 0 && !(await Store.interruptedCreation(root, entries))) throw new FormatError(`${root}: not a foxing store (directory is not empty and has no config)`, { path: root }, 'NOT_A_STORE');
    for (const d of Object.values(DIRS)) await makeDirs(join(root, d));
    const config = newStoreConfig();
    await writeFileAtomic(join(root, CONFIG_FILE), Buffer.from(JSON.stringify(config, null, 2) + '\n'));
    await StoreIndex.settle(location.indexDir);
    const index = StoreIndex.open(location.indexDir);
    await index.markComplete();
    return new Store(location, config, index);
  }

  /**
   * True when `entries` are what a creation killed before its config was written leaves: the
   * layout directories with no pack and no snapshot in them (nothing can be stored before the
   * config exists), an index, and temporary config files. Those are cleared, and the creation
   * simply runs again; anything else is not ours and is refused.
   */
  private static async interruptedCreation(root: string, entries: string[]): Promise<boolean> {
    const layout = new Set<string>(Object.values(DIRS));
    const configTmp = (e: string) => e.startsWith(`.${CONFIG_FILE}.tmp-`);
    if (!entries.every((e) => layout.has(e) || configTmp(e))) return false;
    for (const d of [DIRS.packs, DIRS.snapshots, DIRS.tmp]) {
      const inside = await fsp.readdir(join(root, d)).catch(() => [] as string[]);
      if (inside.length > 0) return false;
    }
    for (const e of entries) if (configTmp(e)) await fsp.rm(join(root, e), { force: true });
    await fsp.rm(join(root, DIRS.index), { recursive: true, force: true });
    return true;
  }

  /**
   * Brings the index up to date with the packs and snapshot records on disk: after a crash
   * between a pack's rename and its index commit, or a snapshot's rename and its catalogue
   * entry, the blob is there and the index just does not know it yet.
   */
  async reconcile(onWarn?: Warn): Promise<{ packs: number; snapshots: number }> {
    const packs = await this.reconcilePacks(onWarn);
    const snapshots = await this.reconcileSnapshots(onWarn);
    return { packs, snapshots };
  }

  /**
   * Brings the index's packs in step with packs/: indexes packs it does not know (a crash
   * after a pack's rename, before its index commit), and forgets packs it lists that are gone,
   * so that no writer deduplicates against a chunk that is not there. Every writer calls this
   * before it starts. Listing packs/ is needed for the first part anyway; the second costs one
   * count unless a pack is missing.
   */
  async reconcilePacks(onWarn?: Warn): Promise<number> {
    await this.finishDeferredPacks(onWarn);
    let packs = 0;
    let known = 0;
    for await (const packId of this.storage.list('pack')) {
      if (this.index.hasPack(packId)) { known++; continue; }
      try {
        const entries = await readPackEntries(this.storage, packId);
        await this.index.addPack(packId, await this.storage.size('pack', packId), entries);
        packs++;
      } catch (err) {
        if (err instanceof ToolkitError && err.code === 'NO_SPACE') throw err; // a full disk is not damage
        onWarn?.('DAMAGED_PACK', `${(err as Error).message}; skipped (run 'fxcp store check')`, { pack: packId });
      }
    }
    if (known + packs < this.index.packCount()) await this.forgetMissingPacks(onWarn);
    await this.index.flushed();
    return packs;
  }

  /**
   * Completes an index merge a killed run left unfinished (deferred-indexing.ts): its packs are
   * listed but some of their chunks may not be. Each listed pack's chunks are put again from its
   * trailer (those present are kept).
   */
  private async finishDeferredPacks(onWarn?: Warn): Promise<void> {
    const packNos = this.index.deferredPackNos();
    if (packNos.length === 0) return;
    for (const packNo of packNos) {
      // A pack gc removed since is no longer listed: nothing to put.
      const packId = this.index.listsPack(packNo) ? this.index.packId(packNo) : null;
      if (packId === null) continue;
      try {
        await this.index.putPackChunks(packNo, await readPackEntries(this.storage, packId));
      } catch (err) {
        if (err instanceof ToolkitError && err.code === 'NO_SPACE') throw err;
        onWarn?.('DAMAGED_PACK', `${(err as Error).message}; skipped (run 'fxcp store check')`, { pack: packId });
      }
    }
    await this.index.endDeferredPacks();
  }

  /**
   * Drops from the index every pack that is gone from packs/ (with its chunk entries), and
   * starts a new loss epoch in the same transaction: the next snapshot then checks the chunk lists it reuses, and reads
   * again the files whose chunks were in those packs.
   */
  private async forgetMissingPacks(onWarn?: Warn): Promise<void> {
    const missing: Array<{ packNo: number; id: string }> = [];
    for (const { packNo, info } of [...this.index.listPacks()]) {
      // Stat, not the listing: a pack another writer renamed in after the listing is not missing.
      if (!(await this.storage.exists('pack', info.id))) missing.push({ packNo, id: info.id });
    }
    if (missing.length === 0) return;
    await this.index.forgetPacks(missing.map((m) => m.packNo));
    if (!this.storage.localPath) {
      // A store other hosts write (a bucket): their gc removes packs this host's cache still
      // lists, which is no loss. One line, not one alarm per pack; check tells a real loss.
      onWarn?.('MISSING_PACK', `${this.root}: ${missing.length} pack${missing.length === 1 ? '' : 's'} this host's index listed ${missing.length === 1 ? 'is' : 'are'} gone (removed by another host's gc, or lost); their chunks are forgotten and stored again when met ('fxcp store check' says whether a snapshot misses data)`,
        { packs: missing.map((m) => m.id) });
      return;
    }
    for (const m of missing) {
      onWarn?.('MISSING_PACK', `${this.storage.describe('pack', m.id)}: pack is missing (the index listed it); its chunks are forgotten, snapshots that used them cannot restore every file, and the next snapshot stores again what is still on the source (run 'fxcp store check')`,
        { pack: m.id });
    }
  }

  /**
   * Indexes a pack that was sealed (durable and visible under its id) by a pack writer, on this
   * thread or a worker's: only then do its chunks count as stored. Ids that crossed from a
   * worker arrive as plain Uint8Arrays; the index keys are Buffers.
   */
  async indexSealed(pack: SealedPack): Promise<void> {
    if (this.deferred) {
      this.deferred.add(pack);
      if (this.deferred.mustEnd) await this.endDeferredIndexing();
      return;
    }
    const entries = pack.entries.map((e) => (Buffer.isBuffer(e.id) ? e : { ...e, id: Buffer.from(e.id) }));
    await this.index.addPack(pack.packId, pack.size, entries);
  }

  /** The run whose packs are indexed at its end, if one is (deferIndexing). */
  private deferred: DeferredIndexing | null = null;

  /**
   * From now until endDeferredIndexing, sealed packs are indexed at the end, in id order
   * (deferred-indexing.ts): for a run into an empty store whose chunk workers and tree writer
   * all dedup through `claims`. One run per store at a time.
   */
  deferIndexing(claims: ClaimTable): void {
    if (this.deferred) throw new UsageError(`${this.root}: a run already defers its indexing`);
    this.deferred = new DeferredIndexing(this.index, join(this.localDir, DIRS.tmp), claims);
  }

  /**
   * For a run into a store that holds no chunk and no pack (a first snapshot, an import, a
   * transfer's receiver): its indexing deferred, with the claim table `claimTable` makes (a new
   * one by default), and `writer` asking the table; returns the table, or null (not empty).
   */
  deferIndexingIfEmpty(writer: ChunkWriter, claimTable = () => ClaimTable.create(undefined, true)): ClaimTable | null {
    const held = this.index.totals();
    if (held.chunks !== 0 || held.packs !== 0) return null;
    const claims = claimTable();
    this.deferIndexing(claims);
    writer.useClaims(claims);
    return claims;
  }

  /** Indexes the packs held since deferIndexing; from now on packs are indexed as they are sealed. */
  async endDeferredIndexing(): Promise<void> {
    const d = this.deferred;
    this.deferred = null;
    await d?.finish();
  }

  /** Drops what deferIndexing held (a failed run): its sealed packs are indexed by the next writer's reconcilePacks. */
  discardDeferredIndexing(): void {
    this.deferred?.discard();
    this.deferred = null;
  }

  /**
   * Writes a snapshot record, last, by the crash-safety rule of record-commit.ts: the producer's
   * check when the loss epoch moved, the index durable before the record, the record taken
   * back if its catalogue entry cannot be committed.
   */
  async commitSnapshot(rec: RecordToCommit, checks: CommitChecks): Promise<void> {
    await commitRecord(this.index, this.storage, rec, checks);
  }

  /** The store's loss epoch (lib/index/loss-epoch.ts): snapshots record it, and compare their parent's. */
  lossEpoch(): string {
    return this.index.lossEpoch();
  }

  /** Brings the snapshot catalogue in step with the snapshot records on disk. */
  async reconcileSnapshots(onWarn?: Warn): Promise<number> {
    let snapshots = 0;
    const onDisk = new Set<string>();
    for await (const id of this.storage.listSync?.('snapshot') ?? this.storage.list('snapshot')) {
      onDisk.add(id);
      if (this.index.hasSnapshot(id)) continue;
      let record: unknown;
      try {
        record = await this.readSnapshotFile(id);
      } catch (err) {
        onWarn?.('DAMAGED_SNAPSHOT', `${(err as Error).message}; skipped`, { snapshot: id });
        continue;
      }
      // Outside the try: an index that cannot be written (a full disk) is not a damaged record.
      await this.index.putSnapshot(id, record);
      snapshots++;
    }
    let removed = 0;
    for (const id of [...this.index.listSnapshotIds()]) {
      if (!onDisk.has(id)) removed += Number(await this.index.removeSnapshot(id));
    }
    this.catalogueChanged = snapshots + removed > 0;
    if (snapshots > 0) await this.index.flushed();
    return snapshots;
  }

  /**
   * Removes temporary blobs and spill directories left in tmp/ by dead processes (a kill -9
   * mid-pack or mid-import). Names carry the writer's pid; a live process's are left alone.
   */
  async cleanTmp(): Promise<number> {
    let removed = this.remote ? await this.remote.cleanTemporaries() : 0;
    const dir = join(this.localDir, DIRS.tmp);
    // Listed synchronously (it is nearly always empty): fs.promises costs 2.5 ms to load, and
    // an unchanged snapshot needs it nowhere else.
    let names: string[];
    try { names = readdirSync(dir); } catch { names = []; }
    for (const f of names) {
      const pid = Number(/^[a-z]+-(\d+)-/.exec(f)?.[1]);
      if (!pid || pid === process.pid) continue;
      try { process.kill(pid, 0); continue; } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ESRCH') continue; }
      await fsp.rm(join(dir, f), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  /**
   * Throws the index away and builds it again from packs and snapshot records. The old index
   * is not opened (index-discard.ts), unless `rescue` asks for it (rescueFrom); one this process
   * has open is closed first.
   */
  async rebuildIndex(onWarn?: Warn, opts: { rescue?: Rescue } = {}): Promise<{ packs: number; snapshots: number; chunks: number }> {
    if (this.readOnly && this.temporaryIndexRoot === null) throw readOnlyStoreError(this.root, 'opened for reading only');
    // Closing a damaged index may fail too; it is thrown away either way.
    await this.openIndex?.close().catch(() => {});
    this.openIndex = null;
    const dir = this.temporaryIndexRoot === null ? this.indexDir : join(this.temporaryIndexRoot, DIRS.index);
    if (opts.rescue) await this.rescueFrom(dir, opts.rescue);
    await discardIndexDir(dir);
    await StoreIndex.settle(dir);
    this.openIndex = StoreIndex.open(dir);
    const r = await this.reconcile(onWarn);
    await this.index.markComplete();
    await this.index.flushed();
    return { ...r, chunks: this.index.totals().chunks };
  }

  /**
   * Lets `rescue` read the index about to be thrown away, for what only it holds (good copies
   * of damaged snapshot records). It is opened only when `rescue` asks (there is something to
   * rescue), read-only, and only if it passes the check StoreIndex.open makes before LMDB maps
   * it; a damaged or unfinished one gives null.
   */
  private async rescueFrom(dir: string, rescue: Rescue): Promise<void> {
    let old: StoreIndex | null | undefined;
    const openOld = (): StoreIndex | null => {
      if (old !== undefined) return old;
      try {
        old = StoreIndex.open(dir, { readOnly: true, walk: 'catalogue' });
        if (!old.isUsable()) { void old.close().catch(() => {}); old = null; }
      } catch {
        old = null;
      }
      return old;
    };
    try {
      await rescue(openOld);
    } finally {
      await old?.close().catch(() => {});
    }
  }

  /**
   * Forgets snapshots: deletes their records, makes the deletions durable (fsync of
   * snapshots/), then drops them from the catalogue. `afterFirst` is a test hook.
   */
  async removeSnapshots(ids: readonly string[], afterFirst?: () => void): Promise<void> {
    await forEachLimit(ids, REMOVE_CONCURRENCY, async (id, i) => {
      await this.storage.remove('snapshot', id);
      if (i === 0) afterFirst?.();
    });
    if (!this.remote) await fsyncDir(join(this.root, DIRS.snapshots));
    // One batch of catalogue removals (lmdb-js commits queued writes together), not one commit each.
    await Promise.all(ids.map((id) => this.index.removeSnapshot(id)));
    await this.index.flushed();
  }

  async readSnapshotFile(id: string): Promise<unknown> {
    const bytes = await this.verifySnapshotFile(id);
    const where = this.storage.describe('snapshot', id);
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new FormatError(`${where}: snapshot record is not valid JSON`, { path: where });
    }
  }

  /**
   * Writes a damaged snapshot record again from good bytes (repair and rebuild-index rescue them
   * from the old index's copy: lib/snapshot/record-rescue.ts). Only bytes that hash to `id` are
   * written; the catalogue entry comes from the rebuild that follows.
   */
  async rewriteSnapshotFile(id: string, bytes: Uint8Array): Promise<void> {
    const where = this.storage.describe('snapshot', id);
    if (blake3().hash(bytes).toString('hex') !== id) throw new IntegrityError(`${where}: the bytes to write again do not match the record's id`, { path: where });
    await this.storage.put('snapshot', id, bytes);
  }

  /** A snapshot record's bytes, checked against its id (what finding damage needs: no parse). */
  async verifySnapshotFile(id: string): Promise<Buffer> {
    const bytes = this.storage.getSync?.('snapshot', id) ?? await this.storage.get('snapshot', id);
    if (blake3().hash(bytes).toString('hex') !== id) {
      const where = this.storage.describe('snapshot', id);
      throw new IntegrityError(`${where}: snapshot record does not match its id (damaged)`, { path: where });
    }
    return bytes;
  }

  locate(id: Uint8Array): ChunkLocation {
    const loc = this.index.getChunk(id);
    if (!loc) {
      throw new IntegrityError(`${this.root}: chunk ${Buffer.from(id).toString('hex')} is missing from the store`,
        { path: this.root, chunk: Buffer.from(id).toString('hex') });
    }
    return loc;
  }

  /** The store's version allows bundles of small chunks (formats/store.md §7.6). */
  get takesBundles(): boolean {
    return this.config.version >= BUNDLES_SINCE_VERSION;
  }

  /** True when packs are local files (restore workers then read them directly). */
  get local(): boolean {
    return this.storage.localPath !== undefined;
  }

  placeOf(id: Uint8Array): StoredPlace {
    const loc = this.locate(id);
    return { path: this.storage.localPath!('pack', loc.packId), offset: loc.offset, storedLength: loc.storedLength,
      rawLength: loc.rawLength, codec: loc.codec, layout: 'pack' };
  }

  /** Whether fetchedPlace works: the storage reads through read-ahead windows (a bucket). */
  get fetchesRecords(): boolean {
    return this.storage.readRangeView !== undefined;
  }

  /**
   * The place of a chunk's record with the record itself (StoredPlace.record, a view of a
   * read-ahead window): a restore's workers check, decompress, verify and write it.
   */
  async fetchedPlace(id: Uint8Array): Promise<StoredPlace> {
    const loc = this.locate(id);
    if (loc.codec === CODEC_BUNDLED) {
      // A worker could not follow the member's pointer (it holds no window of the pack): it
      // gets the member's bytes, read from the bundle here, as a record stored raw.
      const raw = await this.loadChunk(id);
      const record = Buffer.concat([encodeRecordHeader({ id: Buffer.from(id), type: loc.type, codec: CODEC_IDS.none, rawLength: raw.byteLength, storedLength: raw.byteLength }), raw]);
      return { path: this.packWhere(loc), offset: loc.offset, storedLength: raw.byteLength, rawLength: raw.byteLength, codec: CODEC_IDS.none, layout: 'pack', record };
    }
    const record = await this.storage.readRangeView!('pack', loc.packId, loc.offset, RECORD_HEADER_BYTES + loc.storedLength);
    return { path: this.storage.describe('pack', loc.packId), offset: loc.offset, storedLength: loc.storedLength,
      rawLength: loc.rawLength, codec: loc.codec, layout: 'pack', record };
  }

  /** Reads a chunk, decompresses it and verifies it against its id. */
  async loadChunk(id: Uint8Array, loc = this.locate(id)): Promise<Uint8Array> {
    const raw = await this.readStored(id, loc);
    if (loc.codec === CODEC_BUNDLED) return this.bundles.member(this.packWhere(loc), id, loc, raw, (at, length) => this.storage.readRange('pack', loc.packId, at, length));
    return this.decodeVerified(id, loc, raw);
  }

  /**
   * loadChunk with a synchronous read where the backend has one (local packs; see
   * readStoredPreferSync): trees, small restored files, tar export. xz decodes asynchronously
   * anyway, so its chunks take the async path.
   */
  async loadChunkPreferSync(id: Uint8Array, loc = this.locate(id)): Promise<Uint8Array> {
    const readSync = this.storage.readRangeSync;
    if (loc.codec === CODEC_IDS.xz || (loc.codec === CODEC_BUNDLED && !readSync)) return this.loadChunk(id, loc);
    const stored = await this.readStoredPreferSync(id, loc);
    if (loc.codec === CODEC_BUNDLED) return this.bundles.memberSync(this.packWhere(loc), id, loc, stored, (at, length) => readSync!.call(this.storage, 'pack', loc.packId, at, length));
    return this.decodeVerified(id, loc, stored);
  }

  /** readPortable's member reader (null where packs are not local), made at its first member. */
  private portableMembers: MemberReader | null | undefined;

  /** A reader of bundle members for a walk that meets many in pack order (export), or null where packs are not local (member-reader.ts). */
  memberReader(): MemberReader | null {
    return MemberReader.over(this.storage, this.codec);
  }

  /**
   * A chunk's record as it may leave the store (into an archive, over the wire), where a bundle
   * member's payload would point at nothing: a member is read from its bundle and compressed on
   * its own (zstd at the default level); any other record is its stored bytes as they are.
   */
  async readPortable(id: Uint8Array, loc: ChunkLocation): Promise<{ codec: number; stored: Buffer }> {
    if (loc.codec !== CODEC_BUNDLED) return { codec: loc.codec, stored: await this.readStoredPreferSync(id, loc) };
    // A push or pull meets members in runs, as an export does: their records through windows.
    if (this.portableMembers === undefined) this.portableMembers = this.memberReader();
    const raw = this.portableMembers?.rawSync(id, loc) ?? await this.loadChunkPreferSync(id, loc);
    const packed = this.codec.compressTransientSync({ name: 'zstd' }, raw);
    return packed ? { codec: CODEC_IDS.zstd, stored: Buffer.from(packed) } : { codec: CODEC_IDS.none, stored: Buffer.from(raw) };
  }

  private packWhere(loc: ChunkLocation): string {
    return this.storage.describe('pack', loc.packId);
  }

  /** The stored (compressed) bytes of a chunk, after checking the record header names it. */
  async readStored(id: Uint8Array, loc: ChunkLocation): Promise<Buffer> {
    const rec = await this.storage.readRange('pack', loc.packId, loc.offset, RECORD_HEADER_BYTES + loc.storedLength);
    return this.checkRecord(id, loc, rec);
  }

  /**
   * readStored with a synchronous read where the backend has one (local packs): a record comes
   * from the page cache, or the kernel's readahead of a pack read in order, in less time than a
   * thread-pool round trip takes.
   */
  async readStoredPreferSync(id: Uint8Array, loc: ChunkLocation): Promise<Buffer> {
    if (!this.storage.readRangeSync) return this.readStored(id, loc);
    return this.checkRecord(id, loc, this.storage.readRangeSync('pack', loc.packId, loc.offset, RECORD_HEADER_BYTES + loc.storedLength));
  }

  /** A pack's entries, from its trailer (checked against the trailer's checksum; FormatError/IntegrityError when damaged). */
  async packEntries(packId: string): Promise<PackEntry[]> {
    return readPackEntries(this.storage, packId);
  }

  /**
   * The stored bytes of the record `e` of pack `packId` (a trailer entry, not the index's
   * location: gc and repair read records the index may not point at), after checking its header
   * and that it decodes to its id. What gc copies and repair verifies.
   */
  async readVerifiedRecord(packId: string, e: PackEntry): Promise<Buffer> {
    const where = this.storage.describe('pack', packId);
    const stored = checkRecord(where, e.id, e, await this.storage.readRange('pack', packId, e.offset, RECORD_HEADER_BYTES + e.storedLength));
    await decodeVerified(this.codec, where, e.id, e, stored);
    return stored;
  }

  /** The verified bytes of the bundle member `e` of pack `packId` (a trailer entry, as readVerifiedRecord). */
  async readVerifiedMember(packId: string, e: PackEntry): Promise<Uint8Array> {
    const where = this.storage.describe('pack', packId);
    const stored = checkRecord(where, e.id, e, await this.storage.readRange('pack', packId, e.offset, RECORD_HEADER_BYTES + e.storedLength));
    return this.bundles.member(where, e.id, e, stored, (at, length) => this.storage.readRange('pack', packId, at, length));
  }

  /**
   * Verifies the record `e` of pack `packId`, whatever it holds: a chunk decodes to its id, a
   * bundle member through its bundle, and a bundle decodes to its length (its bytes are verified
   * through its members).
   */
  async verifyRecord(packId: string, e: PackEntry): Promise<void> {
    if (e.codec === CODEC_BUNDLED) { await this.readVerifiedMember(packId, e); return; }
    if (e.type !== CHUNK_BUNDLE) { await this.readVerifiedRecord(packId, e); return; }
    const where = this.storage.describe('pack', packId);
    verifyBundleRecord(this.codec, where, e, checkRecord(where, e.id, e, await this.storage.readRange('pack', packId, e.offset, RECORD_HEADER_BYTES + e.storedLength)));
  }

  private checkRecord(id: Uint8Array, loc: ChunkLocation, rec: Buffer): Buffer {
    return checkRecord(this.storage.describe('pack', loc.packId), id, loc, rec);
  }

  async decodeVerified(id: Uint8Array, loc: ChunkLocation, stored: Uint8Array): Promise<Uint8Array> {
    return decodeVerified(this.codec, this.storage.describe('pack', loc.packId), id, loc, stored);
  }

  /**
   * Replaces the index by a compact copy when most of its file is unused pages (index-compact.ts);
   * null when it is not worth it or the index is not this store's own file. The caller holds the
   * store's exclusive lock, and closes the store next: a compacted index is closed, not opened
   * again (lmdb-js shares an environment between the threads of a process by path, and a
   * worker that has not let go of the old one would hand it back).
   */
  async compactIndex(): Promise<IndexCompaction | null> {
    if (this.remote || this.readOnly || this.temporaryIndexRoot !== null || !this.openIndex) return null;
    const index = this.openIndex;
    return compactIndexDir(index, this.indexDir, async () => { this.openIndex = null; await index.close(); });
  }

  async close(): Promise<void> {
    await this.openIndex?.flushed().catch(() => {});
    await this.openIndex?.close();
    await this.storage.close();
    if (this.temporaryIndexRoot !== null) rmSync(this.temporaryIndexRoot, { recursive: true, force: true });
  }
}
