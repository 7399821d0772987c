/**
 * A walk beside a base snapshot: one the receiving side of a transfer is known to hold whole.
 * A snapshot a store lists had every tree and chunk it reaches checked present when it was
 * written (ChunkReceiver.commit, FXAR import), and gc never takes a chunk a listed snapshot
 * reaches, so the receiver holds all of a listed snapshot. Beside it, a walk of another
 * snapshot (the next one of the same source, mostly the same) can leave out:
 * - a directory whose tree id is the base's tree at the same path (the whole subtree);
 * - a file whose chunk list is that of the base's file at the same path.
 *
 * What it does not prove: a chunk the base holds at another path (a moved file) is still
 * offered; the receiver's "have" answer takes care of that as before.
 *
 * Aligned with a TreeCursor by names, level by level: the base's tree of the directory the
 * cursor is in, read when the cursor enters it (one tree load per changed directory), and an
 * index into it that only moves forward, because trees and the walk are in name-byte order.
 * Memory: one decoded base tree per level of the current path, as the cursor itself holds.
 */
import type { TreeEntry } from './tree-entry.js';
import { loadTreeWithParts } from './tree-store.js';
import type { TreeCursor, TreeSource } from './tree-walk.js';

interface Level { entries: readonly TreeEntry[]; i: number }

export class BaseTrees {
  private readonly levels: Array<Level | null> = [];
  /** The base's tree at the path of the tree announced by the last TREE step (null: none). */
  private counterpart: Buffer | null = null;
  /** Trees and files left out because the base holds them (for tests and stats). */
  readonly skipped = { trees: 0, files: 0 };

  constructor(private readonly source: TreeSource, private readonly baseRoot: Buffer) {}

  /** At a TREE step: true when the tree is the base's tree at this path; then skip it. */
  sameTree(c: TreeCursor): boolean {
    if (c.depth === 0) {
      this.counterpart = this.baseRoot;
    } else {
      const b = this.find(c.depth - 1, c.entry.name);
      this.counterpart = b?.type === 'dir' && b.subtree ? b.subtree : null;
    }
    const same = this.counterpart !== null && this.counterpart.equals(c.treeId);
    if (same) this.skipped.trees++;
    return same;
  }

  /** Right after the cursor loaded the tree its last TREE step announced: reads the base's. */
  async entered(c: TreeCursor): Promise<void> {
    const id = this.counterpart;
    this.counterpart = null;
    this.levels.length = c.depth - 1;
    this.levels.push(id ? { entries: (await loadTreeWithParts(this.source, id)).entries, i: 0 } : null);
  }

  /** At an ENTRY step of a file: true when the base's file at this path has the same chunks. */
  sameFile(c: TreeCursor): boolean {
    const b = this.find(c.depth - 1, c.entry.name);
    const mine = c.entry.chunks ?? [];
    const theirs = b?.type === 'file' ? b.chunks ?? [] : null;
    if (theirs === null || theirs.length !== mine.length) return false;
    for (let i = 0; i < mine.length; i++) if (!mine[i]!.id.equals(theirs[i]!.id)) return false;
    this.skipped.files++;
    return true;
  }

  private find(level: number, name: Buffer): TreeEntry | undefined {
    const l = this.levels[level];
    if (!l) return undefined;
    while (l.i < l.entries.length && Buffer.compare(l.entries[l.i]!.name, name) < 0) l.i++;
    const e = l.entries[l.i];
    return e !== undefined && e.name.equals(name) ? e : undefined;
  }
}
