/**
 * The edges between archive services and the outside: byte sinks for a file (written under a
 * temporary name beside it, lib/fs/temp-name.ts, fsynced, renamed: no torn archive under its
 * real name, whatever its length) or a Node stream
 * (stdout, with backpressure), and a source that lets a caller look at the first bytes (to
 * tell the kind of archive) and then read the whole stream.
 */
import { closeSync, createReadStream, openSync, promises as fsp, readSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { NotFoundError, ToolkitError } from '../errors/index.js';
import { SpaceGuard } from '../fs/space-guard.js';
import { TempEntry } from '../fs/temp-name.js';
import { fsyncDir } from '../util/atomic-file.js';
import type { ByteSink, CommittedSink } from '../util/byte-sink.js';

/** A file written under a temporary name: commit fsyncs it, renames it into place and fsyncs the directory; discard removes it. */
export type FileSink = CommittedSink;

export async function openFileSink(path: string): Promise<FileSink> {
  const target = resolve(path);
  const { temp, value: fh } = await TempEntry.create(dirname(target), (tmp) => fsp.open(tmp, 'wx', 0o644)).catch((err: NodeJS.ErrnoException) => {
    throw new ToolkitError('IO', `${path}: cannot create archive: ${err.message}`, { path });
  });
  let closed = false;
  return {
    async write(b) {
      let off = 0;
      while (off < b.byteLength) off += (await fh.write(b, off, b.byteLength - off)).bytesWritten;
    },
    async writev(parts) {
      let left = parts.reduce((n, p) => n + p.byteLength, 0);
      let { bytesWritten } = await fh.writev(parts);
      left -= bytesWritten;
      if (left > 0) {
        // A short writev (rare): write the rest piece by piece.
        const rest = Buffer.concat(parts).subarray(bytesWritten);
        let off = 0;
        while (off < rest.length) off += (await fh.write(rest, off, rest.length - off)).bytesWritten;
      }
    },
    async commit() {
      await fh.sync();
      await fh.close();
      closed = true;
      temp.commit(target);
      await fsyncDir(dirname(target));
    },
    async discard() {
      if (!closed) await fh.close().catch(() => {});
      closed = true;
      temp.discard();
    },
  };
}

/** Output bytes between two free-space checks of a guarded file sink. */
const SINK_CHECK_BYTES = 8 << 20;

/**
 * A file sink whose every write is first granted by a free-space guard on the file's
 * directory (one statfs per SINK_CHECK_BYTES): when the output turns out larger than the file
 * system can hold, the write fails with NO_SPACE naming both numbers before the disk fills, and
 * the caller discards the temporary file. `what` names the output ("the tar").
 */
export function guardedFileSink(sink: FileSink, path: string, what: string): FileSink {
  const guard = new SpaceGuard(dirname(resolve(path)), what, 0, SINK_CHECK_BYTES);
  let written = 0;
  const grant = (n: number) => guard.reserve({ bytes: n, step: `writing ${n} more bytes to ${path} (${written} written so far)` });
  return {
    commit: () => sink.commit(),
    discard: () => sink.discard(),
    async write(b) {
      await grant(b.byteLength);
      await sink.write(b);
      written += b.byteLength;
    },
    async writev(parts) {
      const n = parts.reduce((k, p) => k + p.byteLength, 0);
      await grant(n);
      await sink.writev!(parts);
      written += n;
    },
  };
}

/**
 * A sink over a Node writable (stdout). Each write resolves when the stream has handed the
 * bytes on (its callback): the caller may then reuse the buffer (ByteSink), and a slow reader
 * holds the writer back.
 */
export function streamSink(out: NodeJS.WritableStream, what: string): ByteSink {
  let failure: Error | null = null;
  out.on('error', (err: Error) => { failure = err; });
  const fail = (err: Error) => new ToolkitError((err as NodeJS.ErrnoException).code === 'EPIPE' ? 'BROKEN_PIPE' : 'IO',
    `${what}: cannot write archive: ${err.message}`, { path: what });
  return {
    write(b) {
      if (failure) return Promise.reject(fail(failure));
      return new Promise<void>((res, rej) => {
        out.write(b, (err?: Error | null) => (err ? rej(fail(err)) : failure ? rej(fail(failure)) : res()));
      });
    },
  };
}

/** Reads a file or stdin ('-') as an async iterable of byte arrays. */
export function openSource(path: string): AsyncIterable<Uint8Array> {
  if (path === '-') return process.stdin;
  const s = createReadStream(path, { highWaterMark: 1 << 20 });
  return s;
}

/** Up to `n` bytes from the start of a file (fewer when it is shorter). */
/** An archive file that cannot be opened: NOT_FOUND when it does not exist, else IO. */
export function archiveOpenError(path: string, err: unknown, what: 'open' | 'read'): ToolkitError {
  const message = `${path}: cannot ${what} archive: ${(err as Error).message}`;
  return (err as NodeJS.ErrnoException).code === 'ENOENT' ? new NotFoundError(message, { path }) : new ToolkitError('IO', message, { path });
}

export function readFileHead(path: string, n: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw archiveOpenError(path, err, 'read');
  }
  try {
    const b = Buffer.alloc(n);
    return b.subarray(0, readSync(fd, b, 0, n, 0));
  } catch (err) {
    throw new ToolkitError('IO', `${path}: cannot read archive: ${(err as Error).message}`, { path });
  } finally {
    closeSync(fd);
  }
}
