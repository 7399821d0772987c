/**
 * Copying a file's data into a new, empty file (the copy engine's temporary), each extent at
 * its offset, holes unwritten (the caller truncates to the size). Interim: positional reads and
 * writes of each data segment; the native fast paths (reflink, copy_file_range) replace this.
 */
import { readSync, writeSync } from 'node:fs';
import type { Warn } from '../errors/index.js';
import { dataSegments } from './data-segments.js';

export type CopyStrategy = 'reflink' | 'copy-range' | 'read-write';

export interface CopyDataResult { strategy: CopyStrategy; bytes: number }

const BUFFER_BYTES = 1 << 20;
let buffer: Buffer | null = null;

export async function copyFileData(src: { fd: number; size: number; dev: bigint }, dst: { fd: number; dev: bigint },
  opts: { signal?: AbortSignal; onWarn?: Warn } = {}): Promise<CopyDataResult> {
  buffer ??= Buffer.allocUnsafe(BUFFER_BYTES);
  let bytes = 0;
  for (const [offset, length] of dataSegments(src.fd, src.size, opts.onWarn)) {
    for (let at = offset; at < offset + length;) {
      const n = readSync(src.fd, buffer, 0, Math.min(BUFFER_BYTES, offset + length - at), at);
      if (n === 0) return { strategy: 'read-write', bytes };
      for (let w = 0; w < n;) w += writeSync(dst.fd, buffer, w, n - w, at + w);
      at += n;
      bytes += n;
    }
  }
  return { strategy: 'read-write', bytes };
}
