/**
 * `-c/--checksum`: whether two files hold the same bytes, by BLAKE3 of each whole file (never a
 * sample: a change in the middle of a file with the same size and time is found). Read in
 * blocks, so memory stays one block per file whatever their size.
 */
import { closeSync, readSync } from 'node:fs';
import { blake3 } from '../hash/blake3.js';
import { fsError } from '../fs/fs-error.js';
import { openForRead } from '../fs/open-read.js';

const BLOCK_BYTES = 1 << 20;

/** BLAKE3-256 of the file at `path` (not followed if a symlink). */
export function fileDigest(path: Buffer, block: Buffer = Buffer.allocUnsafe(BLOCK_BYTES)): Buffer {
  const fd = openForRead(path);
  try {
    const h = blake3().hasher();
    for (;;) {
      const n = readSync(fd, block, 0, block.length, null);
      if (n === 0) return h.digest();
      h.update(block.subarray(0, n));
    }
  } catch (err) {
    throw fsError(err, 'read', path, 'read');
  } finally {
    closeSync(fd);
  }
}

/** True when both files hash the same (the caller has compared their sizes first). */
export function sameContent(a: Buffer, b: Buffer): boolean {
  const block = Buffer.allocUnsafe(BLOCK_BYTES);
  return fileDigest(a, block).equals(fileDigest(b, block));
}
