/**
 * `mkdir -p` that always ends.
 *
 * Node's own recursive mkdir (fs.mkdir with `recursive: true`, Node 20) steps back to the
 * parent on ENOENT and forward again once the parent exists, with no check that the retry can
 * do better. Where a parent exists but cannot hold the child, it never ends: under /proc
 * (mkdir of any new name there fails with ENOENT) or below a dangling symlink, it spins at
 * 100 % CPU for ever, in the thread pool for the async form and on the event loop for the
 * sync form, where not even a signal gets handled (`fxcp snap create SRC /proc/self/st`).
 *
 * Here the walk up (ENOENT: try the parent) ends at the root, and the walk down tries each
 * missing directory once: an error there, ENOENT included, is the answer and is thrown as
 * mkdir gave it (path, errno). So the calls are bounded by twice the path's depth.
 */
import { mkdirSync, promises as fsp, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Creates `path` and its missing parents; returns the first directory it created (the top of
 * what is new, for a caller that may remove it again), or undefined when `path` existed.
 */
export function makeDirsSync(path: string): string | undefined {
  const missing: string[] = [];
  let top: string | undefined;
  for (let at = resolve(path); top === undefined;) {
    try {
      mkdirSync(at);
      top = at;
    } catch (err) {
      if (existsAsDir(err, at)) break;
      at = climb(err, at, missing);
    }
  }
  for (const dir of missing.reverse()) {
    try { mkdirSync(dir); } catch (err) { if (!existsAsDir(err, dir)) throw err; }
    top ??= dir;
  }
  return top;
}

/** makeDirsSync through the thread pool. */
export async function makeDirs(path: string): Promise<string | undefined> {
  const missing: string[] = [];
  let top: string | undefined;
  for (let at = resolve(path); top === undefined;) {
    try {
      await fsp.mkdir(at);
      top = at;
    } catch (err) {
      if (existsAsDir(err, at)) break;
      at = climb(err, at, missing);
    }
  }
  for (const dir of missing.reverse()) {
    try { await fsp.mkdir(dir); } catch (err) { if (!existsAsDir(err, dir)) throw err; }
    top ??= dir;
  }
  return top;
}

/**
 * After mkdir(at) failed other than on an existing directory: on ENOENT (a missing parent)
 * records `at` as missing and returns its parent to try next; anything else, or ENOENT at the
 * root, is thrown.
 */
function climb(err: unknown, at: string, missing: string[]): string {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(at) === at) throw err;
  missing.push(at);
  return dirname(at);
}

/** True when mkdir failed only because `dir` is already a directory (or another process just made it). */
function existsAsDir(err: unknown, dir: string): boolean {
  return (err as NodeJS.ErrnoException).code === 'EEXIST' && statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true;
}
