/**
 * The one walk of a snapshot's trees. Restore, its plan, export (archive and tar), import's
 * completeness check, archive inspection, diff's whole-subtree side, gc and check all walk
 * with it, so the root-entry rule and path joining live here alone.
 *
 * Root-entry rule: a snapshot's root tree holds one entry, the source itself. A directory source
 * has the walk's prefix as its path (its name is not part of paths: its children are
 * `prefix/name`); any other source is `prefix/name`.
 *
 * Paths are raw bytes joined with '/' (lib/fs/fs-path.ts joinPath), never decoded: a name that
 * is not UTF-8 reaches the consumer exactly; only messages and output turn paths into text.
 *
 * Order: depth first, entries of one tree in name-byte order, a directory's entry before its
 * children and its `LEAVE` after them (restore applies directory metadata there).
 *
 * Memory: one decoded tree per level of the current path (a frame and an index into it), never
 * a list of the whole snapshot. Depth costs no stack: the walk is a loop.
 *
 * Cost: `TreeCursor.step` is synchronous and allocates one path per entry (the join); the only
 * awaits are tree loads (one per directory) and what the consumer awaits itself, so a hot walk
 * (restore, export) pays no extra await per entry. Consumers with their own pacing drive the
 * cursor; the others pass hooks to `walkTrees`.
 */
import { joinPath } from '../fs/fs-path.js';
import type { Store } from '../store/index.js';
import type { ChunkSource } from './chunk-source.js';
import type { ChunkRef, TreeEntry } from './tree-entry.js';
import { loadTreeWithParts } from './tree-store.js';
import { abortPoint, throwIfAborted } from '../errors/index.js';

/** Where trees are loaded from: a store or an archive (both verify every chunk against its id). */
export type TreeSource = Pick<ChunkSource, 'loadChunkPreferSync'>;

/** What `TreeCursor.step` reached. */
export const END = 0;
/** A tree is to be loaded (`treeId`, the directory's `path`): call `load()` or `skip()` next. */
export const TREE = 1;
/** An entry (`entry`, `path`). For a directory, `skip()` now keeps the walk out of it. */
export const ENTRY = 2;
/** A directory whose tree has been walked (`entry`, `path`): after all its children. */
export const LEAVE = 3;
export type Step = typeof END | typeof TREE | typeof ENTRY | typeof LEAVE;

export interface WalkOptions {
  /** Prepended to every path (restore: the target directory). Empty by default. */
  prefix?: Buffer;
  /** The root is the tree of the directory at `prefix`, not a snapshot's root tree: no root-entry rule. */
  directory?: boolean;
  /** Checked before each tree is loaded: an abort throws AbortedError. */
  signal?: AbortSignal;
  /** Loads a tree's entries in place of the source (restore takes the plan's cached trees); `parts` stays empty. */
  load?: (id: Buffer) => Promise<readonly TreeEntry[]>;
  /** The entries of a directory's tree to walk (restore --file: the named ones); not applied to the root tree. */
  narrow?: (entries: readonly TreeEntry[], path: Buffer) => readonly TreeEntry[];
}

interface Frame { entries: readonly TreeEntry[]; i: number; dir: TreeEntry | null; path: Buffer }

const NO_PARTS: readonly ChunkRef[] = [];

export class TreeCursor {
  /** ENTRY, LEAVE: the entry. */
  entry!: TreeEntry;
  /** ENTRY, LEAVE: the entry's path; TREE: the path of the directory whose tree it is. */
  path: Buffer;
  /** TREE: the id of the tree to load. */
  treeId: Buffer;
  /** After `load()`: the part chunks of a tree stored as an index plus parts (else empty). */
  parts: readonly ChunkRef[] = NO_PARTS;
  private readonly frames: Frame[] = [];
  private readonly prefix: Buffer;
  /** The tree announced by the last TREE step, until loaded or skipped. */
  private pending: { id: Buffer; dir: TreeEntry | null; path: Buffer } | null;
  /** The last ENTRY was a directory the walk will enter unless skipped. */
  private descend = false;
  /** Whether the first tree is a snapshot's root tree (the root-entry rule applies to it). */
  private readonly sourceRule: boolean;

  constructor(private readonly source: TreeSource, root: Buffer, private readonly opts: WalkOptions = {}) {
    this.prefix = opts.prefix ?? Buffer.alloc(0);
    this.path = this.prefix;
    this.treeId = root;
    this.pending = { id: root, dir: null, path: this.prefix };
    this.sourceRule = !opts.directory;
  }

  /** Levels of trees open: 1 while in the root tree, 2 in the source directory's, ... */
  get depth(): number { return this.frames.length; }

  step(): Step {
    if (this.descend) {
      this.descend = false;
      this.pending = { id: this.entry.subtree!, dir: this.entry, path: this.path };
    }
    if (this.pending) {
      throwIfAborted(this.opts.signal);
      this.treeId = this.pending.id;
      this.path = this.pending.path;
      return TREE;
    }
    for (;;) {
      const f = this.frames[this.frames.length - 1];
      if (!f) return END;
      if (f.i < f.entries.length) {
        const e = f.entries[f.i++];
        this.entry = e;
        // The root-entry rule: a directory source is the prefix itself.
        this.path = f.dir === null && e.type === 'dir' && this.sourceRule ? f.path : joinPath(f.path, e.name);
        this.descend = e.type === 'dir' && e.subtree !== undefined;
        return ENTRY;
      }
      this.frames.pop();
      if (f.dir) {
        this.entry = f.dir;
        this.path = f.path;
        return LEAVE;
      }
    }
  }

  /** After TREE: walk into the tree. A load that throws leaves the tree out (the walk can go on). */
  async load(): Promise<void> {
    // Tree reads are synchronous when cached: let the loop turn now and then, or a SIGINT is
    // never delivered to the signal (lib/errors/abort.ts).
    const turn = abortPoint(this.opts.signal);
    if (turn) await turn;
    const p = this.takePending();
    let entries: readonly TreeEntry[];
    if (this.opts.load) {
      entries = await this.opts.load(p.id);
      this.parts = NO_PARTS;
    } else {
      const tree = await loadTreeWithParts(this.source, p.id);
      entries = tree.entries;
      this.parts = tree.parts;
    }
    if (p.dir && this.opts.narrow) entries = this.opts.narrow(entries, p.path);
    this.frames.push({ entries, i: 0, dir: p.dir, path: p.path });
  }

  /** After TREE: leave the tree out. After ENTRY of a directory: do not enter it (no TREE, no LEAVE). */
  skip(): void {
    this.descend = false;
    this.pending = null;
  }

  private takePending(): NonNullable<TreeCursor['pending']> {
    const p = this.pending;
    if (!p) throw new Error('TreeCursor.load called without a TREE step');
    this.pending = null;
    return p;
  }
}

export interface WalkHooks {
  /** Before a tree is loaded (the root tree first, with the prefix as path); false leaves it and everything below out. */
  tree?(id: Buffer, path: Buffer): boolean;
  /** After a tree is loaded, before its entries: its part chunks (empty for a one-chunk tree). */
  loaded?(id: Buffer, parts: readonly ChunkRef[], path: Buffer): void | Promise<void>;
  /** Every entry in walk order; false for a directory keeps the walk out of it. */
  entry?(e: TreeEntry, path: Buffer): boolean | void | Promise<boolean | void>;
  /** A directory after its children (not for one the walk kept out of). */
  leave?(e: TreeEntry, path: Buffer): void | Promise<void>;
  /** A tree that cannot be loaded or decoded; its subtree is left out. Without this the walk throws. */
  treeError?(err: unknown, id: Buffer, path: Buffer): void;
}

/** Walks the trees below `root` (a snapshot's root tree id), calling the hooks. */
export async function walkTrees(source: TreeSource, root: Buffer, hooks: WalkHooks, opts: WalkOptions = {}): Promise<void> {
  const c = new TreeCursor(source, root, opts);
  for (let s = c.step(); s !== END; s = c.step()) {
    if (s === TREE) {
      if (hooks.tree && !hooks.tree(c.treeId, c.path)) { c.skip(); continue; }
      try {
        await c.load();
      } catch (err) {
        if (!hooks.treeError) throw err;
        hooks.treeError(err, c.treeId, c.path);
        continue;
      }
      if (hooks.loaded) {
        const r = hooks.loaded(c.treeId, c.parts, c.path);
        if (r) await r;
      }
    } else if (s === ENTRY) {
      if (!hooks.entry) continue;
      let r = hooks.entry(c.entry, c.path);
      if (r && typeof r === 'object') r = await r;
      if (r === false) c.skip();
    } else if (hooks.leave) {
      const r = hooks.leave(c.entry, c.path);
      if (r) await r;
    }
  }
}

export interface TreeVisitor {
  /** Called before a tree is loaded; return false to skip it (and everything below it). */
  enterTree(id: Buffer, path: string): boolean;
  /** A chunk the snapshot needs: a data chunk of file `path`, or a part of a large tree. */
  chunk(id: Buffer, path: string, kind: 'data' | 'tree-part'): void;
  /** A tree that cannot be loaded or decoded. Without this handler the walk throws. */
  treeError?(id: Buffer, path: string, err: unknown): void;
}

/**
 * The chunk ids a snapshot references: gc's mark phase and check's reachability pass. The
 * visitor decides whether a tree is entered: gc enters each tree id once across all snapshots
 * (snapshots share most of their trees), check's file-naming pass enters all. Paths are text
 * here (they go into messages), decoded once per tree and per file with chunks.
 */
export async function walkTree(store: Store, root: Buffer, v: TreeVisitor, signal?: AbortSignal): Promise<void> {
  await walkTrees(store, root, {
    tree(id, path) {
      return v.enterTree(id, path.toString('utf8'));
    },
    loaded(id, parts, path) {
      if (parts.length === 0) return;
      const p = path.toString('utf8');
      for (const part of parts) v.chunk(part.id as Buffer, p, 'tree-part');
    },
    entry(e, path) {
      if (e.type === 'file' && e.chunks && e.chunks.length > 0) {
        const p = path.toString('utf8');
        for (const c of e.chunks) v.chunk(c.id, p, 'data');
      }
    },
    treeError: v.treeError && ((err, id, path) => v.treeError!(id, path.toString('utf8'), err)),
  }, { signal });
}
