/**
 * Comparing a directory's entries with the parent snapshot's tree of it: pairing them by name,
 * and telling whether the new listing would encode to the parent's bytes (then the parent's
 * tree id is reused without encoding, hashing or an index lookup). Pure: no I/O.
 */
import type { Listed } from './dir-listing.js';
import type { TreeEntry } from './tree-entry.js';

/** Pairs each listed entry with the parent tree's entry of the same name (both in name order). */
export function* withParents(listed: Listed[], parentEntries: TreeEntry[] | null): Generator<[Listed, TreeEntry | undefined]> {
  let p = 0;
  for (const l of listed) {
    let parent: TreeEntry | undefined;
    if (parentEntries) {
      while (p < parentEntries.length && Buffer.compare(parentEntries[p].name, l.meta.name) < 0) p++;
      if (p < parentEntries.length && parentEntries[p].name.equals(l.meta.name)) parent = parentEntries[p];
    }
    yield [l, parent];
  }
}

/** True when two listings would encode to the same bytes (see tree-codec.ts for the fields). */
export function sameEntries(a: TreeEntry[], b: TreeEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (!x.name.equals(y.name) || x.type !== y.type || x.mode !== y.mode || x.uid !== y.uid || x.gid !== y.gid ||
      x.size !== y.size || x.mtimeNs !== y.mtimeNs || x.atimeNs !== y.atimeNs || x.ctimeNs !== y.ctimeNs ||
      x.dev !== y.dev || x.ino !== y.ino || x.nlink !== y.nlink || x.rdev !== y.rdev) return false;
    if (!sameBytes(x.linkTarget, y.linkTarget) || !sameBytes(x.subtree, y.subtree)) return false;
    if ((x.xattrs?.length ?? 0) !== (y.xattrs?.length ?? 0)) return false;
    for (let j = 0; j < (x.xattrs?.length ?? 0); j++) {
      if (x.xattrs![j][0] !== y.xattrs![j][0] || !x.xattrs![j][1].equals(y.xattrs![j][1])) return false;
    }
    if (JSON.stringify(x.segments ?? null) !== JSON.stringify(y.segments ?? null)) return false;
    if (x.chunks !== y.chunks) {
      const cx = x.chunks ?? [], cy = y.chunks ?? [];
      if (cx.length !== cy.length) return false;
      for (let j = 0; j < cx.length; j++) if (cx[j].length !== cy[j].length || !cx[j].id.equals(cy[j].id)) return false;
    }
  }
  return true;
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.equals(b));
}
