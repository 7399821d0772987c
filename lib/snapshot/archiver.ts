/**
 * The archiver: walks a source tree, hands file contents to the content saver (chunk workers,
 * content-saver.ts), and records trees bottom-up; then writes the snapshot record, last.
 *
 * - Directories are walked depth first, one at a time; files start as soon as they are seen
 *   and run concurrently (bounded by the saver's file slots), so the workers never wait on the walk.
 * - A file whose size, mtime, ctime and inode match the parent snapshot (the latest one of the
 *   same source and host) keeps its chunk list without being read; a directory whose listing
 *   matches the parent tree's memo is not even compared entry by entry (walkMatched).
 * - Memory holds one directory listing per level of depth plus the in-flight files, never the
 *   whole tree's file list.
 * - Entries that cannot be read are reported through onWarn and left out (the snapshot is then
 *   "partial"); files that change while being read are recorded as read and reported.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import { NotFoundError, throwIfAborted, ToolkitError } from '../errors/index.js';
import { codecLabel, type CodecSpec } from '../codec/codec.js';
import { captureMetaSync, errnoOf, inodeKey, joinPath, newScanWalk, readXattrs, ScanWalk, toBuffer } from '../fs/index.js';
import type { FileMeta } from '../fs/file-meta.js';
import type { ExcludeTest } from '../filter/exclude-rules.js';
import type { Warn } from '../errors/index.js';
import { type ChunkWriter, type Store, storeWriters, type StoreWriters } from '../store/index.js';
import { listSnapshots } from './snapshot-catalogue.js';
import type { SnapshotRecord, SnapshotStats } from './snapshot-record.js';
import { commitSnapshot } from './snapshot-commit.js';
import { killPoint } from '../util/kill-point.js';
import { FIRST_LOSS_EPOCH } from '../store/index.js';
import type { TreeEntry } from './tree-entry.js';
import { type Content, ContentSaver, type KnownContent } from './content-saver.js';
import { sameEntries, withParents } from './tree-compare.js';
import { loadEncodedTree, loadTree, TreeSaver } from './tree-store.js';
import { EncodedTree } from './encoded-tree.js';
import { decodeListingMemo, encodeListingMemo, listingFingerprint, printFingerprint, recordedAtime, type ListingMemo, type SubtreeTotals } from './listing-memo.js';
import { editEntries, type HeldTree, type HeldTrees, holdTree, spliceHeld, type TreeEdit } from './held-tree.js';
import { childRel, DirListing, type Listed, type ListingRules } from './dir-listing.js';
import { addEntry, addSubtree, planSplice, type SplicePlan } from './tree-splice.js';
import { currentUser } from '../util/current-user.js';

export interface ArchiveOptions {
  source: string;
  tags?: string[];
  codec: CodecSpec;
  exclude?: ExcludeTest;
  forceRehash?: boolean;
  signal?: AbortSignal;
  onWarn: Warn;
  /** Live counters for progress display (mutated as work completes). */
  progress?: { files: number; bytes: number; readBytes: number };
  /** Chunk workers (default: one per core). */
  workers?: number;
  /** One chunk worker until the files read call for more (foxingd's cuts; ContentOptions.lowMemory). */
  lowMemory?: boolean;
  /**
   * The directories that may have changed since snapshot `since` began, as a watch that ran
   * from before then saw them (foxingd, lib/daemon/changed-dirs.ts): every other directory
   * that the parent snapshot has, with a listing memo that counts its subtree, keeps its tree
   * without being listed. Used only when the parent snapshot is `since` (another snapshot of
   * the source may have been taken meanwhile, from a point the watch cannot vouch for).
   * A directory that is touched but whose own entries saw no change (`entriesChanged` false)
   * is not listed either: its changed subdirectories are spliced into its parent tree
   * (tree-splice.ts). Absent: every directory is listed (the parent shortcut still spares
   * reading unchanged files).
   */
  changedDirs?: {
    since: string; touches(rel: string): boolean; entriesChanged(rel: string): boolean; touchedChildren?(rel: string): Iterable<string>;
    /**
     * The names of the entries of `rel` the watch saw change, when its own entries changed
     * (entriesChanged) and these are all that did; null: list it. Then only these are lstat'ed
     * and walked, the others kept from the parent tree (tree-splice.ts).
     */
    changedNames?(rel: string): Iterable<string> | null;
  };
  /**
   * Trees kept between snapshots of a run (foxingd's cuts): a spliced directory whose parent
   * tree is held is spliced byte-wise, without loading, decoding or encoding it (held-tree.ts).
   */
  heldTrees?: HeldTrees;
  /** Trees stored as one chunk up to 1 MiB, not in parts (tree-store.ts TreeSaver: foxingd's cuts). */
  wholeTrees?: boolean;
  /**
   * The source the snapshot is named by (its record, its root entry's name, the parent looked
   * for), when the bytes are read from another name of the same file: foxingd's versions read
   * a hard link staged at write time (lib/daemon/file-versions.ts). Default: `source`.
   */
  recordSource?: string;
  /**
   * The content of a file that is already in the store, by its identity now (foxingd's
   * close-ingest read it moments ago): used instead of reading the file again when every chunk
   * is still in the store (content-saver.ts).
   */
  knownContent?: KnownContent;
  /**
   * False: walk and store, then return the record without writing it (its id is ''): foxingd's
   * versions store a batch of files in one walk and write a record of their own for each file
   * (lib/daemon/version-batch.ts). The batch's own two trees stay unreferenced (gc frees them).
   */
  record?: boolean;
}

export interface FileProblem { path: string; code: string; message: string }

export interface ArchiveResult { id: string; record: SnapshotRecord; problems: FileProblem[] }

/** Directories whose trees may wait to be stored before the walk waits for them (see paceWalk). */
const TREES_IN_FLIGHT = 256;
/**
 * The longest the walk runs without letting the event loop turn (signals, progress, I/O).
 * Timed with Date.now(): `performance` costs 1.8 ms of Node modules to load, and a millisecond
 * clock is fine for this.
 */
const YIELD_MS = 10;

/** A walked directory: `done` resolves to its tree id once its entries are stored (null: left out). */
interface Walked { done: Promise<Buffer | null> }
/** A walked entry: `done` resolves to its tree entry once its content is stored (null: left out). */
interface WalkedEntry { done: Promise<TreeEntry | null> }


export async function archive(store: Store, opts: ArchiveOptions): Promise<ArchiveResult> {
  const a = new Archiver(store, opts, await storeWriters());
  try {
    return await a.run();
  } catch (err) {
    await a.abort();
    throw err;
  } finally {
    await a.close();
  }
}

class Archiver {
  private readonly writer: ChunkWriter;
  private readonly trees: TreeSaver;
  private readonly contents: ContentSaver;
  private readonly problems: FileProblem[] = [];
  private readonly stats: SnapshotStats = {
    files: 0, dirs: 0, symlinks: 0, others: 0, bytes: 0, readBytes: 0, reusedFiles: 0,
    newChunks: 0, newBytes: 0, storedBytes: 0, errors: 0, durationMs: 0,
  };
  private readonly started = Date.now();

  constructor(private readonly store: Store, private readonly opts: ArchiveOptions, { ChunkWriter }: StoreWriters) {
    this.writer = new ChunkWriter(store);
    this.trees = new TreeSaver(this.writer, store, opts.wholeTrees === true);
    this.contents = new ContentSaver(store, {
      codec: opts.codec, forceRehash: opts.forceRehash, signal: opts.signal, onWarn: opts.onWarn, knownContent: opts.knownContent,
      onProblem: (rel, err) => this.problem(rel, err), progress: opts.progress, workers: opts.workers, lowMemory: opts.lowMemory,
    });
  }

  async close(): Promise<void> {
    await this.contents.close();
  }

  /** Drops unsealed packs (nothing refers to them); sealed ones stay indexed for the next run. */
  async abort(): Promise<void> {
    await this.writer.abort().catch(() => {});
    await this.contents.abort();
    this.store.discardDeferredIndexing();
  }

  private checkAbort(): void {
    throwIfAborted(this.opts.signal);
  }

  private source = '';
  /** Reused chunk lists are looked up first (the parent is from an earlier loss epoch). */
  private checkReused = false;
  /** opts.changedDirs when the parent snapshot is the one it counts from (run). */
  private changedDirs: ArchiveOptions['changedDirs'] | null = null;
  /** What listings leave out; set once the store's identity is known (run). */
  private listingRules!: ListingRules;

  /** Records an entry that could not be read: one line naming its full path and the reason. */
  private problem(rel: string, err: unknown): void {
    const code = err instanceof ToolkitError ? err.code : (errnoOf(err) ?? 'ERROR');
    const errno = errnoOf(err);
    const path = rel === '.' || rel === '' ? this.source : `${this.source}/${rel}`;
    const raw = (err as Error).message ?? String(err);
    // Node's "EACCES: permission denied, open '/x'" becomes "permission denied (EACCES)".
    const m = /^([A-Z0-9_]+): ([^,]+)/.exec(raw);
    const reason = m ? `${m[2]} (${m[1]})` : raw.includes(path) ? raw.slice(raw.indexOf(path) + path.length).replace(/^[:\s]+/, '') : raw;
    const message = errno === 'ENOENT' ? `${path}: vanished during the snapshot` : `${path}: cannot read: ${reason}`;
    this.problems.push({ path: rel, code: errno ?? code, message });
    this.stats.errors++;
    this.opts.onWarn(errno === 'ENOENT' ? 'VANISHED' : 'FILE_ERROR', message, { path });
  }

  async run(): Promise<ArchiveResult> {
    const read = resolve(this.opts.source);
    const source = this.opts.recordSource === undefined ? read : resolve(this.opts.recordSource);
    this.source = source;
    let real: string;
    try {
      real = realpathSync(read);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') throw new NotFoundError(`${read}: no such file or directory`, { path: read });
      throw new ToolkitError('SOURCE', `${read}: cannot read source: ${(err as Error).message}`, { path: read });
    }
    // Packs a crashed writer sealed but never indexed are indexed now, so their chunks count;
    // packs that are gone are forgotten (and the loss epoch moves on).
    await this.store.reconcilePacks(this.opts.onWarn);
    await this.store.cleanTmp();
    // Into an empty store every chunk is new and nothing needs the index before the end: the
    // packs are indexed then, in id order (deferred-indexing.ts). Not for foxingd (lowMemory),
    // whose other writers (file versions) would look for this run's chunks in the index.
    if (!this.opts.lowMemory) this.store.deferIndexingIfEmpty(this.writer, () => this.contents.claims);
    const epoch = this.store.lossEpoch();
    const host = hostname();
    const parent = listSnapshots(this.store).filter((s) => s.record.source === source && s.record.host === host).pop() ?? null;
    // A parent taken before the store last lost chunks may name some that are gone: its chunk
    // lists are reused only after a lookup, and no directory is skipped on its memo alone.
    this.checkReused = parent !== null && (parent.record.lossEpoch ?? FIRST_LOSS_EPOCH) !== epoch;
    this.changedDirs = parent !== null && parent.id === this.opts.changedDirs?.since ? this.opts.changedDirs : null;
    this.contents.checkReused = this.checkReused;
    // Every file will be read: the chunk workers boot (module loading, ~0.1-0.2 s each) on the
    // other cores while this thread loads the parent, scans and walks to the first file.
    if (!parent || this.opts.forceRehash) this.contents.startWorkers();
    let parentRoot: TreeEntry | undefined;
    if (parent && !this.opts.forceRehash) {
      try {
        parentRoot = (await loadTree(this.store, Buffer.from(parent.record.tree, 'hex')))[0];
      } catch (err) {
        this.opts.onWarn('PARENT_UNREADABLE', `parent snapshot ${parent.id.slice(0, 12)} cannot be read (${(err as Error).message}); reading every file`, {});
      }
    }
    // A store inside the source (fxcp snap create /data /data/backup) must not snapshot itself.
    const storeStat = lstatSync(this.store.localDir, { bigint: true });
    this.listingRules = {
      exclude: this.opts.exclude, storeInode: inodeKey(storeStat.dev, storeStat.ino), source, onWarn: this.opts.onWarn,
      onProblem: (rel, err) => this.problem(rel, err),
      // Scanning ahead lists each directory's subdirectories before the walk reaches them; a
      // walk told which directories changed skips most of them, so it scans on its own.
      scanWalk: this.changedDirs ? new ScanWalk(0) : newScanWalk(),
    };
    const rootPath = toBuffer(real);
    const rootName = Buffer.from(basename(source) || 'root');
    const meta = captureMetaSync(rootPath, rootName, { xattrs: true, onWarn: this.opts.onWarn });
    const rootEntry = await (await this.walkEntry(rootPath, '', meta, parentRoot)).done;
    if (!rootEntry) throw new ToolkitError('SOURCE', `${source}: cannot read source`, { path: source });
    const tree = await this.trees.save([rootEntry]);
    this.checkAbort();
    // The workers' data packs and the tree pack are sealed side by side: each seal waits on
    // fsyncs (~30 ms per pack here), and one does not need the other. Both are settled before
    // a failure of either is thrown, so abort() never races a seal in flight.
    const sealed = await Promise.allSettled([this.contents.sealPacks(), this.writer.flush()]);
    for (const r of sealed) if (r.status === 'rejected') throw r.reason;
    killPoint('snap:before-merge');
    await this.store.endDeferredIndexing();

    const data = this.contents.stats;
    Object.assign(this.stats, {
      reusedFiles: this.stats.reusedFiles + data.reusedFiles,
      readBytes: data.readBytes,
      newChunks: this.writer.stats.newChunks + data.newChunks,
      newBytes: this.writer.stats.newRawBytes + data.newRawBytes,
      storedBytes: this.writer.stats.newStoredBytes + data.newStoredBytes,
      durationMs: Date.now() - this.started,
    });
    if (data.lostFiles > 0) {
      this.opts.onWarn('LOST_CHUNKS_STORED', `${data.lostFiles} unchanged file${data.lostFiles === 1 ? ' was' : 's were'} read again: the store had lost chunks ${data.lostFiles === 1 ? 'it needs' : 'they need'}, and this snapshot stored them again`, { files: data.lostFiles });
    }
    const unsaved: SnapshotRecord = {
      version: 1, time: new Date(this.started).toISOString(), source, host, user: currentUser(),
      tags: [...new Set(this.opts.tags ?? [])].sort(), tree: tree.toString('hex'), parent: parent?.id ?? null,
      codec: codecLabel(this.opts.codec),
      stats: this.stats,
    };
    if (this.opts.record === false) return { id: '', record: { ...unsaved, lossEpoch: epoch }, problems: this.problems };
    const { id, record } = await commitSnapshot(this.store, unsaved, epoch, this.opts.signal);
    return { id, record, problems: this.problems };
  }

  /**
   * Walks one entry. Returns once the entry has been *walked* (for a directory: listed, its
   * subdirectories walked, its files started); `done` resolves when its content is stored.
   * The caller waits for the walk, not for `done`, so a deep tree with few files per directory
   * still keeps every worker busy; the file slots bound how far the walk runs ahead.
   */
  private walkEntry(path: Buffer, rel: string, meta: FileMeta, parent: TreeEntry | undefined): WalkedEntry | Promise<WalkedEntry> {
    const { blocks: _blocks, ...captured } = meta;
    const e: TreeEntry = { ...captured, atimeNs: recordedAtime(meta) };
    switch (meta.type) {
      case 'dir':
        return this.walkDir(path, rel, parent?.type === 'dir' ? parent.subtree : undefined)
          .then((walked) => ({ done: walked.done.then((subtree) => this.dirEntry(e, subtree)) }));
      case 'file': {
        // A file that gets a slot at once is started without a promise of its own (most files
        // of a first snapshot: a few promises less per file, each with the run's async hooks).
        const started = this.contents.start(path, rel, meta, parent);
        return started instanceof Promise ? started.then(({ content }) => this.fileEntry(e, content)) : this.fileEntry(e, started.content);
      }
      case 'symlink': this.stats.symlinks++; return { done: Promise.resolve(e) };
      default: this.stats.others++; return { done: Promise.resolve(e) };
    }
  }

  /** A file's walk: its entry once its content is stored (null: it could not be read); counts it. */
  private fileEntry(e: TreeEntry, content: Promise<Content | null>): WalkedEntry {
    return {
      done: content.then((c) => {
        if (!c) return null;
        e.chunks = c.chunks;
        e.size = c.size;
        if (c.segments) e.segments = c.segments;
        this.stats.files++;
        this.stats.bytes += c.size;
        if (this.opts.progress) { this.opts.progress.files++; this.opts.progress.bytes += c.size; }
        return e;
      }),
    };
  }

  /** A directory's tree entry once its subtree is stored (null: it could not be walked); counts it. */
  private dirEntry(e: TreeEntry, subtree: Buffer | null): TreeEntry | null {
    if (!subtree) return null;
    e.subtree = subtree;
    e.size = 0;
    this.stats.dirs++;
    return e;
  }

  private async walkDir(path: Buffer, rel: string, parentTree: Buffer | undefined): Promise<Walked> {
    this.checkAbort();
    if (parentTree && this.unchangedSubtree(rel, parentTree)) return { done: Promise.resolve(parentTree) };
    const spliced = parentTree ? await this.spliceDir(path, rel, parentTree) : null;
    if (spliced) return spliced;
    // Without a parent tree every entry's xattrs are read: the scan says which have none.
    const listing = DirListing.list(path, rel, this.listingRules, parentTree === undefined);
    if (listing === null) return { done: Promise.resolve(null) };
    const memo = parentTree && !this.checkReused ? this.memoOf(parentTree) : null;
    if (memo && parentTree && matchesMemo(listing, memo)) {
      const walked = this.walkMatched(listing, memo, parentTree);
      return walked instanceof Promise ? walked : { done: Promise.resolve(walked) };
    }
    return this.walkChanged(listing, parentTree);
  }

  /**
   * Whether directory `rel`, whose tree in the parent snapshot is `tree`, is known unchanged
   * without listing it: a watch saw nothing change in it or below (opts.changedDirs), and its
   * memo counts what it holds, which is added to the figures here.
   */
  private unchangedSubtree(rel: string, tree: Buffer): boolean {
    const changed = this.changedDirs;
    if (!changed || this.checkReused || changed.touches(rel)) return false;
    const totals = this.memoOf(tree)?.totals;
    if (!totals) return false;
    this.countTotals(totals);
    return true;
  }

  /** Adds what a reused subtree holds to the snapshot's figures. */
  private countTotals(totals: SubtreeTotals): void {
    this.stats.files += totals.files;
    this.stats.reusedFiles += totals.files;
    this.stats.dirs += totals.dirs;
    this.stats.symlinks += totals.symlinks;
    this.stats.others += totals.others;
    this.stats.bytes += totals.bytes;
    if (this.opts.progress) { this.opts.progress.files += totals.files; this.opts.progress.bytes += totals.bytes; }
  }

  /**
   * A directory above a change whose own entries saw none (changedDirs.entriesChanged false),
   * or whose changed entries the watch names (changedDirs.changedNames): not listed; the parent
   * tree's entries with the changed subdirectories and named entries walked again and spliced
   * in (tree-splice.ts). Null when that cannot be done: the directory is listed.
   */
  private async spliceDir(path: Buffer, rel: string, parentTree: Buffer): Promise<Walked | null> {
    const changed = this.changedDirs;
    if (!changed || this.checkReused) return null;
    const named = changed.entriesChanged(rel) ? changed.changedNames?.(rel) ?? null : undefined;
    if (named === null) return null;
    const held = this.opts.heldTrees?.get(parentTree);
    const totals = held ? held.totals : this.memoOf(parentTree)?.totals;
    if (!totals) return null;
    // Not held: loaded as stored, its entries decoded only where the splice looks (encoded-tree.ts).
    const base = held ?? await this.loadParentEncoded(parentTree, rel);
    if (!base) return null;
    const entries = held ? held.tree : base as EncodedTree;
    const rules = this.listingRules;
    const plan = planSplice({
      entries, totals, touches: (r) => changed.touches(r), touchedNames: changed.touchedChildren?.(rel), changedNames: named,
      childRel: (name) => childRel(rel, name), childPath: (name) => joinPath(path, name),
      lstat: (p, name) => { try { return captureMetaSync(p, name, { xattrs: false }); } catch { return null; } },
      keep: (r, meta) => !rules.exclude?.(r, meta.type === 'dir') && !(meta.type === 'dir' && rules.storeInode !== null && Buffer.from(inodeKey(meta.dev, meta.ino)).equals(rules.storeInode)),
      totalsOf: (id) => this.subtreeTotals(id),
    });
    if (!plan) return null;
    // What is reused counts here; each entry walked again counts itself as it is walked.
    this.countTotals(plan.unchanged);
    const walks: Array<Promise<TreeEntry | null>> = [];
    for (const c of plan.children) {
      this.attachXattrs({ path: c.path, rel: c.rel, meta: c.meta, xattrBytes: -1 }, c.parent);
      const w = this.walkEntry(c.path, c.rel, c.meta, c.parent);
      const walked = w instanceof Promise ? await w : w;
      walked.done.catch(() => {});
      walks.push(walked.done);
    }
    return { done: this.finishSpliced(plan, walks, parentTree, held ?? entries, totals) };
  }

  /**
   * A spliced directory's tree id once what it walked again is stored. With held trees
   * (opts.heldTrees): the parent's bytes with the changed entries' replaced, inserted or cut
   * out (held-tree.ts), and the new tree held for the next cut; without, or when an entry was
   * left out for an error, encoded whole.
   */
  private async finishSpliced(plan: SplicePlan, walks: Array<Promise<TreeEntry | null>>, parentTree: Buffer, base: HeldTree | EncodedTree, parentTotals: SubtreeTotals): Promise<Buffer> {
    const entries = base instanceof EncodedTree ? base : base.tree;
    const done = await Promise.all(walks);
    const totals = done.every((e) => e !== null) ? this.splicedTotals(plan, done as TreeEntry[]) : null;
    const edits: TreeEdit[] = plan.removed.map((at) => ({ at, remove: true, entry: null }));
    plan.children.forEach((c, k) => {
      const e = done[k];
      if (c.insert) { if (e) edits.push({ at: c.index, remove: false, entry: e }); } else if (!e) edits.push({ at: c.index, remove: true, entry: null });
      else if (!sameEntries([e], [entries.entry(c.index)])) edits.push({ at: c.index, remove: true, entry: e });
    });
    // By index; at one index an insert first (the children are in name order already).
    edits.sort((a, b) => a.at - b.at || Number(a.remove) - Number(b.remove));
    const heldTrees = this.opts.heldTrees;
    if (!heldTrees || !totals) {
      const all = entries.all();
      const pending = editEntries(all, edits).map((e) => Promise.resolve<TreeEntry | null>(e));
      return this.finishTree(pending, parentTree, all, () => totals);
    }
    const held = base instanceof EncodedTree ? holdTree(base, parentTotals) : base;
    if (edits.length === 0) {
      this.totalsWritten.set(parentTree, totals);
      heldTrees.hold(parentTree, held);
      return parentTree;
    }
    const next = spliceHeld(held, edits, totals);
    const id = await this.trees.saveEncoded(next.tree.bytes, next.tree.at, (i) => next.tree.name(i));
    this.totalsWritten.set(id, totals);
    const subtrees: Buffer[] = [];
    for (let i = 0; i < next.tree.length; i++) if (next.tree.type(i) === 'dir') subtrees.push(next.tree.subtree(i));
    this.store.index.putListingMemo(id, encodeListingMemo({ fingerprint: printFingerprint(next.print), subtrees, totals }));
    heldTrees.hold(id, next);
    return id;
  }

  /** What a spliced directory holds: the unchanged part, and each entry walked again as now stored. */
  private splicedTotals(plan: SplicePlan, done: readonly TreeEntry[]): SubtreeTotals | null {
    const t = { ...plan.unchanged };
    for (const e of done) {
      if (e.type !== 'dir') { addEntry(t, e); continue; }
      const below = this.subtreeTotals(e.subtree!);
      if (!below) return null;
      addSubtree(t, below);
    }
    return t;
  }

  private memoOf(tree: Buffer): ListingMemo | null {
    return decodeListingMemo(this.store.index.getListingMemo(tree));
  }

  /** A directory that matched no memo: every entry is walked against the parent tree's. */
  private async walkChanged(listing: DirListing, parentTree: Buffer | undefined): Promise<Walked> {
    const parentEntries = parentTree ? await this.loadParent(parentTree, listing.rel) : null;
    const pending: Array<Promise<TreeEntry | null>> = [];
    for (const [l, parent] of withParents(listing.entries(), parentEntries)) {
      const pace = this.paceWalk();
      if (pace) await pace;
      this.attachXattrs(l, parent);
      const w = this.walkEntry(l.path, l.rel, l.meta, parent);
      const walked = w instanceof Promise ? await w : w;
      // A failure to store one entry must not leave the others' promises unobserved.
      walked.done.catch(() => {});
      pending.push(walked.done);
    }
    return { done: this.finishTree(pending, parentTree, parentEntries) };
  }

  /**
   * A directory whose listing matched the parent tree's memo: every non-directory entry is
   * unchanged, so only the subdirectories are walked, each against its memoised tree. This
   * runs synchronously for as long as the subdirectories match their memos too, which on an
   * unchanged tree is all the way down (no promise, no object per entry, no tree read), and
   * then returns the parent's tree id: the subtree is unchanged. From the first subdirectory
   * that needs more it goes on asynchronously (continueMatched) and returns that walk.
   */
  private walkMatched(listing: DirListing, memo: ListingMemo, tree: Buffer): Buffer | Promise<Walked> {
    this.checkAbort();
    const dirs = listing.dirs();
    for (let k = 0; k < dirs.length; k++) {
      if (Date.now() - this.lastYield >= YIELD_MS) {
        // A long synchronous stretch would hold back signals (Ctrl-C), the progress bar and
        // I/O: go on asynchronously after one turn of the event loop.
        const later = new Promise<void>((resume) => setImmediate(resume)).then((): Walked | Promise<Walked> => {
          this.lastYield = Date.now();
          const child = this.walkMatchedChild(listing, dirs[k], memo.subtrees[k]);
          return child instanceof Promise ? child : { done: Promise.resolve(child) };
        });
        return this.continueMatched(listing, memo, tree, dirs, k, later);
      }
      const child = this.walkMatchedChild(listing, dirs[k], memo.subtrees[k]);
      if (child instanceof Promise) return this.continueMatched(listing, memo, tree, dirs, k, child);
      this.stats.dirs++;
    }
    this.countUnchanged(listing);
    return tree;
  }

  /** Subdirectory i of a matched directory: its unchanged tree id, or its walk. */
  private walkMatchedChild(listing: DirListing, i: number, subtree: Buffer): Buffer | Promise<Walked> {
    const path = listing.scan.entryPath(i), rel = childRel(listing.rel, listing.scan.name(i));
    if (this.unchangedSubtree(rel, subtree)) return subtree;
    const child = DirListing.list(path, rel, this.listingRules);
    if (child === null) return Promise.resolve({ done: Promise.resolve(null) });
    const memo = this.memoOf(subtree);
    return memo && matchesMemo(child, memo) ? this.walkMatched(child, memo, subtree) : this.walkChanged(child, subtree);
  }

  /**
   * walkMatched from subdirectory k on, asynchronously (the ones before k came back unchanged).
   * When every subdirectory comes back unchanged the parent tree is still this tree, and it is
   * never read; otherwise it is read now for the chunk lists and xattrs of the unchanged
   * entries, and the tree is written as usual.
   */
  private async continueMatched(listing: DirListing, memo: ListingMemo, tree: Buffer, dirs: number[], k: number, first: Promise<Walked>): Promise<Walked> {
    const subtrees: Array<Promise<Buffer | null>> = memo.subtrees.slice(0, k).map((id) => Promise.resolve(id));
    const counted = (done: Promise<Buffer | null>) => done.then((id) => { if (id) this.stats.dirs++; return id; });
    let next: Buffer | Promise<Walked> = first;
    for (let j = k; j < dirs.length; j++) {
      if (j > k) next = this.walkMatchedChild(listing, dirs[j], memo.subtrees[j]);
      const done: Promise<Buffer | null> = next instanceof Promise ? (await next).done : Promise.resolve(next);
      done.catch(() => {});
      subtrees.push(counted(done));
    }
    return {
      done: Promise.all(subtrees).then(async (ids) => {
        if (ids.every((id, j) => id !== null && id.equals(memo.subtrees[j]))) {
          this.countUnchanged(listing);
          return tree;
        }
        const parentEntries = await this.loadParent(tree, listing.rel);
        const pending: Array<Promise<TreeEntry | null>> = [];
        let d = 0;
        for (const [l, parent] of withParents(listing.entries(), parentEntries)) {
          this.attachXattrs(l, parent);
          if (l.meta.type === 'dir') {
            // Counted above already: built here, not through dirEntry.
            const id = ids[d++];
            const { blocks: _blocks, ...captured } = l.meta;
            pending.push(Promise.resolve(id ? { ...captured, atimeNs: recordedAtime(l.meta), size: 0, subtree: id } : null));
          } else {
            const pace = this.paceWalk();
            if (pace) await pace;
            const w = this.walkEntry(l.path, l.rel, l.meta, parent);
            const walked = w instanceof Promise ? await w : w;
            walked.done.catch(() => {});
            pending.push(walked.done);
          }
        }
        return this.finishTree(pending, tree, parentEntries);
      }),
    };
  }

  /** What walkEntry counts for the entries of a directory reused whole (directories count themselves). */
  private countUnchanged(listing: DirListing): void {
    const scan = listing.scan;
    for (const i of listing.kept) {
      switch (scan.type(i)) {
        case 'dir': break;
        case 'file': {
          const size = scan.rawSize(i);
          this.stats.reusedFiles++;
          this.stats.files++;
          this.stats.bytes += size;
          if (this.opts.progress) { this.opts.progress.files++; this.opts.progress.bytes += size; }
          break;
        }
        case 'symlink': this.stats.symlinks++; break;
        default: this.stats.others++;
      }
    }
  }

  /** loadParent, as stored: entries decoded when asked for (tree-store.ts loadEncodedTree). */
  private async loadParentEncoded(parentTree: Buffer, rel: string): Promise<EncodedTree | null> {
    try {
      return await loadEncodedTree(this.store, parentTree);
    } catch (err) {
      this.opts.onWarn('PARENT_UNREADABLE', `${rel || '.'}: parent tree unreadable (${(err as Error).message}); reading its files`, {});
      return null;
    }
  }

  private async loadParent(parentTree: Buffer, rel: string): Promise<TreeEntry[] | null> {
    try {
      return await loadTree(this.store, parentTree);
    } catch (err) {
      this.opts.onWarn('PARENT_UNREADABLE', `${rel || '.'}: parent tree unreadable (${(err as Error).message}); reading its files`, {});
      return null;
    }
  }

  /**
   * Setting an xattr (or ACL) changes the ctime: with the same inode and ctime as in the parent
   * snapshot, the parent's xattrs are still current and need not be read again. An entry the
   * scan found without xattrs is not asked again either.
   */
  private attachXattrs(l: Listed, parent: TreeEntry | undefined): void {
    if (parent && parent.ino === l.meta.ino && parent.ctimeNs === l.meta.ctimeNs && parent.type === l.meta.type) {
      if (parent.xattrs) l.meta.xattrs = parent.xattrs;
    } else if (l.xattrBytes !== 0) {
      const xattrs = readXattrs(l.path, this.opts.onWarn);
      if (xattrs) l.meta.xattrs = xattrs;
    }
  }

  /**
   * The directory's tree id once its entries are stored; records the tree's listing memo.
   * `totals` works out what the tree holds when the caller knows better than a memo lookup
   * per subdirectory (spliceDir).
   */
  private async finishTree(pending: Array<Promise<TreeEntry | null>>, parentTree: Buffer | undefined, parentEntries: TreeEntry[] | null,
    totals: (entries: readonly TreeEntry[]) => SubtreeTotals | null = (entries) => this.totalsOf(entries)): Promise<Buffer> {
    this.treesInFlight++;
    try {
      const walked = await Promise.all(pending);
      const entries = walked.filter((e): e is TreeEntry => e !== null);
      // Unchanged directory: the encoding would be byte-identical, so the parent's tree id is
      // this tree's id; skip encoding, hashing and the index lookup.
      const id = parentTree && parentEntries && sameEntries(entries, parentEntries) ? parentTree : await this.trees.save(entries);
      const subtrees = entries.filter((e) => e.type === 'dir').map((e) => e.subtree!);
      // A tree that lost entries to errors gets no totals: a snapshot told which directories
      // changed (changedDirs) must list it again, not keep it short for good.
      const held = entries.length === walked.length ? totals(entries) : null;
      if (held) this.totalsWritten.set(id, held);
      this.store.index.putListingMemo(id, encodeListingMemo({ fingerprint: listingFingerprint(entries), subtrees, totals: held }));
      return id;
    } finally {
      this.treesInFlight--;
      if (this.treesInFlight <= TREES_IN_FLIGHT) for (const wake of this.treeWaiters.splice(0)) wake();
    }
  }

  /** What a tree of `entries` holds all the way down; null when a subdirectory's memo does not say. */
  private totalsOf(entries: readonly TreeEntry[]): SubtreeTotals | null {
    const t: SubtreeTotals = { files: 0, dirs: 0, symlinks: 0, others: 0, bytes: 0 };
    for (const e of entries) {
      if (e.type === 'file') { t.files++; t.bytes += e.size; } else if (e.type === 'symlink') t.symlinks++;
      else if (e.type !== 'dir') t.others++;
      else {
        const below = this.subtreeTotals(e.subtree!);
        if (!below) return null;
        t.dirs += 1 + below.dirs; t.files += below.files; t.symlinks += below.symlinks; t.others += below.others; t.bytes += below.bytes;
      }
    }
    return t;
  }

  /**
   * Totals of the trees this run wrote, by the id object its walk returned: their memos are
   * written in batches (store-index.ts putListingMemo), so the index may not have them yet
   * when the parent directory's tree is finished. Weak: kept no longer than the entries are.
   */
  private readonly totalsWritten = new WeakMap<Buffer, SubtreeTotals>();

  /** What a subtree holds, from this run or from its memo; null when neither says. */
  private subtreeTotals(id: Buffer): SubtreeTotals | null {
    return this.totalsWritten.get(id) ?? this.memoOf(id)?.totals ?? null;
  }

  /** Directories walked whose trees are not stored yet: each holds its entries in memory. */
  private treesInFlight = 0;
  private readonly treeWaiters: Array<() => void> = [];
  private walkedSinceYield = 0;
  private lastYield = 0;

  /**
   * Called before each entry the walk starts. Bounds the directories whose trees wait to be
   * stored, and lets I/O callbacks run at least every YIELD_MS. A walk whose files need no reading
   * (empty or unchanged files) otherwise only ever waits on microtasks: the tree saves queued
   * behind the first tree pack's opening (a thread-pool call) then waited for the whole walk,
   * and every directory's entries stayed in memory, 1.3 GiB for 1,000,000 empty files. Waiting
   * for trees already started cannot deadlock: each depends only on entries walked already.
   */
  private paceWalk(): Promise<void> | undefined {
    // Undefined when there is nothing to wait for (nearly always): no promise per entry.
    if (this.treesInFlight > TREES_IN_FLIGHT) return this.paceWalkAsync();
    if (++this.walkedSinceYield < 64) return undefined;
    this.walkedSinceYield = 0;
    if (Date.now() - this.lastYield < YIELD_MS) return undefined;
    return new Promise<void>((resume) => setImmediate(resume)).then(() => { this.lastYield = Date.now(); });
  }

  private async paceWalkAsync(): Promise<void> {
    while (this.treesInFlight > TREES_IN_FLIGHT) await new Promise<void>((wake) => this.treeWaiters.push(wake));
    const pace = this.paceWalk();
    if (pace) await pace;
  }
}

/** True when the listing has the memo's fingerprint and as many subdirectories as it records. */
function matchesMemo(listing: DirListing, memo: ListingMemo): boolean {
  if (listing.dirs().length !== memo.subtrees.length) return false;
  return listing.fingerprint()?.equals(memo.fingerprint) ?? false;
}

