/**
 * Worker thread: restores the content of one file. It reads the file's chunks from their packs (or an archive),
 * decompresses and verifies each against its id, and writes it at its place in a new temporary
 * file; the main thread then renames it into place and applies metadata. Large restores thus
 * decompress and verify on every core, and file bytes never cross threads.
 *
 * On any failure the temporary file is removed before the error is reported.
 */
import { closeSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { ChunkCodec } from '../codec/codec.js';
import { RECORD_HEADER_BYTES as FXAR_RECORD_HEADER_BYTES } from '../fxar/fxar-layout.js';
import { checkArchiveRecord } from '../fxar/record-codec.js';
import { checkRecord, decodeVerified } from '../store/chunk-verify.js';
import { RECORD_HEADER_BYTES } from '../store/store-layout.js';
import { serveJobs } from '../util/worker-job.js';
import type { StoredPlace } from './chunk-source.js';
import { ExtentCursor } from './extent-cursor.js';


export interface RestoreChunk extends StoredPlace { id: Uint8Array }

export interface RestoreFileJob {
  op: 'restore-file';
  /** Temporary path (raw bytes), created here with O_EXCL. */
  tmp: Uint8Array;
  size: number;
  extents: Array<[number, number]>;
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
    if (n === 0) throw Object.assign(new Error(`${where}: truncated (wanted ${length} bytes at offset ${position}, file ends after ${got})`), { code: 'TRUNCATED' });
    got += n;
  }
  return buf;
}

serveJobs(async (job: RestoreFileJob) => {
  const tmp = Buffer.from(job.tmp.buffer, job.tmp.byteOffset, job.tmp.byteLength);
  const out = openSync(tmp, 'wx', 0o600);
  try {
    const cursor = new ExtentCursor(job.extents);
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
    ftruncateSync(out, job.size);
    closeSync(out);
    return { result: { bytes } };
  } catch (err) {
    try { closeSync(out); } catch { /* already closed */ }
    try { unlinkSync(tmp); } catch { /* gone */ }
    throw err;
  }
});
