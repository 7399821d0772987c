/**
 * A Foxing archive from a pipe (stdin), made seekable. The format cannot be consumed in one
 * pass with bounded memory: a file's chunks may be any earlier chunk (the writer deduplicates
 * across files and snapshots), so a streaming consumer would have to keep every chunk. The
 * stream is therefore copied to a temporary file, whose name (`foxspool-<pid>-…`) lets a later
 * `cleanTmp` of the store remove it after a crash; it is unlinked as soon as it is open for
 * reading, so a normal end or a failure leaves nothing behind.
 *
 * Cost: disk space for the archive (checked against free space as it is written, through the
 * caller's SpaceGuard) and one extra write of its bytes. Memory: one input piece.
 */
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { throwIfAborted, ToolkitError } from '../../errors/index.js';
import type { SpaceGuard } from '../../fs/space-guard.js';
import { FileReader } from '../positional-file.js';

export async function spoolToFile(source: AsyncIterable<Uint8Array>, dir: string, where: string,
  opts: { signal?: AbortSignal; guard?: SpaceGuard | null } = {}): Promise<FileReader> {
  const path = join(dir, `foxspool-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`);
  const fd = openSync(path, 'wx', 0o600);
  let written = 0;
  try {
    for await (const piece of source) {
      throwIfAborted(opts.signal);
      await opts.guard?.reserve({ bytes: piece.byteLength, step: `copying ${where} to a temporary file (${written} bytes so far)` });
      for (let o = 0; o < piece.byteLength;) o += writeSync(fd, piece, o, piece.byteLength - o);
      written += piece.byteLength;
    }
    closeSync(fd);
    const reader = FileReader.open(path);
    // Named only for the open above: from here the descriptor keeps it.
    Object.defineProperty(reader, 'path', { value: where });
    return reader;
  } catch (err) {
    try { closeSync(fd); } catch { /* closed above */ }
    if (err instanceof ToolkitError) throw err;
    throw new ToolkitError('IO', `${where}: cannot copy the archive to ${dir}: ${(err as Error).message}`, { path: where });
  } finally {
    try { unlinkSync(path); } catch { /* already gone */ }
  }
}
