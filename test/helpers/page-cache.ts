/**
 * A file's pages in and out of the page cache, for tests of cold reads: `dd iflag=nocache`
 * (posix_fadvise DONTNEED, after an fsync so the pages are clean) and `fincore` (util-linux).
 * On a file system whose pages cannot be dropped (tmpfs) dropCached says so, and the caller skips.
 */
import { execFileSync } from 'node:child_process';
import { fsyncSync, closeSync, openSync } from 'node:fs';

/** Bytes of `path` in the page cache now. */
export function residentBytes(path: string): number {
  return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--raw', '-o', 'RES', path], { encoding: 'utf8' }).trim());
}

/** Drops `path`'s pages from the page cache; false when some stayed (tmpfs, or dd/fincore missing). */
export function dropCached(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
    execFileSync('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none']);
    return residentBytes(path) === 0;
  } catch {
    return false;
  }
}
