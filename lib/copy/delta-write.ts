/**
 * Delta updates: a changed file rebuilt from the unchanged chunks of the old destination file
 * plus the new bytes of the source, instead of copied whole. The chunks are the store's
 * (content-defined gear cuts, BLAKE3 ids): an insertion in the middle dirties only the chunks
 * around it, and every later chunk is found again at its new offset.
 *
 * Steps: the source is signed (one read: its chunk list and BLAKE3, lib/signature); its chunks
 * are looked up in the old file's chunk list (its valid signature, or, under --delta=always,
 * the old file signed now); when at least half the bytes are found, a temporary is written run
 * by run: a found run by FICLONERANGE from the old file where the file system shares extents and
 * the offsets are block-aligned, else by copy_file_range (then read and write); a new run from
 * the source likewise. Then the usual end (lib/fs/materialize.ts): attributes, rename.
 *
 * Never wrong content: the old file must still be the one its signature describes (checked
 * before and after the temporary is written: dev, inode, size, mtime and ctime), and the source
 * the one that was signed (size, mtime, ctime after the write); otherwise the temporary is
 * discarded and `writeDelta` returns null, and the caller copies the file whole.
 *
 * Limits: the source is read twice (signed, then its new runs copied); the chunk map holds one
 * entry per old chunk (36 bytes a 64 KiB chunk on average); both steps are blocking calls on
 * the main thread, so a Ctrl-C during a delta of a very large file is seen when it ends.
 */
import { closeSync, fstatSync, readSync, writeSync } from 'node:fs';
import { errnoOf } from '../fs/fs-error.js';
import { openForRead } from '../fs/open-read.js';
import type { Materializer } from '../fs/materialize.js';
import { native } from '../native/load.js';
import { signFile } from '../signature/file-signature.js';
import { type FileIdentity, isValidFor, type Signature } from '../signature/signature-codec.js';
import type { FileWrite } from './file-write.js';

/** Files at least this large are rebuilt from their old chunks (smaller ones are copied whole). */
export const DELTA_MIN_BYTES = 1 << 20;
const COPY_BUFFER = 1 << 20;

export interface DeltaResult {
  /** The new file's signature (the source's chunks and hash; its identity is the caller's to fill). */
  signature: Signature;
  /** Bytes taken from the old file, and bytes written from the source. */
  reused: number;
  written: number;
}

/** The old file or the source is not what was signed any more: the delta is given up. */
class Stale extends Error {}

/** A run of the new file: [at, at+length) comes from `from` of the old file (reused) or of the source. */
interface Run { at: number; length: number; from: number; reused: boolean }

/** The runs that build the source's chunks from the old file's (null when less than half is found). */
export function planDelta(source: Signature, old: Signature): { runs: Run[]; reused: number } | null {
  if (source.chunks === null || old.chunks === null) return null;
  const where = new Map<string, number>();
  let p = 0;
  for (const c of old.chunks) {
    const key = Buffer.from(c.id).toString('latin1');
    if (!where.has(key)) where.set(key, p);
    p += c.length;
  }
  const runs: Run[] = [];
  let at = 0, reused = 0;
  for (const c of source.chunks) {
    const found = where.get(Buffer.from(c.id).toString('latin1'));
    const isReused = found !== undefined;
    const from = isReused ? found : at;
    const last = runs[runs.length - 1];
    // Adjacent runs of the same kind, contiguous in what they copy from, become one.
    if (last && last.reused === isReused && last.from + last.length === from && last.at + last.length === at) last.length += c.length;
    else runs.push({ at, length: c.length, from, reused: isReused });
    if (isReused) reused += c.length;
    at += c.length;
  }
  return reused * 2 >= source.size ? { runs, reused } : null;
}

/**
 * Writes `w` as a delta against `old` (a valid signature of the file now at `w.dst`); null when
 * it does not pay or the old file or the source changed meanwhile (copy whole then).
 */
export async function writeDelta(out: Materializer, w: FileWrite, old: Signature,
  attributes: (temp: Buffer) => Promise<void>): Promise<DeltaResult | null> {
  if (!native) return null;
  const source = signFile(w.src, old.chunker);
  const plan = planDelta(source, old);
  if (plan === null) return null;
  let written = 0;
  try {
    await out.file(w.dst, { ...w.meta, nlink: 1 }, {
      fill: async (fd) => {
        const oldFd = openForRead(w.dst);
        let srcFd = -1;
        try {
          srcFd = openForRead(w.src);
          if (!isValidFor(old, identityOf(oldFd))) throw new Stale();
          const block = Number(fstatSync(fd).blksize) || 4096;
          for (const r of plan.runs) {
            if (r.reused) copyRun(oldFd, r.from, fd, r.at, r.length, block, old.size);
            else { copyRun(srcFd, r.from, fd, r.at, r.length, 0, source.size); written += r.length; }
          }
          // What was copied is what was signed: neither file changed meanwhile.
          if (!isValidFor(old, identityOf(oldFd)) || !isValidFor(source, identityOf(srcFd))) throw new Stale();
        } finally {
          if (srcFd >= 0) closeSync(srcFd);
          closeSync(oldFd);
        }
      },
    }, attributes);
  } catch (err) {
    if (err instanceof Stale) return null;
    throw err;
  }
  return { signature: source, reused: plan.reused, written };
}

function identityOf(fd: number): FileIdentity {
  const st = fstatSync(fd, { bigint: true });
  return { dev: st.dev, ino: st.ino, size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
}

/**
 * [from, from+length) of `src` to `at` of `dst`: a reflink of the range when `block` is given
 * (>0) and the offsets are aligned to it (the length too, unless the range ends at the source's
 * end, `srcSize`); else copy_file_range; else pread/pwrite.
 */
function copyRun(src: number, from: number, dst: number, at: number, length: number, block: number, srcSize: number): void {
  if (block > 0 && from % block === 0 && at % block === 0 && (length % block === 0 || from + length === srcSize)) {
    try {
      native!.ficloneRange(src, from, length, dst, at);
      return;
    } catch (err) {
      if (!['EOPNOTSUPP', 'ENOTSUP', 'EINVAL', 'EXDEV', 'ENOTTY', 'ENOSYS', 'EPERM'].includes(errnoOf(err) ?? '')) throw err;
    }
  }
  let done = 0;
  try {
    while (done < length) {
      const n = native!.copyFileRange(src, from + done, dst, at + done, length - done);
      if (n === 0) break;
      done += n;
    }
  } catch (err) {
    if (!['EXDEV', 'EOPNOTSUPP', 'ENOTSUP', 'EINVAL', 'ENOSYS'].includes(errnoOf(err) ?? '')) throw err;
  }
  if (done === length) return;
  const buf = Buffer.allocUnsafe(Math.min(COPY_BUFFER, length - done));
  while (done < length) {
    const n = readSync(src, buf, 0, Math.min(buf.length, length - done), from + done);
    if (n === 0) throw new Stale();
    for (let w = 0; w < n;) w += writeSync(dst, buf, w, n - w, at + done + w);
    done += n;
  }
}
