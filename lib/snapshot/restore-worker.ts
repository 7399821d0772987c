/**
 * Worker thread: restores one part of a file's content (a run of its chunks). It reads the
 * chunks from their packs (or an archive), decompresses and verifies each against its id, and
 * writes it at its place in the temporary file the main thread made; the main thread then
 * truncates it to size, renames it into place and applies metadata, or removes it when a part
 * failed. Large restores thus decompress and verify on every core, a large file's parts side by
 * side, and file bytes never cross threads.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { ChunkCodec } from '../codec/codec.js';
import { FormatError } from '../errors/index.js';
import { RECORD_HEADER_BYTES as FXAR_RECORD_HEADER_BYTES } from '../fxar/fxar-layout.js';
import { checkArchiveRecord } from '../fxar/record-codec.js';
import { checkRecord, decodeVerified } from '../store/chunk-verify.js';
import { RECORD_HEADER_BYTES } from '../store/store-layout.js';
import { serveJobs } from '../util/worker-job.js';
import type { StoredPlace } from './chunk-source.js';
import { ExtentCursor } from './extent-cursor.js';


export interface RestoreChunk extends StoredPlace { id: Uint8Array }

export interface RestorePartJob {
  op: 'restore-part';
  /** The temporary file (raw path bytes), made by the main thread; written in place. */
  tmp: Uint8Array;
  /** The whole file's data extents. */
  extents: Array<[number, number]>;
  /** Content bytes of the file before this part's first chunk. */
  skip: number;
  chunks: RestoreChunk[];
}

const codec = new ChunkCodec();
const packFds = new Map<string, number>();
const MAX_FDS = 64;

function packFd(path: string): number {
  let fd = packFds.get(path);
  if (fd === undefined) {
    if (packFds.size >= MAX_FDS) {
      const [oldest, ofd] = packFds.entries().next().value as [string, number];
      packFds.delete(oldest);
      closeSync(ofd);
    }
    fd = openSync(path, 'r');
    packFds.set(path, fd);
  }
  return fd;
}

function preadFully(fd: number, length: number, position: number, where: string): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) throw new FormatError(`${where}: truncated (wanted ${length} bytes at offset ${position}, file ends after ${got})`, {}, 'TRUNCATED');
    got += n;
  }
  return buf;
}

serveJobs(async (job: RestorePartJob) => {
  const out = openSync(Buffer.from(job.tmp.buffer, job.tmp.byteOffset, job.tmp.byteLength), 'r+');
  try {
    const cursor = new ExtentCursor(job.extents);
    cursor.take(job.skip);
    let bytes = 0;
    for (const c of job.chunks) {
      const fxar = c.layout === 'fxar';
      const rec = preadFully(packFd(c.path), (fxar ? FXAR_RECORD_HEADER_BYTES : RECORD_HEADER_BYTES) + c.storedLength, c.offset, c.path);
      const payload = fxar ? checkArchiveRecord(c.path, c.id, c, rec) : checkRecord(c.path, c.id, c, rec);
      const data = await decodeVerified(codec, c.path, c.id, c, payload);
      let o = 0;
      for (const [pos, len] of cursor.take(data.byteLength)) {
        let w = 0;
        while (w < len) w += writeSync(out, data, o + w, len - w, pos + w);
        o += len;
      }
      bytes += data.byteLength;
    }
    return { result: { bytes } };
  } finally {
    closeSync(out);
  }
});
