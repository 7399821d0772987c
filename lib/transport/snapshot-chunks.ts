/**
 * The chunks a snapshot needs, in pages of ids: what a sender offers the receiver (a push walks
 * its own store; the server walks for a pull's TWalk). Depth first through the trees (the walk
 * of lib/snapshot/tree-walk.ts), each tree once per run: a tree met again (another snapshot of
 * the run, or a directory identical to one already walked) is offered, not walked again.
 *
 * Beside a base snapshot the receiver lists (start's `base`), subtrees and files that are the
 * base's at the same path are not offered at all (base-trees.ts): a push of the next snapshot
 * of a source offers what changed, not every chunk of the source.
 *
 * Memory: the ids of the trees walked in the run (one per distinct directory), one page, and a
 * bounded set of recently offered chunk ids (RECENT_IDS) that keeps a chunk repeated close by
 * (copies of a file) out of the next pages. A chunk repeated further away is offered again;
 * the receiver says it has it by then, or stores it once (its writer skips a chunk it holds).
 */
import { CHUNK_DATA, CHUNK_TREE, type Store } from '../store/index.js';
import { BaseTrees } from '../snapshot/base-trees.js';
import { END, ENTRY, TREE, TreeCursor } from '../snapshot/tree-walk.js';
import type { WalkEntry } from './wire-messages.js';
import { MAX_BATCH_IDS } from './wire-layout.js';

const RECENT_IDS = 1 << 16;

export class SnapshotChunks {
  private readonly walkedTrees = new Set<string>();
  private recent = new Set<string>();
  private walk: TreeCursor | null = null;
  private base: BaseTrees | null = null;
  private page: WalkEntry[] = [];
  /** Files the walk has passed (progress). */
  files = 0;

  constructor(private readonly store: Store, private readonly signal?: AbortSignal) {}

  /**
   * Starts the walk of another snapshot (its root tree id); the trees walked so far stay known.
   * `base`: the root tree of a snapshot the receiver holds whole (one it lists).
   */
  start(rootTree: Buffer, base?: Buffer): void {
    this.walk = new TreeCursor(this.store, rootTree, { signal: this.signal });
    this.base = base ? new BaseTrees(this.store, base) : null;
    this.page = [];
  }

  /** The next page of at most `max` entries; `last` when the walk is done. */
  async next(max = MAX_BATCH_IDS): Promise<{ last: boolean; entries: WalkEntry[] }> {
    while (this.walk && this.page.length < max) {
      const walk = this.walk;
      const s = walk.step();
      if (s === END) {
        this.walk = null;
      } else if (s === TREE) {
        const key = walk.treeId.toString('latin1');
        if (this.base?.sameTree(walk)) { walk.skip(); continue; }
        this.offer(walk.treeId, CHUNK_TREE);
        if (this.walkedTrees.has(key)) { walk.skip(); continue; }
        this.walkedTrees.add(key);
        await walk.load();
        await this.base?.entered(walk);
        for (const p of walk.parts) this.offer(p.id as Buffer, CHUNK_TREE);
      } else if (s === ENTRY && walk.entry.type === 'file') {
        this.files++;
        if (this.base?.sameFile(walk)) continue;
        for (const c of walk.entry.chunks ?? []) this.offer(c.id, CHUNK_DATA);
      }
    }
    // A page can overshoot `max` by one file's chunks (held by its tree anyway): the rest
    // waits for the next page.
    const entries = this.page.slice(0, max);
    this.page = this.page.slice(max);
    return { last: this.walk === null && this.page.length === 0, entries };
  }

  private offer(id: Buffer, type: number): void {
    const key = id.toString('latin1');
    if (this.recent.has(key)) return;
    if (this.recent.size >= RECENT_IDS) this.recent = new Set();
    this.recent.add(key);
    this.page.push({ id, type });
  }
}
