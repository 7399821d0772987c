/**
 * Where each source of `fxcp SRC... DEST` goes, by rsync's rules (pure: the caller says what
 * exists). Sources and DEST are raw path bytes, as given on the command line.
 *
 * - A source with a trailing '/' (or one ending in '/.', or '.' itself) that is a directory
 *   copies its contents into the target directory; without it the directory itself is copied,
 *   under its own name, into DEST.
 * - Several sources: DEST is a directory (made when missing); each goes into it.
 * - One source that is not a directory: into DEST when DEST is a directory or is written with
 *   a trailing '/'; otherwise DEST is the copy's own name (a file there is replaced).
 * - One directory without a trailing '/' goes into DEST as `DEST/NAME`, DEST made when missing
 *   (rsync, not cp: `cp -a dir new` would make `new` the copy).
 *
 * Refused, before anything is written (UsageError): a source that is DEST's copy target itself
 * or lies inside it (the copy would write over its own source, and --delete could remove it);
 * a target inside the source (the copy would copy itself, forever); several sources into a DEST
 * that is not a directory; a directory onto a file. Paths are compared after the caller
 * resolves them (realpath of what exists), so '..' and symlinked parents do not hide a loop.
 */
import { UsageError } from '../errors/index.js';
import { displayPath, joinPath, relPath, splitPath } from '../fs/fs-path.js';

const SLASH = 0x2f;
const DOT = 0x2e;

export type PathKind = 'dir' | 'other' | null;

export interface Transfer {
  /** The source as given, without trailing slashes ('/' stays '/'). */
  source: Buffer;
  /** Whether the source is a directory. */
  isDir: boolean;
  /** Contents only (a directory given with a trailing '/'): its entries go into `target`. */
  contents: boolean;
  /** The path the source itself becomes: a directory's copy, or a file's new path. */
  target: Buffer;
  /**
   * The name the filter rules see at the top of the transfer: a directory copied by name is
   * '/NAME' to an anchored rule, as in rsync; null when its contents are copied (paths start
   * below it) or for a single file.
   */
  topName: Buffer | null;
}

export interface CopyPlan {
  /** The directory every target lies in (made when missing); for a file copied to a new name, its parent. */
  root: Buffer;
  /** Whether `root` must be made first. */
  makeRoot: boolean;
  transfers: Transfer[];
}

/** Lookups the plan needs: what a path is (not following a final symlink for sources), and its real path. */
export interface PathFacts {
  /** What is at `p`: a directory (following symlinks, as rsync treats a DEST symlink to a dir), something else, or nothing. */
  kind(p: Buffer, follow: boolean): PathKind;
  /** The canonical path of `p` (its existing part resolved, the rest appended), for the overlap checks. */
  real(p: Buffer): Buffer;
}

function endsWithSlash(p: Buffer): boolean {
  return p.length > 1 && p[p.length - 1] === SLASH;
}

/** '.', 'x/.' and 'x/' name a directory's contents. */
function namesContents(p: Buffer): boolean {
  if (endsWithSlash(p)) return true;
  if (p.length === 1 && p[0] === DOT) return true;
  return p.length >= 2 && p[p.length - 1] === DOT && p[p.length - 2] === SLASH;
}

function trimSlashes(p: Buffer): Buffer {
  let end = p.length;
  while (end > 1 && p[end - 1] === SLASH) end--;
  return p.subarray(0, end);
}

export function planCopy(sources: readonly Buffer[], dest: Buffer, facts: PathFacts): CopyPlan {
  if (sources.length === 0) throw new UsageError('missing SRC');
  const destKind = facts.kind(dest, true);
  const destIsDirName = endsWithSlash(dest);
  const transfers: Transfer[] = [];
  const kinds = sources.map((s) => {
    const k = facts.kind(s, false);
    if (k === null) throw new UsageError(`${displayPath(s)}: no such file or directory`, { path: displayPath(s) });
    return k;
  });
  const intoDir = sources.length > 1 || destKind === 'dir' || destIsDirName || kinds[0] === 'dir';
  if (intoDir && destKind === 'other') {
    throw new UsageError(`${displayPath(dest)}: the destination is a file, not a directory`, { path: displayPath(dest) });
  }
  const root = trimSlashes(dest);
  sources.forEach((s, i) => {
    const isDir = kinds[i] === 'dir';
    const contents = isDir && namesContents(s);
    const source = trimSlashes(s);
    let target: Buffer;
    if (!intoDir) target = root;
    else if (contents) target = root;
    else target = joinPath(root, splitPath(source)[1]);
    transfers.push({ source, isDir, contents, target, topName: isDir && !contents ? splitPath(source)[1] : null });
  });
  for (const t of transfers) checkOverlap(t, facts);
  if (intoDir) return { root, makeRoot: destKind === null, transfers };
  // A file to a new name: written inside its parent ('./NAME' for a bare NAME, so that it lies
  // strictly inside the directory that holds it).
  const [parent, name] = splitPath(root);
  transfers[0].target = joinPath(parent, name);
  return { root: parent, makeRoot: false, transfers };
}

/** Refuses a transfer whose target is its source, lies inside it, or holds it. */
function checkOverlap(t: Transfer, facts: PathFacts): void {
  const src = facts.real(t.source);
  const target = facts.real(t.target);
  const shownSrc = displayPath(t.source), shownTarget = displayPath(t.target);
  if (relPath(src, target) !== null && t.isDir) {
    throw new UsageError(`${shownSrc}: refused: the destination ${shownTarget} is ${src.equals(target) ? 'the source itself' : 'inside the source'}`,
      { path: shownSrc, destination: shownTarget });
  }
  if (relPath(target, src) !== null && (t.isDir || !src.equals(target))) {
    throw new UsageError(`${shownSrc}: refused: the source lies inside the destination ${shownTarget}`, { path: shownSrc, destination: shownTarget });
  }
  if (src.equals(target)) throw new UsageError(`${shownSrc}: refused: the source and the destination are the same file`, { path: shownSrc });
}

/** An entry's path as rsync shows it: its directory's (`dir`, '' at the top) and its name. */
export function shownPath(dir: string, name: Buffer): string {
  return dir ? `${dir}/${name.toString('utf8')}` : name.toString('utf8');
}
