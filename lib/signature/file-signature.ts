/**
 * The signature of a file as it is on disk: one sequential read, cut by the store's chunker,
 * each chunk and the whole content hashed with BLAKE3 (formats/signatures.md §2). Its identity
 * and times are those fstat gives once the read is done; a file that changed while it was read
 * (size, mtime or ctime moved) gets no signature (CHANGED): a record must never describe content
 * the file no longer has.
 *
 * Memory: one buffer of READ_BYTES plus the chunker's largest chunk (`max`), kept for the next
 * call: a re-run signs every file it writes, and a new 3 MiB buffer each time (external memory
 * to V8) set off a scavenge or a full collection every few files (on the bench's series set:
 * 6 collections, ~100 ms, most of them "external memory pressure").
 */
import { closeSync, fstatSync, readSync } from 'node:fs';
import { DEFAULT_CHUNKER_PARAMS, type ChunkerParams, createChunker } from '../chunker/index.js';
import { ToolkitError } from '../errors/index.js';
import { fsError } from '../fs/fs-error.js';
import { openForRead } from '../fs/open-read.js';
import { blake3 } from '../hash/blake3.js';
import { CHUNKS_MAX, type ChunkRef, type Signature } from './signature-codec.js';

const READ_BYTES = 1 << 20;

/** The read buffer, reused: signing is synchronous, so one call at a time holds it. */
let scratch: Buffer | null = null;

/** Signs the regular file at `path` (never following a symlink). */
export function signFile(path: Buffer | string, params: ChunkerParams = DEFAULT_CHUNKER_PARAMS): Signature {
  const fd = openForRead(path);
  try {
    const before = fstatSync(fd, { bigint: true });
    if (!before.isFile()) throw new ToolkitError('CHANGED', 'not a regular file; no signature');
    const chunker = createChunker(params);
    const h = blake3();
    const whole = h.hasher();
    let chunks: ChunkRef[] | null = [];
    /** Cuts `data` (from a chunk boundary); returns the bytes of the complete chunks. */
    const cut = (data: Buffer, final: boolean): number => {
      let at = 0;
      for (const len of Array.from(chunker.cutLengths(data, final))) {
        if (chunks !== null) chunks.push({ length: len, id: h.hash(data.subarray(at, at + len)) });
        if (chunks !== null && chunks.length > CHUNKS_MAX) chunks = null;
        at += len;
      }
      return at;
    };
    // Reads go in after the carry (an unfinished chunk, at most `max` bytes), so the chunker
    // always sees one contiguous buffer from a chunk boundary, and nothing is concatenated.
    if (scratch === null || scratch.length < READ_BYTES + params.max) scratch = Buffer.allocUnsafe(READ_BYTES + params.max);
    const buf = scratch;
    let carry = 0;
    let size = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, carry, READ_BYTES, size);
      } catch (err) {
        throw fsError(err, 'read', path, 'read');
      }
      if (n === 0) break;
      whole.update(buf.subarray(carry, carry + n));
      size += n;
      const data = buf.subarray(0, carry + n);
      const used = cut(data, false);
      carry = data.length - used;
      if (carry > 0 && used > 0) buf.copyWithin(0, used, used + carry);
    }
    cut(buf.subarray(0, carry), true);
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
