/**
 * `--generate-sigs`: while a copy runs, a signature (lib/signature) for each regular file of
 * DEST it writes or finds unchanged, kept in DEST/.foxing/signatures.mdb. A file written is
 * read back once it is in place (from the page cache, as a rule); an unchanged file whose
 * recorded signature is still valid costs no read. A file that changes while it is read gets no
 * signature (a warning): it is read again next time, never described wrongly.
 *
 * Also the rule that DEST's own state directory is not data: `.foxing` at the top of DEST is
 * neither copied from a source nor deleted by --delete (`keepState`).
 */
import { lstatSync } from 'node:fs';
import type { Warn } from '../errors/index.js';
import { displayPath } from '../fs/fs-path.js';
import { signFile } from '../signature/file-signature.js';
import type { FileIdentity, Signature } from '../signature/signature-codec.js';
import { SignatureStore, STATE_DIR } from '../signature/signature-store.js';
import type { ScannedDir } from '../fs/scan-dir.js';
import { DEST_ID_BYTES, ID_BYTES } from '../fs/scan-pair.js';
import { blake3 } from '../hash/blake3.js';
import type { DirFilter } from './dir-filter.js';

const STATE = Buffer.from(STATE_DIR);

export class CopySigner {
  private readonly identity = Buffer.alloc(40);

  private constructor(private readonly store: SignatureStore, private readonly onWarn: Warn) {}

  static open(dest: Buffer, onWarn: Warn): CopySigner {
    return new CopySigner(SignatureStore.open(dest.toString('utf8')), onWarn);
  }

  /** The signature recorded for the file that is now `now`, if still valid. */
  recorded(now: FileIdentity): Signature | null {
    return this.store.validFor(now);
  }

  /** The file at `path` signed, unless `now` (what a listing saw of it) has a valid signature already. */
  sign(path: Buffer, now?: FileIdentity): void {
    if (now && this.store.names(now)) return;
    try {
      this.store.put(signFile(path));
    } catch (err) {
      this.onWarn('SIGNATURE', `${displayPath(path)}: no signature recorded: ${(err as Error).message}`, { path: displayPath(path) });
    }
  }

  /**
   * Entry j of a destination listing, found unchanged, signed unless its record still names it;
   * `path` is asked for only then. (The identity buffer is reused: the check allocates nothing.)
   */
  signListed(dest: ScannedDir, j: number, path: () => Buffer): void {
    dest.identityInto(j, this.identity);
    if (!this.store.namesIdentity(this.identity)) this.sign(path());
  }

  /**
   * Whether destination directory (dev, ino)'s record (formats/signatures.md §6) vouches for
   * the files a copy found unchanged there (`ids`: scan-pair.ts): each has a record naming its
   * identity, and each one's source (dev, ino, ctime) had no xattrs when it was written. One
   * lookup for the directory instead of one per file, and no xattr list read per source file.
   */
  dirVouches(dev: bigint, ino: bigint, ids: Buffer): boolean {
    return this.store.dirHolds(dev, ino, blake3().hash(ids));
  }

  /**
   * The files of destination directory (dev, ino) found unchanged (`ids`), each signed unless
   * its record still names it; `path(k)` names the k-th, asked for only then. With `record`
   * (the caller has seen that none of their sources has xattrs), the directory's record is
   * written once every one of them has a record naming it.
   */
  signDir(dev: bigint, ino: bigint, ids: Buffer, path: (k: number) => Buffer, record: boolean): void {
    let all = true;
    for (let k = 0; k < ids.length / ID_BYTES; k++) {
      const id = ids.subarray(k * ID_BYTES, k * ID_BYTES + DEST_ID_BYTES);
      if (this.store.namesIdentity(id)) continue;
      this.sign(path(k));
      // Signed as it is now: a file that changed since it was listed has a record naming
      // another identity, which the directory's record must not vouch for.
      if (!this.store.namesIdentity(id)) all = false;
    }
    if (all && record) this.store.putDir(dev, ino, blake3().hash(ids));
  }

  /** `sig` (its content and chunks) recorded for the file now at `path`, with that file's identity. */
  record(path: Buffer, sig: Signature): void {
    try {
      const st = lstatSync(path, { bigint: true });
      this.store.put({ ...sig, dev: st.dev, ino: st.ino, size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs });
    } catch (err) {
      this.onWarn('SIGNATURE', `${displayPath(path)}: no signature recorded: ${(err as Error).message}`, { path: displayPath(path) });
    }
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** `filter` at the top of DEST, with DEST's `.foxing` neither copied into nor deleted. */
export function keepState(filter: DirFilter): DirFilter {
  return {
    enter: (name, readMerge) => filter.enter(name, readMerge),
    transfer: (name, isDir) => !name.equals(STATE) && filter.transfer(name, isDir),
    protects: (name, isDir, opts) => name.equals(STATE) || filter.protects(name, isDir, opts),
  };
}
