/**
 * What differs between a source entry and the destination entry of the same name, pure: the
 * quick check (rsync's: same size and modification time, here to the nanosecond) and each
 * attribute a copy keeps. The engine reads both entries; this decides.
 *
 * What is compared follows what is kept: under -a the mode, owner and group (as root), the
 * modification time and the xattrs (ACLs apart, as rsync's itemize shows them); under -r alone
 * only the data, so a re-run without -a compares sizes and times but never touches attributes.
 * Access times are neither compared nor kept on existing entries (rsync without --atimes).
 */
import type { FileMeta } from '../fs/file-meta.js';
import type { Changes } from './itemize.js';

export interface KeepAttributes {
  /** Mode bits (-a). */
  perms: boolean;
  /** Modification times (-a). */
  times: boolean;
  /** Owner and group: -a as root only (a user cannot give files away). */
  owner: boolean;
  /** Extended attributes and ACLs (-a). */
  xattrs: boolean;
}

const ACL_PREFIX = 'system.posix_acl_';

/** The quick check: the destination's data is taken as the source's when size and mtime (ns) match. */
export function sameByQuickCheck(src: Pick<FileMeta, 'size' | 'mtimeNs'>, dst: Pick<FileMeta, 'size' | 'mtimeNs'>): boolean {
  return src.size === dst.size && src.mtimeNs === dst.mtimeNs;
}

/** The attribute changes (not the data) from `dst` to `src` under `keep`. */
export function attributeChanges(src: FileMeta, dst: FileMeta, keep: KeepAttributes): Changes {
  const c: Changes = {};
  if (keep.perms && src.type !== 'symlink' && (src.mode & 0o7777) !== (dst.mode & 0o7777)) c.perms = true;
  if (keep.owner && src.uid !== dst.uid) c.owner = true;
  if (keep.owner && src.gid !== dst.gid) c.group = true;
  if (keep.times && src.mtimeNs !== dst.mtimeNs) c.time = true;
  if (keep.xattrs) {
    if (!sameXattrs(src.xattrs, dst.xattrs, true)) c.acl = true;
    if (!sameXattrs(src.xattrs, dst.xattrs, false)) c.xattrs = true;
  }
  return c;
}

/** True when `c` names any change. */
export function anyChange(c: Changes): boolean {
  return Object.values(c).some(Boolean);
}

/** The ACL xattrs (`acls`) or the others of two sorted lists are the same names and values. */
function sameXattrs(a: FileMeta['xattrs'], b: FileMeta['xattrs'], acls: boolean): boolean {
  const pick = (l: FileMeta['xattrs']) => (l ?? []).filter(([n]) => n.startsWith(ACL_PREFIX) === acls);
  const x = pick(a), y = pick(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i][0] !== y[i][0] || !x[i][1].equals(y[i][1])) return false;
  return true;
}
