/**
 * The signature of a file as it is on disk: one sequential read, cut by the store's chunker,
 * each chunk and the whole content hashed with BLAKE3 (formats/signatures.md §2). Its identity
 * and times are those fstat gives once the read is done; a file that changed while it was read
 * (size, mtime or ctime moved) gets no signature (CHANGED): a record must never describe content
 * the file no longer has.
 *
 * Memory: one read buffer (READ_BYTES) and the chunker's carry (at most one chunk, `max`).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { DEFAULT_CHUNKER_PARAMS, type ChunkerParams, createChunker } from '../chunker/index.js';
import { ToolkitError } from '../errors/index.js';
import { fsError } from '../fs/fs-error.js';
import { blake3 } from '../hash/blake3.js';
import { CHUNKS_MAX, type ChunkRef, type Signature } from './signature-codec.js';

const READ_BYTES = 1 << 20;

/** Signs the regular file at `path` (never following a symlink). */
export function signFile(path: Buffer | string, params: ChunkerParams = DEFAULT_CHUNKER_PARAMS): Signature {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    throw fsError(err, 'read', path, 'open');
  }
  try {
    const before = fstatSync(fd, { bigint: true });
    if (!before.isFile()) throw new ToolkitError('CHANGED', 'not a regular file; no signature');
    const chunker = createChunker(params);
    const h = blake3();
    const whole = h.hasher();
    let chunks: ChunkRef[] | null = [];
    const buf = Buffer.allocUnsafe(READ_BYTES);
    let carry: Buffer = Buffer.alloc(0);
    let size = 0;
    const cut = (data: Buffer, final: boolean): Buffer => {
      let at = 0;
      for (const len of Array.from(chunker.cutLengths(data, final))) {
        if (chunks !== null) chunks.push({ length: len, id: h.hash(data.subarray(at, at + len)) });
        if (chunks !== null && chunks.length > CHUNKS_MAX) chunks = null;
        at += len;
      }
      return data.subarray(at);
    };
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, READ_BYTES, size);
      } catch (err) {
        throw fsError(err, 'read', path, 'read');
      }
      if (n === 0) break;
      const piece = buf.subarray(0, n);
      whole.update(piece);
      size += n;
      // The chunker cuts from a chunk boundary: the carry (an unfinished chunk) goes first.
      carry = Buffer.from(cut(carry.length > 0 ? Buffer.concat([carry, piece]) : piece, false));
    }
    cut(carry, true);
    const after = fstatSync(fd, { bigint: true });
    if (Number(after.size) !== size || after.mtimeNs !== before.mtimeNs || after.ctimeNs !== before.ctimeNs) {
      throw new ToolkitError('CHANGED', 'changed while it was read; no signature');
    }
    return {
      dev: after.dev, ino: after.ino, size, mtimeNs: after.mtimeNs, ctimeNs: after.ctimeNs,
      content: whole.digest(), chunker: params, chunks,
    };
  } finally {
    closeSync(fd);
  }
}
