/**
 * The index walk's verdict, remembered (index-file-walk.ts, StoreIndex.open).
 *
 * Why: the walk reads every page the trees reach and checks every node. On a 3 MB index (the
 * bench's `mixed` set) it took ~35 ms of a 100 ms one-file restore, most of it the walk's own
 * code warming up, and every store command pays it, though almost all of them open a file that
 * no one has written since the last command walked it.
 *
 * A sound verdict is a function of the file's bytes, so it is remembered under a key that names
 * those bytes: the size, the ctime (any write through the file system moves it), both meta
 * pages (any LMDB commit rewrites one), and a BLAKE3 hash of the whole file (~3 ms for 3 MB),
 * which also catches bytes that change under an unchanged ctime (a disk that returns other
 * bytes than were written). (zlib's CRC-32 is faster per byte, but loading node:zlib costs
 * ~3 ms of every command.) An open whose file gives the same key skips the walk
 * of the trees the remembered one covered. The key is taken before the walk and again after it
 * (size, ctime and metas): a file written meanwhile is not remembered.
 *
 * Stored as `index.mdb-walked` beside the file (JSON, written to a temporary name and renamed
 * over), by whoever walked: a process that cannot write there (a read-only store) walks every
 * time, as before. Limits: the verdict file is trusted only to say "these exact bytes passed"
 * (anyone who can write it can write the index too), and a damaged or foreign one is ignored.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { blake3 } from '../hash/blake3.js';
import { metaBytes } from './index-file-check.js';

/** Which trees a walk covered: every one, or all but the chunk trees (IndexWalk 'catalogue'). */
export type WalkedTrees = 'all' | 'catalogue';

const VERSION = 1;
const READ_BYTES = 1 << 20;

/** The key of `file`'s current bytes; null when it cannot be read (no file: LMDB creates one, nothing to remember). */
export function walkKey(file: string): string | null {
  return readKey(file, true);
}

/** size:ctime:metas, then (`withHash`) :hash of the whole file. */
function readKey(file: string, withHash: boolean): string | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    const key = `${st.size}:${st.ctimeNs}:${metaBytes(fd).toString('hex')}`;
    if (!withHash) return key;
    // BLAKE3 of each window, then of their digests: bounded memory, and the hash the process
    // has loaded already (lib/hash/blake3.ts).
    const buf = Buffer.allocUnsafe(READ_BYTES);
    const digests: Buffer[] = [];
    for (let at = 0, n; (n = readSync(fd, buf, 0, READ_BYTES, at)) > 0; at += n) digests.push(blake3().hash(buf.subarray(0, n)));
    return `${key}:${blake3().hash(Buffer.concat(digests)).toString('hex')}`;
  } finally {
    closeSync(fd);
  }
}

const verdictFile = (file: string) => `${file}-walked`;

/** Whether a walk of `trees` already passed on the bytes `key` names. */
export function walkedBefore(file: string, key: string, trees: WalkedTrees): boolean {
  try {
    const v = JSON.parse(readFileSync(verdictFile(file), 'utf8')) as { v?: unknown; key?: unknown; trees?: unknown };
    return v.v === VERSION && v.key === key && (v.trees === 'all' || v.trees === trees);
  } catch {
    return false; // none yet, damaged, or not ours: walk
  }
}

/**
 * Remembers that a walk of `trees` passed on the bytes `key` named, unless the file was written
 * since `key` was taken. Quiet when it cannot be written: the next open walks again.
 */
export function rememberWalk(file: string, key: string, trees: WalkedTrees): void {
  if (readKey(file, false) !== key.slice(0, key.lastIndexOf(':'))) return;
  const tmp = `${verdictFile(file)}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, `${JSON.stringify({ v: VERSION, key, trees })}\n`);
    renameSync(tmp, verdictFile(file));
  } catch {
    try { unlinkSync(tmp); } catch { /* never made */ }
  }
}
