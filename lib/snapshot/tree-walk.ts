/**
 * Walking the trees of a snapshot for the chunk ids they reference: gc's mark phase and
 * check's reachability pass. Iterative (a deep tree cannot overflow the stack); the stack
 * holds the pending subtrees of the directories on the current path, not the whole tree.
 *
 * The visitor decides whether a tree is entered: gc enters each tree id once across all
 * snapshots (snapshots share most of their trees), check's file-naming pass enters all.
 */
import type { Store } from '../store/chunk-store.js';
import { loadTreeWithParts } from './tree-store.js';
import { abortPoint } from '../errors/index.js';

export interface TreeVisitor {
  /** Called before a tree is loaded; return false to skip it (and everything below it). */
  enterTree(id: Buffer, path: string): boolean;
  /** A chunk the snapshot needs: a data chunk of file `path`, or a part of a large tree. */
  chunk(id: Buffer, path: string, kind: 'data' | 'tree-part'): void;
  /** A tree that cannot be loaded or decoded. Without this handler the walk throws. */
  treeError?(id: Buffer, path: string, err: unknown): void;
}

/** Walks the tree `root` (a snapshot's root tree). Paths are relative to the snapshot root. */
export async function walkTree(store: Store, root: Buffer, v: TreeVisitor, signal?: AbortSignal): Promise<void> {
  const stack: Array<{ id: Buffer; path: string }> = [{ id: root, path: '' }];
  while (stack.length > 0) {
    await abortPoint(signal);
    const { id, path } = stack.pop()!;
    if (!v.enterTree(id, path)) continue;
    let entries;
    try {
      const tree = await loadTreeWithParts(store, id);
      for (const p of tree.parts) v.chunk(p.id as Buffer, path, 'tree-part');
      entries = tree.entries;
    } catch (err) {
      if (!v.treeError) throw err;
      v.treeError(id, path, err);
      continue;
    }
    for (const e of entries) {
      // The root tree holds one entry, the source itself; its name is not part of paths.
      const name = e.name.toString('utf8');
      const p = path === '' && id === root ? '' : path === '' ? name : `${path}/${name}`;
      if (e.type === 'file') for (const c of e.chunks ?? []) v.chunk(c.id, p || name, 'data');
      else if (e.type === 'dir' && e.subtree) stack.push({ id: e.subtree, path: p });
    }
  }
}
