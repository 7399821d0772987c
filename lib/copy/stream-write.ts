/**
 * `fxcp - DEST`: a stream (standard input) written to a file. As every copy, into a temporary
 * in DEST's directory renamed onto DEST only when the stream has ended: a reader never sees a
 * half-written file, and an interrupted stream leaves nothing under DEST.
 *
 * - Zero blocks (4 KiB aligned, all zeros) are not written: they stay holes (a disk image, a
 *   tar of sparse files). A zero tail becomes a hole too (the file is sized at the end).
 * - `size` preallocates (fallocate, keep-size): the space is reserved before the data comes,
 *   so a stream that cannot fit fails at once; blocks then reserved stay allocated.
 * - `decompress`: zstd, gzip, xz or lz4 input, told by its magic, is decoded (lib/tar's codecs);
 *   other input is written as it comes.
 * - `checkpoint`: every `intervalSec` seconds of stream, a point-in-time copy of what has arrived,
 *   the newest `keep` kept: reflinks where the file system shares extents, else snapshots in a
 *   chunk store beside DEST (stream-checkpoints.ts).
 *
 * Memory: one piece of the stream at a time (and the decoder's window).
 */
import { chmodSync, closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ToolkitError, type Warn } from '../errors/index.js';
import { isZeroBlock } from '../fs/data-segments.js';
import { fsError } from '../fs/fs-error.js';
import { TempEntry } from '../fs/temp-name.js';
import { native } from '../native/load.js';
import { decompressForImport } from '../tar/tar-decompress.js';
import { detectCompression } from '../tar/tar-compress.js';
import { peekStream } from '../util/peek-stream.js';
import { StreamCheckpoints } from './stream-checkpoints.js';

const BLOCK = 4096;
/** Bytes needed to tell a compressed stream by its magic. */
const SNIFF_BYTES = 16;

export interface StreamOptions {
  size?: number;
  decompress?: boolean;
  checkpoint?: { intervalSec: number; keep: number };
  /** Permission bits of the new file (0666 less the umask, as a shell redirection makes). */
  mode: number;
  signal?: AbortSignal;
  /** Warnings of the checkpoints' store, if one is used. */
  onWarn?: Warn;
  now?: () => number;
}

export interface StreamResult {
  bytes: number;
  /** Bytes left as holes (zero blocks not written). */
  holes: number;
  compression: string;
  checkpoints: string[];
}

/** Writes `input` to the file `dest` (see the module comment). */
export async function writeStream(input: AsyncIterable<Uint8Array>, dest: string, opts: StreamOptions): Promise<StreamResult> {
  const now = opts.now ?? Date.now;
  const dir = dirname(dest);
  // Read and write: a checkpoint copies from it.
  const { temp, value: fd } = await TempEntry.create(dir, (p) => openSync(p, 'wx+', 0o600));
  const result: StreamResult = { bytes: 0, holes: 0, compression: 'none', checkpoints: [] };
  const writer = new SparseWriter(fd, dest);
  let open = true;
  try {
    if (opts.size !== undefined && opts.size > 0) {
      if (!native) throw new ToolkitError('UNSUPPORTED', `${dest}: --size needs the native addon (fallocate)`);
      try { native.fallocate(fd, 'keep-size', 0, opts.size); } catch (err) { throw fsError(err, 'preallocate', dest, 'fallocate'); }
    }
    let source = input;
    if (opts.decompress) {
      const peeked = await peekStream(input, SNIFF_BYTES);
      const kind = detectCompression(peeked.head);
      if (kind === 'bzip2') {
        await peeked.close();
        throw new ToolkitError('UNSUPPORTED', `${dest}: the stream is bzip2, which --decompress does not decode`);
      }
      result.compression = kind;
      source = kind === 'none' ? peeked.stream : decompressForImport(peeked.stream, kind);
    }
    const checkpoints = opts.checkpoint && new StreamCheckpoints(dest, { keep: opts.checkpoint.keep, onWarn: opts.onWarn ?? (() => {}), signal: opts.signal });
    let nextCheckpoint = opts.checkpoint ? now() + opts.checkpoint.intervalSec * 1000 : Infinity;
    for await (const piece of source) {
      opts.signal?.throwIfAborted();
      writer.take(piece);
      if (checkpoints && now() >= nextCheckpoint) {
        writer.flush();
        result.checkpoints.push(await checkpoints.take(fd, temp.path.toString(), writer.bytes, new Date(now())));
        nextCheckpoint = now() + opts.checkpoint!.intervalSec * 1000;
      }
    }
    writer.end();
    await checkpoints?.finish();
    result.bytes = writer.bytes;
    result.holes = writer.holes;
    ftruncateSync(fd, result.bytes);
    chmodSync(temp.path, opts.mode);
    open = false;
    closeSync(fd);
  } catch (err) {
    if (open) try { closeSync(fd); } catch { /* the first error is the one to report */ }
    temp.discard();
    throw err;
  }
  temp.commit(dest);
  return result;
}

/**
 * Writes a stream's pieces one after the other, leaving whole zero blocks (by file offset)
 * unwritten. A block cut across two pieces waits in `tail` until it is whole, so how the
 * stream is cut into pieces never changes which blocks become holes.
 */
class SparseWriter {
  /** Bytes taken so far; the file holds all but the `tailLen` last ones. */
  bytes = 0;
  holes = 0;
  private readonly tail = Buffer.alloc(BLOCK);
  private tailLen = 0;

  constructor(private readonly fd: number, private readonly dest: string) {}

  take(piece: Uint8Array): void {
    let buf = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    this.bytes += buf.length;
    if (this.tailLen > 0) {
      const n = Math.min(BLOCK - this.tailLen, buf.length);
      buf.copy(this.tail, this.tailLen, 0, n);
      this.tailLen += n;
      buf = buf.subarray(n);
      if (this.tailLen < BLOCK) return;
      this.block(this.tail, this.bytes - buf.length - BLOCK);
      this.tailLen = 0;
    }
    const whole = buf.length - (buf.length % BLOCK);
    const base = this.bytes - buf.length;
    for (let at = 0; at < whole; at += BLOCK) this.block(buf.subarray(at, at + BLOCK), base + at);
    buf.copy(this.tail, 0, whole);
    this.tailLen = buf.length - whole;
  }

  /** Writes the partial block so far (for a checkpoint), keeping it to be completed (and written again). */
  flush(): void {
    if (this.tailLen > 0 && !this.tail.subarray(0, this.tailLen).every((b) => b === 0)) this.write(this.tail.subarray(0, this.tailLen), this.bytes - this.tailLen);
  }

  /** Writes the last partial block (a zero one is left to the final truncate). */
  end(): void {
    if (this.tailLen > 0 && !this.tail.subarray(0, this.tailLen).every((b) => b === 0)) this.write(this.tail.subarray(0, this.tailLen), this.bytes - this.tailLen);
    else this.holes += this.tailLen;
    this.tailLen = 0;
  }

  private block(b: Buffer, at: number): void {
    if (isZeroBlock(b)) this.holes += BLOCK;
    else this.write(b, at);
  }

  private write(b: Buffer, at: number): void {
    try {
      for (let w = 0; w < b.length;) w += writeSync(this.fd, b, w, b.length - w, at + w);
    } catch (err) {
      throw fsError(err, 'write', this.dest, 'write');
    }
  }
}
