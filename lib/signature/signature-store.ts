/**
 * Where a destination tree keeps the signatures of its files (formats/signatures.md §1):
 * `DEST/.foxing/signatures.mdb`, an LMDB environment keyed by (device, inode), each value one
 * record (signature-codec.ts). Not xattrs: a record in the inode cannot name the ctime the
 * inode has once the record is written (the format's §1 says why).
 *
 * Reads never trust a record: `validFor` decodes it (a damaged or foreign one is no record) and
 * checks it against the file as it is now. Writes are batched (one transaction per PUT_BATCH
 * records) and flushed by `close`, without waiting for the disk (noSync); a run killed before
 * that, or a crash after, loses the newest signatures, which only means those files are read
 * again next time.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { checkIndexFile } from '../index/index-file-check.js';
import { walkIndexFile } from '../index/index-file-walk.js';
import { lmdb } from '../index/load-lmdb.js';
import { PendingPuts } from '../index/pending-puts.js';
import { WALK_LIMIT_BYTES } from '../index/store-index.js';
import { encodeSignature, type FileIdentity, isValidFor, readSignature, type Signature } from './signature-codec.js';

/** DEST's own state directory: never copied as data, never deleted by --delete. */
export const STATE_DIR = '.foxing';
export const SIGNATURE_FILE = 'signatures.mdb';
const PUT_BATCH = 1024;
/** Bytes of a file's identity in a record (dev, ino, size, mtime, ctime: bytes 8-47). */
const IDENTITY_BYTES = 40;

/** A directory record (formats/signatures.md §6): "FXSD", version 1, three zero bytes, a digest. */
const DIR_HEAD = Buffer.from([0x46, 0x58, 0x53, 0x44, 1, 0, 0, 0]);
const DIR_RECORD_BYTES = DIR_HEAD.length + 32;

/** A directory record's 17-byte key: u64 dev, u64 ino, 'D' (never a file's 16-byte key). */
export function dirKey(dev: bigint, ino: bigint): Buffer {
  const k = Buffer.alloc(17);
  k.writeBigUInt64LE(BigInt.asUintN(64, dev), 0);
  k.writeBigUInt64LE(BigInt.asUintN(64, ino), 8);
  k[16] = 0x44;
  return k;
}

/** The 16-byte key of a file: u64 dev, u64 ino, little-endian. */
export function signatureKey(dev: bigint, ino: bigint): Buffer {
  const k = Buffer.alloc(16);
  k.writeBigUInt64LE(BigInt.asUintN(64, dev), 0);
  k.writeBigUInt64LE(BigInt.asUintN(64, ino), 8);
  return k;
}

/**
 * Whether LMDB must not map the file: its meta pages fail the index's checks, or (up to
 * WALK_LIMIT_BYTES, as the store index bounds its own walk) one of its pages does. The page
 * walk (~20 ms for 10,000 records, ~55 ms for 100,000) is skipped when the file is exactly as
 * a run of this boot left it (`CheckedStamp`).
 */
function damaged(path: string): boolean {
  if (checkIndexFile(path) !== null) return true;
  let size = 0;
  try { size = statSync(path).size; } catch { return false; }
  if (size > WALK_LIMIT_BYTES || CheckedStamp.matches(path)) return false;
  return walkIndexFile(path) !== null;
}

/**
 * `signatures.checked` beside the environment: the boot and the file's (dev, ino, size, mtime
 * ns, ctime ns) as the last run left it, written after LMDB closed it. While the file still
 * has that identity in the same boot, nobody has written it since (ctime cannot be set from
 * user space), and the page cache holds what LMDB wrote, so its pages need no walk. A crash
 * is a new boot: the walk runs again, as it must for a file written without waiting for the
 * disk. A stamp that is missing, torn or foreign only means the walk runs.
 */
const CheckedStamp = {
  file: (path: string) => `${path.slice(0, -'.mdb'.length)}.checked`,
  of(path: string): string | null {
    try {
      const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
      const st = statSync(path, { bigint: true });
      return `foxing-signatures-checked 1 ${boot} ${st.dev} ${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs}\n`;
    } catch {
      return null;  // no boot id (not Linux, no /proc): always walk
    }
  },
  matches(path: string): boolean {
    const now = CheckedStamp.of(path);
    try {
      return now !== null && readFileSync(CheckedStamp.file(path), 'latin1') === now;
    } catch {
      return false;
    }
  },
  write(path: string): void {
    const now = CheckedStamp.of(path);
    try {
      if (now !== null) writeFileSync(CheckedStamp.file(path), now);
    } catch { /* a cache of a cache: the next run walks */ }
  },
};

export class SignatureStore {
  private readonly pending = new PendingPuts();

  private constructor(readonly path: string, private readonly env: RootDatabase<Buffer, Buffer>, private readonly readOnly = false) {}

  /** The store of destination tree `dest`, made when missing. */
  static open(dest: string): SignatureStore {
    const dir = join(dest, STATE_DIR);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, SIGNATURE_FILE);
    // The store is a cache: a lost or damaged record only means a file read again. So no commit
    // waits for the disk (noSync), and a file that fails the checks LMDB needs before it maps
    // one (it crashes on a damaged file: lib/index/index-file-check.ts, index-file-walk.ts), or
    // that LMDB then refuses, is removed and made anew.
    const open = () => lmdb().open<Buffer, Buffer>({ path, keyEncoding: 'binary', encoding: 'binary', eventTurnBatching: false, cache: false, noSync: true });
    const remove = () => { for (const f of [path, `${path}-lock`, CheckedStamp.file(path)]) rmSync(f, { force: true }); };
    if (damaged(path)) remove();
    try {
      return new SignatureStore(path, open());
    } catch {
      remove();
      return new SignatureStore(path, open());
    }
  }

  /**
   * The store of tree `tree` to read, if it has a sound one: nothing is made, repaired or
   * written (a tree being compared is only read); null when it has none, or a damaged one.
   */
  static openToRead(tree: string): SignatureStore | null {
    const path = join(tree, STATE_DIR, SIGNATURE_FILE);
    if (!existsSync(path) || damaged(path)) return null;
    try {
      return new SignatureStore(path, lmdb().open<Buffer, Buffer>({ path, keyEncoding: 'binary', encoding: 'binary', readOnly: true, cache: false }), true);
    } catch {
      return null;
    }
  }

  /** The signature recorded for the file that is now `now`, if one is and still describes it. */
  validFor(now: FileIdentity): Signature | null {
    const key = signatureKey(now.dev, now.ino);
    const bytes = this.pending.get(key) ?? this.env.getBinary(key);
    const sig = readSignature(bytes);
    return sig !== null && isValidFor(sig, now) ? sig : null;
  }

  /**
   * Whether a record for the file that is now `now` names its identity and times (bytes 8-47
   * of the record), without decoding it: enough to leave it alone (an unchanged file of a
   * re-run). A record so found but damaged elsewhere is still refused where it is used
   * (`validFor`), and the file read in full there.
   */
  names(now: FileIdentity): boolean {
    const id = Buffer.alloc(IDENTITY_BYTES);
    id.writeBigUInt64LE(BigInt.asUintN(64, now.dev), 0);
    id.writeBigUInt64LE(BigInt.asUintN(64, now.ino), 8);
    id.writeBigUInt64LE(BigInt(now.size), 16);
    id.writeBigInt64LE(now.mtimeNs, 24);
    id.writeBigInt64LE(now.ctimeNs, 32);
    return this.namesIdentity(id);
  }

  /**
   * `names` for an identity already in bytes (ScannedDir.identityInto: dev, ino, size, mtime,
   * ctime, little-endian); its first 16 bytes are the key.
   */
  namesIdentity(id: Buffer): boolean {
    const key = id.subarray(0, 16);
    const bytes = (this.pending.size > 0 ? this.pending.get(key) : undefined) ?? this.env.getBinaryFast(key);
    if (!bytes || bytes.length < 8 + IDENTITY_BYTES) return false;
    for (let k = 0; k < IDENTITY_BYTES; k++) if (bytes[8 + k] !== id[k]) return false;
    return true;
  }

  /**
   * Whether directory (dev, ino)'s record (formats/signatures.md §6) holds `digest`: the
   * BLAKE3 of identities that all had records naming them when it was written. Anything else
   * stored there (none, another length, magic or version) is no match.
   */
  dirHolds(dev: bigint, ino: bigint, digest: Uint8Array): boolean {
    const key = dirKey(dev, ino);
    const bytes = (this.pending.size > 0 ? this.pending.get(key) : undefined) ?? this.env.getBinaryFast(key);
    if (!bytes || bytes.length !== DIR_RECORD_BYTES || bytes.compare(DIR_HEAD, 0, DIR_HEAD.length, 0, DIR_HEAD.length) !== 0) return false;
    return bytes.compare(digest, 0, 32, DIR_HEAD.length, DIR_RECORD_BYTES) === 0;
  }

  /** Directory (dev, ino)'s record set to `digest` (the caller has checked what it covers). */
  putDir(dev: bigint, ino: bigint, digest: Uint8Array): void {
    const rec = Buffer.alloc(DIR_RECORD_BYTES);
    DIR_HEAD.copy(rec, 0);
    rec.set(digest.subarray(0, 32), DIR_HEAD.length);
    this.pending.set(dirKey(dev, ino), rec);
    if (this.pending.size >= PUT_BATCH) this.flush();
  }

  put(sig: Signature): void {
    const key = signatureKey(sig.dev, sig.ino);
    this.pending.set(key, encodeSignature(sig));
    if (this.pending.size >= PUT_BATCH) this.flush();
  }

  /** Writes what is pending and closes the environment. */
  async close(): Promise<void> {
    this.flush();
    await this.env.close();
    if (!this.readOnly) CheckedStamp.write(this.path);
  }

  private flush(): void {
    this.pending.flushTo(this.env);
  }
}
