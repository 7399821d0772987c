/**
 * `fxcp --compare SRC DEST`: whether two trees hold the same names and bytes, and where they
 * differ, by Merkle hashes (lib/signature/merkle.ts) computed bottom-up for both. A file's hash
 * is its content's BLAKE3: taken from the tree's own signatures (`TREE/.foxing`, written by
 * `fxcp -a --generate-sigs`) where one is valid for the file as it is now (no read), else read.
 * A stored signature is never trusted past its file's (device, inode, size, mtime, ctime), and
 * directory hashes are never stored: each run folds them anew from the files' hashes, so a file
 * edited in place anywhere below, even with its mtime put back, changes every hash above it.
 *
 * Reported: an entry on one side only (once, at its top), an entry whose type differs, a file
 * (or symlink, special file) whose hash differs; differences inside directories are reported
 * inside them. Attributes (mode, owner, times) are not compared. Each tree's top-level `.foxing`
 * is its state, not data, and is left out.
 *
 * Memory: the listings of the directories on the current path of each tree. Limits: paths
 * longer than PATH_MAX fail (named), recursion follows directory depth.
 */
import { readlinkSync } from 'node:fs';
import type { EntryType } from '../fs/file-meta.js';
import { joinPath } from '../fs/fs-path.js';
import { scanDir, type ScannedDir } from '../fs/scan-dir.js';
import { directoryHash, type MerkleChild, specialHash, symlinkHash } from '../signature/merkle.js';
import { STATE_DIR, type SignatureStore } from '../signature/signature-store.js';
import { fileDigest } from './file-checksum.js';

export type DifferenceKind = 'only-src' | 'only-dest' | 'type' | 'content';

export interface TreeDifference {
  kind: DifferenceKind;
  /** Relative to both tops ('' for the tops themselves). */
  path: string;
  type: EntryType;
  /** For 'type': the destination's type. */
  destType?: EntryType;
}

export interface CompareResult {
  srcRoot: Buffer;
  destRoot: Buffer;
  differences: number;
  /** Files hashed by reading them, and taken from valid signatures. */
  read: number;
  fromSignatures: number;
}

export interface CompareOptions {
  onDifference: (d: TreeDifference) => void;
  /** Each tree's signatures, if it has any. */
  srcSignatures?: SignatureStore | null;
  destSignatures?: SignatureStore | null;
}

const STATE = Buffer.from(STATE_DIR);

interface Side { scan: ScannedDir; i: number; store: SignatureStore | null }

/** Entry i's type; an entry that could not be stat'ed throws its error (named). */
function typeOf(scan: ScannedDir, i: number): EntryType {
  const t = scan.type(i);
  if (t !== null) return t;
  const got = scan.entry(i, { xattrs: false });
  throw got.error ?? new Error(`${scan.entryPath(i).toString('utf8')}: unknown type`);
}

export function compareTrees(src: Buffer, dest: Buffer, opts: CompareOptions): CompareResult {
  const result: CompareResult = { srcRoot: Buffer.alloc(0), destRoot: Buffer.alloc(0), differences: 0, read: 0, fromSignatures: 0 };
  const report = (d: TreeDifference) => { result.differences++; opts.onDifference(d); };

  /** The hash of entry `s.i` of one side's listing (a directory: of its whole tree, that side only). */
  const entryHash = (s: Side, rel: string): Buffer => {
    const { scan, i } = s;
    const type = typeOf(scan, i);
    const path = scan.entryPath(i);
    if (type === 'dir') return oneSide(path, s.store, rel);
    if (type === 'symlink') return symlinkHash(readlinkSync(path, { encoding: 'buffer' }));
    if (type !== 'file') return specialHash(type, scan.rawRdev(i));
    const sig = s.store?.validFor({ dev: scan.dev(i), ino: scan.ino(i), size: scan.rawSize(i), mtimeNs: scan.mtimeNs(i), ctimeNs: scan.ctimeNs(i) });
    if (sig) { result.fromSignatures++; return Buffer.from(sig.content); }
    result.read++;
    return fileDigest(path);
  };

  /** A directory's hash on one side only. */
  const oneSide = (dir: Buffer, store: SignatureStore | null, rel: string): Buffer => {
    const scan = scanDir(dir);
    const children: MerkleChild[] = [];
    for (let i = 0; i < scan.count; i++) {
      if (rel === '' && scan.name(i).equals(STATE)) continue;
      children.push({ name: scan.name(i), type: typeOf(scan, i), hash: entryHash({ scan, i, store }, `${rel}/${scan.name(i).toString('utf8')}`) });
    }
    return directoryHash(children);
  };

  /** Both sides' hashes of directory `rel`, reporting what differs inside. */
  const both = (a: Buffer, b: Buffer, rel: string): [Buffer, Buffer] => {
    const sa = scanDir(a), sb = scanDir(b);
    const ca: MerkleChild[] = [], cb: MerkleChild[] = [];
    let i = 0, j = 0;
    const top = rel === '';
    while (i < sa.count || j < sb.count) {
      if (top && i < sa.count && sa.name(i).equals(STATE)) { i++; continue; }
      if (top && j < sb.count && sb.name(j).equals(STATE)) { j++; continue; }
      const c = i >= sa.count ? 1 : j >= sb.count ? -1 : sa.compareName(i, sb, j);
      const name = c <= 0 ? sa.name(i) : sb.name(j);
      const path = top ? name.toString('utf8') : `${rel}/${name.toString('utf8')}`;
      if (c < 0) {
        const type = typeOf(sa, i);
        ca.push({ name, type, hash: entryHash({ scan: sa, i, store: opts.srcSignatures ?? null }, path) });
        report({ kind: 'only-src', path, type });
        i++;
        continue;
      }
      if (c > 0) {
        const type = typeOf(sb, j);
        cb.push({ name, type, hash: entryHash({ scan: sb, i: j, store: opts.destSignatures ?? null }, path) });
        report({ kind: 'only-dest', path, type });
        j++;
        continue;
      }
      const ta = typeOf(sa, i), tb = typeOf(sb, j);
      let ha: Buffer, hb: Buffer;
      if (ta === 'dir' && tb === 'dir') {
        [ha, hb] = both(joinPath(a, name), joinPath(b, name), path);
      } else {
        ha = entryHash({ scan: sa, i, store: opts.srcSignatures ?? null }, path);
        hb = entryHash({ scan: sb, i: j, store: opts.destSignatures ?? null }, path);
        if (ta !== tb) report({ kind: 'type', path, type: ta, destType: tb });
        else if (!ha.equals(hb)) report({ kind: 'content', path, type: ta });
      }
      ca.push({ name, type: ta, hash: ha });
      cb.push({ name, type: tb, hash: hb });
      i++;
      j++;
    }
    return [directoryHash(ca), directoryHash(cb)];
  };

  [result.srcRoot, result.destRoot] = both(src, dest, '');
  return result;
}
