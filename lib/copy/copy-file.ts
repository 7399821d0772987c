/**
 * One non-directory entry of a copy: compared with what the destination holds under its name,
 * then written, linked, made, or only given its attributes, and reported.
 *
 * - A regular file is written by file-write.ts (a temporary renamed into place, or the file
 *   itself under --inplace; reflink, copy_file_range or reads and writes, holes kept), most
 *   in batches through the addon (write-batcher.ts).
 * - Hard links (-a): the first member of a group (same source dev and inode, nlink > 1) is
 *   copied; the others become links to its copy, or are left alone when they already are.
 * - Symlinks are copied as symlinks (never followed); fifos, sockets and devices are made
 *   again (devices as root only). Without -a these are skipped, as rsync -r skips them.
 * - Attributes: -a applies mode, owner (as root), xattrs and times after the data
 *   (lib/fs/apply-meta.ts); without -a a new file gets the source's permission bits less the
 *   umask, a replaced one keeps the permission bits it had (cp and rsync without -p).
 */
import { chmodSync, lstatSync } from 'node:fs';
import { processUmask } from '../fs/umask.js';
import type { FileMeta } from '../fs/file-meta.js';
import { joinPath } from '../fs/fs-path.js';
import type { ScannedDir } from '../fs/scan-dir.js';
import { shownPath } from './copy-paths.js';
import type { Materializer } from '../fs/materialize.js';
import { ToolkitError } from '../errors/index.js';
import type { CopyOptions, CopyResult, WriteStrategy } from './copy-types.js';
import { anyChange, attributeChanges, type KeepAttributes, sameByQuickCheck } from './entry-compare.js';
import { fileDigest, sameContent } from './file-checksum.js';
import { type Changes, itemize } from './itemize.js';
import type { CopySigner } from './copy-signer.js';
import { DELTA_MIN_BYTES, type DeltaResult, writeDelta } from './delta-write.js';
import { attributesOf, type FileWrite } from './file-write.js';
import { signFile } from '../signature/file-signature.js';
import type { WriteBatcher } from './write-batcher.js';

const NEW_FILE = itemize('write', 'file', true);
const UNCHANGED_FILE = itemize('attrs', 'file', false);

interface LinkGroup { path: Buffer; rel: string; ready: Promise<boolean> }

export class FileCopier {
  private readonly links = new Map<string, LinkGroup>();
  private readonly umask = processUmask();

  constructor(private readonly out: Materializer, private readonly opts: CopyOptions, private readonly keep: KeepAttributes,
    private readonly result: CopyResult, private readonly writer: WriteBatcher, private readonly signer: CopySigner | null,
    /** Waited for before the first change to DEST (the engine's opts.beforeChange); null once passed. */
    private readonly changing: () => Promise<void> | null = () => null) {}

  /** Copies entry `meta` from `src` to `dst` (`before`: what is there now); true when that changed the directory. */
  async entry(meta: FileMeta, src: Buffer, dst: Buffer, rel: string, before: FileMeta | null, dev: bigint): Promise<boolean> {
    if (meta.type === 'file') return this.file(meta, src, dst, rel, before, dev);
    if (!this.opts.archive) {
      this.opts.onWarn('SKIPPED', `${rel}: skipping non-regular file (a ${meta.type}; -a copies it)`, { path: rel });
      return false;
    }
    if (meta.type === 'symlink') this.result.symlinks++;
    else this.result.specials++;
    const same = before !== null && before.type === meta.type &&
      (meta.type === 'symlink' ? before.linkTarget!.equals(meta.linkTarget!) : before.rdev === meta.rdev);
    if (same) return this.attributes(meta, dst, rel, before!);
    // The same type made again: its value (target, device) changed, and whatever attributes did.
    const changes: Changes = before && before.type === meta.type ? { ...attributeChanges(meta, before, this.keep), checksum: true } : {};
    if (!this.opts.dryRun) {
      await this.changing();
      if (meta.type === 'symlink') await this.out.symlink(dst, meta.linkTarget!);
      else await this.out.special(dst, meta);
      await this.out.applyMeta(dst, meta);
    }
    this.result.created++;
    this.opts.onAction?.({ kind: 'create', type: meta.type, path: rel, itemize: itemize('create', meta.type, before?.type !== meta.type, changes),
      ...(meta.linkTarget ? { target: meta.linkTarget.toString('utf8') } : {}) });
    return true;
  }

  /**
   * Regular file i of `scan` decided from the two listings alone (`dest`'s entry j, -1 when
   * none), without building its metadata: false when it is unchanged, or its write started in a
   * batch (resolves true when done; rejects with the file's problem). Null when it needs the
   * general way (`entry`): -c, -n, a hard-link group, a source with xattrs, a destination
   * entry that is not a file, attributes alone changed, --inplace over an old file, a file the
   * batches do not take, or an old file replaced while each action is reported (its itemized
   * changes need both entries' metadata). `parent`: `dstDir` is new and may not be made yet
   * (the job makes it if it runs first; copy-files-native.ts).
   */
  packed(scan: ScannedDir, i: number, dest: ScannedDir | null, j: number, dstDir: Buffer, relDir: string, dev: bigint,
    parent?: { mode: number; levels: number }): Promise<boolean> | false | null {
    const o = this.opts, size = scan.rawSize(i);
    if (o.checksum || o.dryRun || (o.hardLinks && scan.nlink(i) > 1) || (o.archive && scan.xattrBytes(i) !== 0)) return null;
    if (j >= 0) {
      // (The destination's xattrs do not matter: the source has none, and a copy removes none.)
      if (dest!.type(j) !== 'file') return null;
      if (size === dest!.rawSize(j) && scan.sameMtime(i, dest!, j)) {
        const k = this.keep;
        if ((k.perms && scan.mode(i) !== dest!.mode(j)) || (k.owner && (scan.uid(i) !== dest!.uid(j) || scan.gid(i) !== dest!.gid(j)))) return null;
        this.unchangedInBulk(1, size);
        this.signer?.signListed(dest!, j, () => joinPath(dstDir, scan.name(i)));
        this.reportUnchanged(relDir, scan.name(i));
        return false;
      }
      if (o.inplace || o.onAction || (size >= DELTA_MIN_BYTES && this.deltaOn())) return null;
    }
    // The first change to DEST waits for `changing`: the general way, which can.
    if (this.changing()) return null;
    const blocks = scan.blocks(i);
    if (!this.writer.takes({ size, blocks })) return null;
    const name = scan.name(i), src = joinPath(scan.dir, name), dst = joinPath(dstDir, name);
    const meta = { size, blocks, ino: scan.ino(i), atimeNs: scan.atimeNs(i), mtimeNs: scan.mtimeNs(i), dev: scan.dev(i), uid: scan.uid(i), gid: scan.gid(i), mode: scan.mode(i) };
    const plainMode = j >= 0 ? dest!.mode(j) : meta.mode & 0o777 & ~this.umask;
    this.result.files++;
    this.result.bytes += size;
    return this.writer.copy(this.writer.job(src, dst, meta, dev, o.archive, plainMode, j < 0, parent)).then((copied) => {
      this.wrote(copied, () => shownPath(relDir, name), size, j < 0 ? NEW_FILE : '');
      this.signer?.sign(dst);
      if (o.verify) this.verify(src, dst);
      return true;
    }).finally(() => this.progressed(size));
  }

  /** New regular files handed to a directory's groups (dir-group.ts): counted now, each reported by groupWritten. */
  grouped(files: number, bytes: number): void {
    this.result.files += files;
    this.result.bytes += bytes;
  }

  /** A file of a directory's group written (`name` in `relDir`, shown only if asked). */
  groupWritten(relDir: string, name: () => Buffer, size: number, strategy: WriteStrategy, bytes: number): void {
    this.wrote({ strategy, bytes }, () => shownPath(relDir, name()), size, NEW_FILE);
    this.progressed(size);
  }

  /** `files` files of a directory's group, `sizes` bytes, all written: `bytes` of data, so many by reflink, copy_file_range, read and write. */
  groupWrittenAll(files: number, sizes: number, bytes: number, reflinks: number, ranges: number, readWrites: number): void {
    const r = this.result, by = r.strategies;
    r.written += files;
    r.bytesWritten += bytes;
    if (reflinks > 0) by.reflink = (by.reflink ?? 0) + reflinks;
    if (ranges > 0) by['copy-range'] = (by['copy-range'] ?? 0) + ranges;
    if (readWrites > 0) by['read-write'] = (by['read-write'] ?? 0) + readWrites;
    if (this.opts.progress) { this.opts.progress.files += files; this.opts.progress.bytes += sizes; }
  }

  /** A file of a directory's group that failed: its progress counted (the problem is the caller's). */
  groupFailed(size: number): void {
    this.progressed(size);
  }

  /** `count` regular files of `bytes` in all found unchanged from their directories' listings (lib/fs/scan-pair.ts). */
  unchangedInBulk(count: number, bytes: number): void {
    this.result.files += count;
    this.result.bytes += bytes;
    this.result.unchanged += count;
    if (this.opts.progress) { this.opts.progress.files += count; this.opts.progress.bytes += bytes; }
  }

  /** An unchanged regular file reported (--json, -i). */
  reportUnchanged(relDir: string, name: Buffer): void {
    this.opts.onAction?.({ kind: 'unchanged', type: 'file', path: shownPath(relDir, name), itemize: UNCHANGED_FILE });
  }

  /** The umask's permission bits applied to a new entry's mode, without -a (mkdir and open already did, for directories). */
  newEntryMode(path: Buffer, meta: FileMeta): void {
    chmodSync(path, meta.mode & 0o777 & ~this.umask);
  }

  private progressed(size: number): void {
    if (this.opts.progress) { this.opts.progress.files++; this.opts.progress.bytes += size; }
  }

  /** A regular file written, counted and reported. */
  private wrote(copied: { strategy: WriteStrategy; bytes: number }, rel: () => string, size: number, item: string, reused?: number): void {
    this.result.written++;
    this.result.bytesWritten += copied.bytes;
    this.result.strategies[copied.strategy] = (this.result.strategies[copied.strategy] ?? 0) + 1;
    this.opts.onAction?.({ kind: 'write', type: 'file', path: rel(), itemize: item, size, strategy: copied.strategy, bytes: copied.bytes,
      ...(reused !== undefined ? { reused } : {}) });
  }

  private async file(meta: FileMeta, src: Buffer, dst: Buffer, rel: string, before: FileMeta | null, dev: bigint): Promise<boolean> {
    this.result.files++;
    this.result.bytes += meta.size;
    const key = this.opts.hardLinks && meta.nlink > 1 ? `${meta.dev}:${meta.ino}` : null;
    const group = key ? this.links.get(key) : undefined;
    try {
      if (group && await group.ready) return this.linkMember(dst, rel, before, group);
      let placed: (ok: boolean) => void = () => {};
      if (key && !group) {
        this.links.set(key, { path: dst, rel, ready: new Promise((r) => { placed = r; }) });
        this.out.pin(dst);
      }
      try {
        const changed = await this.fileData(meta, src, dst, rel, before, dev);
        placed(true);
        return changed;
      } catch (err) {
        placed(false);
        throw err;
      }
    } finally {
      this.progressed(meta.size);
    }
  }

  private async fileData(meta: FileMeta, src: Buffer, dst: Buffer, rel: string, before: FileMeta | null, dev: bigint): Promise<boolean> {
    const old = before?.type === 'file' ? before : null;
    let differs = false;
    if (old) {
      const same = this.opts.checksum ? old.size === meta.size && this.sameData(src, dst, old) : sameByQuickCheck(meta, old);
      if (same) return this.attributes(meta, dst, rel, old);
      differs = this.opts.checksum && old.size === meta.size;
    }
    await this.changing();
    const changes: Changes = old ? { ...attributeChanges(meta, old, this.keep), checksum: differs, size: old.size !== meta.size, time: old.mtimeNs !== meta.mtimeNs } : {};
    const item = itemize('write', 'file', !before, changes);
    if (this.opts.dryRun) {
      this.result.written++;
      this.opts.onAction?.({ kind: 'write', type: 'file', path: rel, itemize: item, size: meta.size });
      return true;
    }
    // Attributes go onto the temporary before it is renamed (file-write.ts): the name never
    // shows the new data with the wrong mode, owner or time.
    const w: FileWrite = {
      src, dst, meta, dev, inplace: old !== null && this.opts.inplace, archive: this.opts.archive,
      plainMode: old ? old.mode & 0o7777 : meta.mode & 0o777 & ~this.umask, fresh: before === null,
    };
    const delta = old && !w.inplace && meta.size >= DELTA_MIN_BYTES ? await this.delta(w, old) : null;
    if (delta) {
      this.result.bytesReused += delta.reused;
      this.wrote({ strategy: 'delta', bytes: delta.written }, () => rel, meta.size, item, delta.reused);
      this.signer?.record(dst, delta.signature);
      if (this.opts.verify) this.verify(src, dst, delta.signature.content);
      return true;
    }
    const copied = await this.writer.write(w);
    this.wrote(copied, () => rel, meta.size, item);
    this.signer?.sign(dst);
    if (this.opts.verify) this.verify(src, dst);
    return true;
  }

  /** --verify: the file written at `dst` read back; its BLAKE3 must be the source's (`expected`, or read from `src`). */
  private verify(src: Buffer, dst: Buffer, expected?: Uint8Array): void {
    const block = Buffer.allocUnsafe(1 << 20);
    const want = expected ? Buffer.from(expected) : fileDigest(src, block);
    if (!fileDigest(dst, block).equals(want)) {
      throw new ToolkitError('VERIFY', 'the copy read back differs from the source (the source changed meanwhile, or the destination is failing)');
    }
  }

  /** Whether a changed file of DELTA_MIN_BYTES or more may be rebuilt from its old chunks. */
  private deltaOn(): boolean {
    return this.opts.delta === 'always' || (this.opts.delta !== 'never' && this.signer !== null);
  }

  /** `w` rebuilt from the old file's chunks (delta-write.ts), or null: copy it whole. */
  private async delta(w: FileWrite, old: FileMeta): Promise<DeltaResult | null> {
    if (!this.deltaOn()) return null;
    let sig = this.signer?.recorded(old) ?? null;
    if (!sig && this.opts.delta === 'always') {
      try { sig = signFile(w.dst); } catch { return null; }
    }
    return sig ? writeDelta(this.out, w, sig, attributesOf(this.out, w)) : null;
  }

  /** -c: the same bytes, by BLAKE3; the destination's from its valid signature when it has one (not read then). */
  private sameData(src: Buffer, dst: Buffer, old: FileMeta): boolean {
    const sig = this.signer?.recorded(old);
    return sig ? fileDigest(src).equals(sig.content) : sameContent(src, dst);
  }

  /** A later member of a hard-link group: left alone when it is already a link to the group's copy, else linked to it. */
  private async linkMember(dst: Buffer, rel: string, before: FileMeta | null, group: LinkGroup): Promise<boolean> {
    if (before?.type === 'file' && !this.opts.dryRun) {
      const first = lstatSync(group.path, { bigint: true, throwIfNoEntry: false });
      if (first && first.ino === before.ino && first.dev === before.dev) {
        this.result.unchanged++;
        this.opts.onAction?.({ kind: 'unchanged', type: 'file', path: rel, itemize: itemize('hardlink', 'file', false) });
        return false;
      }
    }
    if (!this.opts.dryRun) {
      await this.changing();
      await this.out.hardlink(dst, group.path);
    }
    this.result.linked++;
    this.opts.onAction?.({ kind: 'hardlink', type: 'file', path: rel, itemize: itemize('hardlink', 'file', !before), linkTo: group.rel });
    return true;
  }

  /** An entry whose content is the same: its attributes alone, when they differ. */
  private async attributes(meta: FileMeta, dst: Buffer, rel: string, before: FileMeta): Promise<boolean> {
    const changes = attributeChanges(meta, before, this.keep);
    const signer = meta.type === 'file' && !this.opts.dryRun ? this.signer : null;
    if (!anyChange(changes)) {
      signer?.sign(dst, before);
      this.result.unchanged++;
      this.opts.onAction?.({ kind: 'unchanged', type: meta.type, path: rel, itemize: itemize('attrs', meta.type, false) });
      return false;
    }
    if (!this.opts.dryRun) {
      await this.changing();
      await this.out.applyMeta(dst, meta);
    }
    // Setting attributes moved the file's ctime: its signature is made anew.
    signer?.sign(dst);
    this.result.attrsOnly++;
    this.opts.onAction?.({ kind: 'attrs', type: meta.type, path: rel, itemize: itemize('attrs', meta.type, false, changes),
      ...(meta.linkTarget ? { target: meta.linkTarget.toString('utf8') } : {}) });
    return false;
  }
}
