/**
 * What a Foxing manifest entry becomes in our model: a TreeEntry with the metadata the format
 * keeps (permission bits, owner, mtime in whole seconds, size, `user.foxing*` xattrs), and the
 * implied directories it lacks. Pure.
 *
 * What the format does not keep, and so no import or restore can bring back: directories
 * (their modes, owners and times: implied here as 0755, the importing user, and the newest mtime
 * of the snapshot's files, as a tar import implies missing directories), symlinks, special
 * files, hard links (each was stored as its own file), sub-second times, atime and ctime (set to
 * the mtime), ACLs and xattrs other than `user.foxing*`.
 */
import type { EntryMeta } from '../../fs/materialize.js';
import type { TreeEntry } from '../../snapshot/tree-entry.js';
import type { FoxingFile } from './foxing-manifest.js';
import type { FoxingSnapshot } from './foxing-paths.js';

const NS = 1_000_000_000n;

/** A file's metadata (no chunks, no subtree): `ino` numbers it within its snapshot. */
export function fileMeta(f: FoxingFile, name: string, ino: number): EntryMeta {
  const t = BigInt(f.mtime) * NS;
  const meta: EntryMeta = {
    name: Buffer.from(name, 'utf8'), type: 'file', mode: f.mode & 0o7777, uid: f.uid, gid: f.gid, size: f.size,
    atimeNs: t, mtimeNs: t, ctimeNs: t, dev: 0n, ino: BigInt(ino), nlink: 1, rdev: 0,
  };
  if (f.xattrs.length > 0) meta.xattrs = f.xattrs;
  return meta;
}

/** The newest mtime of a snapshot's files (its implied directories' time), in ns. */
export function newestMtimeNs(s: FoxingSnapshot): bigint {
  let t = 0;
  for (const e of s.entries) if (e.file.mtime > t) t = e.file.mtime;
  return BigInt(t) * NS;
}

/** An implied directory: 0755, the running user, the snapshot's newest mtime. */
export function impliedDir(name: string, timeNs: bigint): TreeEntry {
  return {
    name: Buffer.from(name, 'utf8'), type: 'dir', mode: 0o755, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, size: 0,
    atimeNs: timeNs, mtimeNs: timeNs, ctimeNs: timeNs, dev: 0n, ino: 0n, nlink: 1, rdev: 0,
  };
}

/** Whether `a` (components) is a proper ancestor directory of `b`, or `b` itself when `orSelf`. */
export function isUnder(dir: readonly string[], parts: readonly string[], orSelf = false): boolean {
  if (dir.length > parts.length || (!orSelf && dir.length === parts.length)) return false;
  for (let i = 0; i < dir.length; i++) if (dir[i] !== parts[i]) return false;
  return true;
}
