/**
 * BlobStorage on a local directory:
 *   packs/<first two hex digits>/<pack id>.pack    (fan-out keeps directories small)
 *   snapshots/<snapshot id>.snap
 * Writes go to tmp/ and are renamed into place after fsync, then the directory is fsynced.
 * Read handles are cached (a restore reads many ranges of few packs).
 */
import { closeSync, constants, fstatSync, openSync, promises as fsp, readdirSync, readFileSync, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FormatError, NotFoundError, ToolkitError } from '../errors/index.js';
import { directOpenFlag, isDirectAligned } from '../fs/direct-io.js';
import { isNoSpace, noSpaceError } from '../fs/free-space.js';
import { fsyncDir } from '../util/atomic-file.js';
import { type BlobKind, type BlobStorage, type BlobWriter, putThroughWriter } from './blob-storage.js';
import { DIRS, PACK_SUFFIX, SNAPSHOT_SUFFIX } from './store-layout.js';
import { randomTag } from '../util/random-tag.js';

const MAX_OPEN_HANDLES = 64;
/** What a file creation, a rename or a new directory needs at least: one block. */
const FS_BLOCK = 4096;

export class FsStorage implements BlobStorage {
  private readonly handles = new Map<string, OpenHandle>();
  private readonly syncFds = new Map<string, number>();
  private readonly madeDirs = new Set<string>();

  /** Whether packs may be written with O_DIRECT (the CLI's FOXING_DIRECT_PACKS=0 says no); default yes. */
  private readonly directPacks: boolean;

  constructor(readonly root: string, opts: { directPacks?: boolean } = {}) {
    this.directPacks = opts.directPacks ?? true;
  }

  get descriptor(): { kind: 'dir'; root: string; directPacks: boolean } {
    return { kind: 'dir', root: this.root, directPacks: this.directPacks };
  }

  private readonly packPaths = new Map<string, string>();

  private path(kind: BlobKind, name: string): string {
    const cached = kind === 'pack' ? this.packPaths.get(name) : undefined;
    if (cached) return cached;
    if (!/^[0-9a-f]{8,64}$/.test(name)) throw new FormatError(`invalid ${kind} name '${name}'`);
    if (kind === 'snapshot') return join(this.root, DIRS.snapshots, name + SNAPSHOT_SUFFIX);
    const p = join(this.root, DIRS.packs, name.slice(0, 2), name + PACK_SUFFIX);
    if (this.packPaths.size < 100_000) this.packPaths.set(name, p);
    return p;
  }

  describe(kind: BlobKind, name: string): string {
    return this.path(kind, name);
  }

  localPath(kind: BlobKind, name: string): string {
    return this.path(kind, name);
  }

  /** Creates dir if needed; true when it had to be created (the caller may fsync its parent). */
  private async ensureDir(dir: string): Promise<boolean> {
    if (this.madeDirs.has(dir)) return false;
    const created = await fsp.mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
    return created !== undefined;
  }

  put(kind: BlobKind, name: string, data: Uint8Array): Promise<void> {
    return putThroughWriter(this, kind, name, data);
  }

  /** Set when this file system refused O_DIRECT: later blobs are written buffered. */
  private directRefused = false;

  /**
   * A blob writer whose failures name the store: on a full file system NO_SPACE errors with the
   * bytes of the write and the bytes free, one line the user can act on, where a bare ENOSPC
   * named neither (issue 18, D6); any other failure of the file system (EIO from a write, an
   * fsync or a rename) IO, with its errno and syscall. Errors of our own pass as they are.
   */
  async create(kind: BlobKind, options: { direct?: boolean } = {}): Promise<BlobWriter> {
    const full = (err: unknown, needed: number) => {
      if (isNoSpace(err)) return noSpaceError(this.root, needed, err);
      const e = err as NodeJS.ErrnoException;
      if (err instanceof ToolkitError || typeof e?.code !== 'string') return err;
      // The path Node names (a fan-out directory, the temporary), else the store: fsync has none.
      const where = typeof e.path === 'string' ? e.path : this.root;
      return new ToolkitError('IO', `${where}: cannot write a ${kind} (${e.syscall ?? 'write'}): ${e.message.replace(/^[A-Z]+: /, '').replace(/,.*$/, '')} (${e.code})`,
        { path: where, errno: e.code, syscall: e.syscall }, { cause: err });
    };
    let w: BlobWriter;
    try { w = await this.openBlob(kind, options); } catch (err) { throw full(err, FS_BLOCK); }
    return {
      get bytesWritten() { return w.bytesWritten; },
      write: (data) => w.write(data).catch((err: unknown) => {
        throw full(err, data instanceof Uint8Array ? data.byteLength : data.reduce((n, p) => n + p.byteLength, 0));
      }),
      commit: (name) => w.commit(name).catch((err: unknown) => { throw full(err, FS_BLOCK); }),
      abort: () => w.abort(),
    };
  }

  private async openBlob(kind: BlobKind, options: { direct?: boolean }): Promise<BlobWriter> {
    const tmpDir = join(this.root, DIRS.tmp);
    await this.ensureDir(tmpDir);
    const tmp = join(tmpDir, `${kind}-${process.pid}-${randomTag(12)}`);
    // With `direct`, whole aligned blocks go through an O_DIRECT descriptor and the rest through
    // a buffered one on the same file (both write at explicit positions). The file is created
    // writable by its owner (for the second open) and made read-only at commit.
    const direct = options.direct && directOpenFlag(this.directPacks) !== 0 && !this.directRefused ? await this.openDirect(tmp) : null;
    const fh = direct
      ? await fsp.open(tmp, 'r+').catch(async (err) => { await direct.close(); await fsp.rm(tmp, { force: true }); throw err; })
      : await fsp.open(tmp, 'wx', 0o444);
    let directOk = direct !== null;
    let written = 0;
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await Promise.all([fh.close(), direct?.close()]);
    };
    return {
      get bytesWritten() { return written; },
      write: async (data) => {
        const parts: readonly Uint8Array[] = data instanceof Uint8Array ? [data] : data;
        // The position is taken before the first await: writes may overlap, each lands where
        // it was called in order (callers keep `data` untouched until its write resolves).
        const at = written;
        for (const p of parts) written += p.byteLength;
        let done = 0;
        if (directOk && directAligned(parts, at)) {
          try {
            done = parts.length === 1
              ? (await direct!.write(parts[0], 0, parts[0].byteLength, at)).bytesWritten
              : (await direct!.writev(parts as Uint8Array[], at)).bytesWritten;
          } catch (err) {
            // A file system that takes the flag at open but not at write: buffered from now on.
            if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
            directOk = false;
            this.directRefused = true;
          }
        }
        // What O_DIRECT did not take (unaligned, refused, a short write) goes through the
        // buffered descriptor.
        let pos = at;
        for (const p of parts) {
          let off = Math.min(p.byteLength, Math.max(0, at + done - pos));
          while (off < p.byteLength) off += (await fh.write(p, off, p.byteLength - off, pos + off)).bytesWritten;
          pos += p.byteLength;
        }
      },
      commit: async (name) => {
        if (direct) await fh.chmod(0o444);
        await fh.sync();
        await close();
        const dest = this.path(kind, name);
        // A new fan-out directory must itself be durable, or the renamed pack could vanish with it.
        if (await this.ensureDir(dirname(dest))) await fsyncDir(dirname(dirname(dest)));
        await fsp.rename(tmp, dest);
        await fsyncDir(dirname(dest));
        // A commit over an existing name (repair rebuilding a pack byte for byte) must not
        // leave cached readers on the old file.
        this.dropHandles(dest);
      },
      abort: async () => {
        await close().catch(() => {});
        await fsp.rm(tmp, { force: true });
      },
    };
  }

  /** Creates `tmp` for O_DIRECT writes, or returns null (and stops trying) where the file system refuses. */
  private async openDirect(tmp: string): Promise<FileHandle | null> {
    try {
      return await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | directOpenFlag(this.directPacks), 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
      // Linux creates the file before the file system refuses the flag.
      await fsp.rm(tmp, { force: true });
      this.directRefused = true;
      return null;
    }
  }

  /**
   * A cached read handle. Handles are counted while a read uses them: an evicted handle is
   * closed only when its last reader is done (closing it under a pending read would fail that
   * read with EBADF).
   */
  private acquire(kind: BlobKind, name: string): OpenHandle {
    const p = this.path(kind, name);
    let h = this.handles.get(p);
    if (!h) {
      if (this.handles.size >= MAX_OPEN_HANDLES) {
        const [oldest, old] = this.handles.entries().next().value as [string, OpenHandle];
        this.handles.delete(oldest);
        old.evicted = true;
        if (old.users === 0) closeHandle(old);
      }
      const fh = fsp.open(p, 'r').catch((err: NodeJS.ErrnoException) => {
        this.handles.delete(p);
        if (err.code === 'ENOENT') throw new NotFoundError(`${p}: ${kind} is missing`, { path: p }, 'MISSING_BLOB');
        throw err;
      });
      fh.catch(() => {});
      h = { fh, users: 0, evicted: false };
      this.handles.set(p, h);
    }
    h.users++;
    return h;
  }

  private release(h: OpenHandle): void {
    h.users--;
    if (h.evicted && h.users === 0) closeHandle(h);
  }

  /**
   * Synchronous ranged read, for callers that walk many small reads from the page cache (tree
   * loading during a snapshot) where a thread-pool round trip per read dominates.
   */
  readRangeSync(kind: BlobKind, name: string, offset: number, length: number): Buffer {
    const p = this.path(kind, name);
    const fd = this.syncFd(kind, p);
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    if (got < length) {
      throw new FormatError(`${p}: truncated (wanted ${length} bytes at offset ${offset}, file ends after ${got})`, { path: p }, 'TRUNCATED');
    }
    return buf;
  }

  /** Synchronous size, through the same cached descriptor as readRangeSync (gc reads thousands of pack trailers). */
  sizeSync(kind: BlobKind, name: string): number {
    return fstatSync(this.syncFd(kind, this.path(kind, name))).size;
  }

  private syncFd(kind: BlobKind, p: string): number {
    let fd = this.syncFds.get(p);
    if (fd !== undefined) return fd;
    if (this.syncFds.size >= MAX_OPEN_HANDLES) {
      const [oldest, ofd] = this.syncFds.entries().next().value as [string, number];
      this.syncFds.delete(oldest);
      closeSync(ofd);
    }
    try {
      fd = openSync(p, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${p}: ${kind} is missing`, { path: p }, 'MISSING_BLOB');
      throw err;
    }
    this.syncFds.set(p, fd);
    return fd;
  }

  async get(kind: BlobKind, name: string): Promise<Buffer> {
    const p = this.path(kind, name);
    try {
      return await fsp.readFile(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${p}: ${kind} is missing`, { path: p }, 'MISSING_BLOB');
      throw err;
    }
  }

  /** Synchronous get: a snapshot record is read in a few microseconds, a thread-pool round trip costs more. */
  getSync(kind: BlobKind, name: string): Buffer {
    const p = this.path(kind, name);
    try {
      return readFileSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${p}: ${kind} is missing`, { path: p }, 'MISSING_BLOB');
      throw err;
    }
  }

  async readRange(kind: BlobKind, name: string, offset: number, length: number): Promise<Buffer> {
    const h = this.acquire(kind, name);
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    try {
      const fh = await h.fh;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } finally {
      this.release(h);
    }
    if (got < length) {
      throw new FormatError(`${this.path(kind, name)}: truncated (wanted ${length} bytes at offset ${offset}, file ends after ${got})`,
        { path: this.path(kind, name) }, 'TRUNCATED');
    }
    return buf;
  }

  async size(kind: BlobKind, name: string): Promise<number> {
    const p = this.path(kind, name);
    try {
      return (await fsp.stat(p)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${p}: ${kind} is missing`, { path: p }, 'MISSING_BLOB');
      throw err;
    }
  }

  async exists(kind: BlobKind, name: string): Promise<boolean> {
    try { await fsp.access(this.path(kind, name)); return true; } catch { return false; }
  }

  async *list(kind: BlobKind): AsyncIterable<string> {
    yield* this.listSync(kind);
  }

  /**
   * The blob names, with readdirSync: a store's snapshot directory is listed at every open, and
   * a thread-pool round trip per directory costs a small command more than the listing itself.
   */
  listSync(kind: BlobKind): string[] {
    const names: string[] = [];
    if (kind === 'snapshot') {
      for (const f of readdirOrEmpty(join(this.root, DIRS.snapshots))) {
        if (f.endsWith(SNAPSHOT_SUFFIX)) names.push(f.slice(0, -SNAPSHOT_SUFFIX.length));
      }
      return names;
    }
    for (const fan of readdirOrEmpty(join(this.root, DIRS.packs)).sort()) {
      for (const f of readdirOrEmpty(join(this.root, DIRS.packs, fan)).sort()) {
        if (f.endsWith(PACK_SUFFIX)) names.push(f.slice(0, -PACK_SUFFIX.length));
      }
    }
    return names;
  }

  async remove(kind: BlobKind, name: string): Promise<void> {
    const p = this.path(kind, name);
    this.dropHandles(p);
    // unlink, not rm: rm lstats first (gc and prune remove thousands of blobs).
    await fsp.unlink(p).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err; });
  }

  private dropHandles(p: string): void {
    const h = this.handles.get(p);
    if (h) {
      this.handles.delete(p);
      h.evicted = true;
      if (h.users === 0) closeHandle(h);
    }
    const fd = this.syncFds.get(p);
    if (fd !== undefined) { this.syncFds.delete(p); closeSync(fd); }
  }

  async close(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(all.map((h) => h.fh.then((x) => x.close()).catch(() => {})));
    for (const fd of this.syncFds.values()) closeSync(fd);
    this.syncFds.clear();
  }
}

interface OpenHandle { fh: Promise<FileHandle>; users: number; evicted: boolean }

function closeHandle(h: OpenHandle): void {
  h.fh.then((x) => x.close()).catch(() => {});
}

function readdirOrEmpty(dir: string): string[] {
  try { return readdirSync(dir); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Whether `parts`, written back to back from `position`, may all go through O_DIRECT. */
function directAligned(parts: readonly Uint8Array[], position: number): boolean {
  let at = position;
  for (const p of parts) {
    if (!isDirectAligned(p, at)) return false;
    at += p.byteLength;
  }
  return true;
}
