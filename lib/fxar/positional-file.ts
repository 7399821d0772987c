/**
 * Positional reads from an archive: the only I/O the seekable reader does, behind a small
 * interface so tests can count the bytes a restore reads (O(the file's chunks), never the
 * whole archive) and fuzz tests can read from memory.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FormatError } from '../errors/index.js';
import { archiveOpenError } from './archive-io.js';

export interface PositionalReader {
  readonly path: string;
  readonly size: number;
  /** Exactly `length` bytes at `offset`; a read past the end throws a TRUNCATED FormatError. */
  read(offset: number, length: number): Buffer;
  /** The same read without blocking, where it is a network request (an archive in a bucket): chunk records are read by it. */
  readAsync?(offset: number, length: number): Promise<Buffer>;
  /** readAsync whose bytes may be a view of a read-ahead window, not a copy: for a caller that copies what it keeps (a restore). */
  readView?(offset: number, length: number): Promise<Buffer>;
  close(): void;
}

function truncated(path: string, offset: number, length: number, got: number): FormatError {
  return new FormatError(`${path}: truncated (wanted ${length} bytes at offset ${offset}, got ${got})`, { path, offset }, 'TRUNCATED');
}

/**
 * Synchronous reads (pread): a restore reads a few small pieces and then chunks one after
 * another, and a synchronous pread costs less than a promise round trip through the thread pool.
 */
export class FileReader implements PositionalReader {
  private constructor(readonly path: string, private readonly fd: number, readonly size: number) {}

  static open(path: string): FileReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw archiveOpenError(path, err, 'open');
    }
    return new FileReader(path, fd, fstatSync(fd).size);
  }

  read(offset: number, length: number): Buffer {
    if (offset < 0 || offset + length > this.size) throw truncated(this.path, offset, length, Math.max(0, this.size - offset));
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, buf, got, length - got, offset + got);
      if (n === 0) throw truncated(this.path, offset, length, got);
      got += n;
    }
    return buf;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** An archive held in memory (tests, fuzzing). */
export class MemoryReader implements PositionalReader {
  constructor(private readonly bytes: Buffer, readonly path = '<memory>') {}

  get size(): number { return this.bytes.length; }

  read(offset: number, length: number): Buffer {
    if (offset < 0 || offset + length > this.bytes.length) throw truncated(this.path, offset, length, Math.max(0, this.bytes.length - offset));
    return Buffer.from(this.bytes.subarray(offset, offset + length));
  }

  close(): void {}
}
