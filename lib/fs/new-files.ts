/**
 * A batch of new regular files made in one native call (native/src/write_files.cc): each at its
 * name (O_EXCL) in a directory a restore made under a temporary name, or inside one
 * (Materializer's FileHow.fresh), written whole from memory, then its mode and times set on the
 * open file. For a restore worker's small files: from JavaScript each file was five fs calls
 * with Node's checks and wrapping, and an open by absolute path.
 *
 * Use: for each file, `data(length)` gives the memory to put its bytes in, `add` records it;
 * `write` makes them all and returns each one's error (or null), in order, and starts over.
 * A file that fails after its create is removed (nothing torn keeps its name).
 *
 * Limits (the caller sends other files its own way): no holes (the data is the file from its
 * start; a shorter length is extended to the size by truncation), no xattrs, no chown (only
 * files this user makes for this user and group, or any file when ownership is not restored),
 * nothing over 4 GiB in one batch. Needs the addon (`NewFiles.available`).
 * Memory: the data of one batch, in a buffer kept for the next (grown to the largest batch).
 */
import { getSystemErrorMap } from 'node:util';
import { native } from '../native/load.js';
import type { FileMeta } from './file-meta.js';
import { displayPath } from './fs-path.js';
import { fsError } from './fs-error.js';
import { splitNs } from './apply-meta.js';

/** Per stage of write_files.cc (results[2i+1]): the system call and what failed, for the message. */
const STAGES: Array<[string, string]> = [['', ''], ['open', 'create'], ['write', 'write'], ['ftruncate', 'write'],
  ['fchmod', 'restore permissions of'], ['futimens', 'restore times of'], ['close', 'write']];
const NUMS = 6;

export class NewFiles {
  static get available(): boolean { return native !== null; }

  private buf = Buffer.allocUnsafeSlow(1 << 16);
  private at = 0;
  private paths: Buffer[] = [];
  private dataEnds: number[] = [];
  private nums: number[] = [];

  /** Memory for the next file's `length` bytes (valid until the next call). */
  data(length: number): Buffer {
    if (this.at + length > this.buf.length) {
      const next = Buffer.allocUnsafeSlow(Math.max(2 * this.buf.length, this.at + length));
      this.buf.copy(next, 0, 0, this.at);
      this.buf = next;
    }
    return this.buf.subarray(this.at, this.at + length);
  }

  /** A file at `path` with the `length` bytes just put into `data()`'s memory. */
  add(path: Buffer, meta: Pick<FileMeta, 'size' | 'mode' | 'atimeNs' | 'mtimeNs'>, length: number): void {
    this.paths.push(path);
    this.at += length;
    this.dataEnds.push(this.at);
    this.nums.push(meta.size, meta.mode & 0o7777, ...splitNs(meta.atimeNs), ...splitNs(meta.mtimeNs));
  }

  get size(): number { return this.paths.length; }

  /** Makes the files added; each one's error (an FsError naming it) or null, in the order added. */
  write(): Array<Error | null> {
    const n = this.paths.length;
    const ends = new Uint32Array(n);
    let total = 0;
    this.paths.forEach((p, i) => { total += p.length; ends[i] = total; });
    const results = new Int32Array(2 * n);
    native!.writeNewFiles(Buffer.concat(this.paths, total), ends, this.buf.subarray(0, this.at), Uint32Array.from(this.dataEnds),
      Float64Array.from(this.nums), results);
    const out = this.paths.map((path, i) => (results[2 * i] === 0 ? null : failure(-results[2 * i], STAGES[results[2 * i + 1]] ?? STAGES[1], path)));
    this.at = 0;
    this.paths = [];
    this.dataEnds = [];
    this.nums = [];
    return out;
  }
}

let errnoMap: Map<number, [string, string]> | null = null;

/** The error Node's own call would have made, worded as the restore words fs errors. */
function failure(errno: number, [syscall, what]: [string, string], path: Buffer): Error {
  const [code, text] = (errnoMap ??= getSystemErrorMap()).get(-errno) ?? [`errno ${errno}`, 'unknown error'];
  const err = Object.assign(new Error(`${code}: ${text}, ${syscall} '${displayPath(path)}'`), { code, errno: -errno, syscall });
  return fsError(err, what, path, syscall);
}
