/**
 * One directory of a snapshot's source as the archiver lists it: the directory's scan
 * (lib/fs/scan-dir.ts) less what a snapshot leaves out (excluded entries, the store itself,
 * entries that cannot be read, which are reported as problems here).
 *
 * Entries stay packed until asked for: the listing fingerprint that tells an unchanged
 * directory (listing-memo.ts) is computed from the packed fields, so an unchanged directory
 * only ever builds objects for its subdirectories (`entry`); a changed one builds all of them
 * (`entries`), once.
 */
import { readlinkSync } from 'node:fs';
import { scanDir, type ScanWalk, type ScannedDir } from '../fs/index.js';
import type { FileMeta } from '../fs/file-meta.js';
import type { ExcludeTest } from '../filter/exclude-rules.js';
import type { Warn } from '../errors/index.js';
import { scannedListingFingerprint } from './listing-memo.js';

/**
 * A listed entry of the directory being walked. `xattrBytes`: the size of its xattr name list
 * when the scan was asked for it (0: it has none, nothing to read), -1 when not known.
 */
export interface Listed { path: Buffer; rel: string; meta: FileMeta; xattrBytes: number }

export interface ListingRules {
  exclude?: ExcludeTest;
  /** The store's directory (inodeKey of its dev and ino): left out, with a warning, if met. */
  storeInode: Uint8Array | null;
  /** The source's path, for the store warning. */
  source: string;
  onWarn: Warn;
  /** An entry (or the directory) that cannot be read: reported, and left out. */
  onProblem(rel: string, err: unknown): void;
  /** The walk's number for scanning ahead (lib/fs/scan-dir.ts, newScanWalk); absent: none. */
  scanWalk?: ScanWalk;
}

export function childRel(rel: string, name: Buffer): string {
  const n = name.toString('utf8');
  return rel ? `${rel}/${n}` : n;
}

export class DirListing {
  /** Scan indices of the entries the snapshot keeps, in name order. */
  readonly kept: number[] = [];
  private all: Listed[] | null = null;

  private constructor(readonly scan: ScannedDir, readonly rel: string, private readonly rules: ListingRules) {}

  /**
   * Lists directory `path` (`rel` in the source); null, reported, when it cannot be listed.
   * `xattrSizes`: size each entry's xattrs (lib/fs/scan-dir.ts), for a directory whose every
   * entry's xattrs will be read (one with no parent tree).
   */
  static list(path: Buffer, rel: string, rules: ListingRules, xattrSizes = false): DirListing | null {
    let scan: ScannedDir;
    try {
      scan = scanDir(path, xattrSizes, rules.scanWalk);
    } catch (err) {
      rules.onProblem(rel || '.', err);
      return null;
    }
    const listing = new DirListing(scan, rel, rules);
    for (let i = 0; i < scan.count; i++) {
      const type = scan.type(i);
      if (type === null) {
        // Not stat'ed, or of an unknown type: building the entry gives the error to report.
        const e = scan.entry(i, { xattrs: false });
        rules.onProblem(childRel(rel, scan.name(i)), e.error ?? new Error('unknown file type'));
        continue;
      }
      if (rules.exclude?.(childRel(rel, scan.name(i)), type === 'dir')) continue;
      if (type === 'dir' && rules.storeInode !== null && scan.hasInode(i, rules.storeInode)) {
        const cr = childRel(rel, scan.name(i));
        rules.onWarn('SKIPPED_STORE', `${rules.source}/${cr}: is the store itself; left out of the snapshot`, { path: cr });
        continue;
      }
      listing.kept.push(i);
    }
    return listing;
  }

  /** The kept entry at scan index i as an object, or null (reported) if it cannot be read now. */
  entry(i: number): Listed | null {
    const s = this.scan.entry(i, { xattrs: false, onWarn: this.rules.onWarn });
    const rel = childRel(this.rel, s.name);
    if (s.error) {
      this.rules.onProblem(rel, s.error);
      return null;
    }
    return { path: s.path, rel, meta: s.meta, xattrBytes: this.scan.xattrBytes(i) };
  }

  /** Every kept entry as an object (built once). */
  entries(): Listed[] {
    if (!this.all) {
      this.all = [];
      for (const i of this.kept) {
        const l = this.entry(i);
        if (l) this.all.push(l);
      }
    }
    return this.all;
  }

  private subdirs: number[] | null = null;

  /** Scan indices of the kept subdirectories, in name order. */
  dirs(): number[] {
    this.subdirs ??= this.kept.filter((i) => this.scan.type(i) === 'dir');
    return this.subdirs;
  }

  /**
   * The listing fingerprint of the kept entries (listing-memo.ts), from the packed fields; null
   * when a symlink's target cannot be read now (the caller takes the slow path, which reports it).
   */
  fingerprint(): Buffer | null {
    let targets: Map<number, Buffer> | null = null;
    for (const i of this.kept) {
      if (this.scan.type(i) !== 'symlink') continue;
      targets ??= new Map();
      try {
        targets.set(i, readlinkSync(this.scan.entryPath(i), { encoding: 'buffer' }));
      } catch {
        return null;
      }
    }
    return scannedListingFingerprint(this.scan, this.kept, targets ?? NO_TARGETS);
  }
}

/** The symlink targets of a directory without symlinks (most): one empty map for all. */
const NO_TARGETS: ReadonlyMap<number, Buffer> = new Map();
