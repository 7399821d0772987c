/**
 * Import of a tar (plain, or zstd/gzip/xz/lz4-compressed, detected by content) as a snapshot
 * (docs/tar.md §Import).
 *
 * Pass 1 reads the archive once, in its order: file data goes through the store's chunker,
 * hash and codec into packs; each member becomes a tree entry spilled to a temporary sorted
 * map (lib/index/entry-spill.ts) keyed by its path components. Pass 2 reads the spill in key
 * order, which is a depth-first walk in tree order, and saves trees bottom-up. The snapshot
 * record is written last, after every chunk and tree is durable and indexed, so nothing
 * unrestorable is ever listed. The caller holds the store's shared lock.
 *
 * Threads (docs/tar.md §Threads): this thread parses the tar (zstd, gzip and xz are decoded
 * on a worker of their own, tar-decompress.ts) and decides every member's fate in archive
 * order; file data is chunked, hashed, compressed and packed by worker threads
 * (lib/store/stream-chunk-pool.ts) while parsing goes on. A member's tree entry is complete
 * except for its chunk list, which comes back later, so entries wait in `PutQueue` (put-queue.ts) and reach
 * the spill in archive order once their chunks are known: the spill, the checks against
 * earlier members and the trees are exactly what a single-thread import makes.
 * The workers start only after WORKERS_AFTER bytes of file data (a small tar never pays for
 * them); before that, and with `workers: 0`, data is chunked on this thread (StreamChunker).
 *
 * Memory: the workers' windows (a few batches of 4 MiB each), at most QUEUE_MAX entries
 * waiting for their chunks, one open directory's entries per level of depth in pass 2, and
 * one path per hard-link group; not the archive's member list.
 *
 * Semantics (what GNU tar would leave on disk when extracting into an empty directory):
 *   - a later member with the same path replaces the earlier one;
 *   - directories missing from the archive are implied: mode 0755, the importing user's
 *     uid/gid, and the newest mtime of any member (so importing the same tar twice gives the
 *     same trees);
 *   - "./" (or ".") sets the root directory's metadata;
 *   - hard links copy the earlier member and share its content (a hard-link group on restore);
 *     a hard link to a member not (yet) in the archive is skipped with TAR_LINK_MISSING;
 *   - members the snapshot cannot hold (GNU sparse, volume labels, unknown types) and members
 *     under a path that is not a directory are skipped with a warning naming them.
 * Refused (FormatError, nothing listed): absolute paths, '..', hard-link targets with either,
 * and members that would pass through a symlink defined earlier in the archive.
 */
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { FormatError, rewordError, throwIfAborted } from '../errors/index.js';
import { codecLabel, DEFAULT_ZSTD_LEVEL, type CodecSpec } from '../codec/codec.js';
import { EntrySpill } from '../index/entry-spill.js';
import type { SpaceGuard } from '../fs/space-guard.js';
import type { Warn } from '../errors/index.js';
import { type ChunkWriter, type ClaimTable, type Store, type StreamChunker, type StreamChunkPool, storeWriters, type StoreWriters } from '../store/index.js';
import { killPoint } from '../util/kill-point.js';
import type { SnapshotRecord, SnapshotStats } from '../snapshot/snapshot-record.js';
import { commitSnapshot } from '../snapshot/snapshot-commit.js';
import { decodeTree } from '../snapshot/tree-codec.js';
import type { ChunkRef, TreeEntry } from '../snapshot/tree-entry.js';
import { defaultPoolSize } from '../util/worker-pool.js';
import { currentUser } from '../util/current-user.js';
import { TreeSaver } from '../snapshot/tree-store.js';
import { detectCompression, type TarCompression } from './tar-compress.js';
import { decompressForImport, OFF_THREAD_FROM, returnPiece, type ReturnedPieces } from './tar-decompress.js';
import { peekStream } from '../util/peek-stream.js';
import { BLOCK, checksumOk, isZeroBlock } from './tar-header.js';
import { pathKey, printable, splitKey, splitMemberPath } from './tar-path.js';
import { DIRS } from '../store/index.js';
import { readTar, type TarEntry } from './tar-reader.js';
import { PutQueue } from './put-queue.js';

export interface ImportTarOptions {
  /** What the snapshot records as its source (a file path, or "-"/"stdin"). */
  source: string;
  tags?: string[];
  codec?: CodecSpec;
  signal?: AbortSignal;
  onWarn?: Warn;
  /** Where the temporary spill lives (default: the store's tmp/, swept of dead processes' spills). */
  tmpDir?: string;
  onProgress?: (p: { entries: number; bytes: number }) => void;
  /** Checks free space before each write to a pack (see ChunkWriter); stops with NO_SPACE. */
  spaceGuard?: SpaceGuard;
  /** Worker threads for file data (default: one per core, at most MAX_WORKERS); 0: all on this thread. */
  workers?: number;
  /** Bytes of file data chunked on this thread before the workers start (default WORKERS_AFTER). */
  workersAfter?: number;
  /** Size of the workers' data packs (default PACK_TARGET_BYTES; tests make it small to seal often). */
  packTarget?: number;
}

/** A tar with less file data than this is imported on the calling thread alone (see top). */
export const WORKERS_AFTER = 16 << 20;
/**
 * The default number of file-data workers is capped: this thread parses the whole tar, and a
 * handful of workers already store faster than it parses (docs/BENCHMARKS.md); more only cost
 * memory (a V8 heap and an index handle each). Pass `workers` to override.
 */
export const MAX_WORKERS = 8;
/** Entries waiting for their chunk lists (behind one big member that is still being stored). */
const QUEUE_MAX = 16384;

export interface ImportTarResult {
  snapshotId: string;
  record: SnapshotRecord;
  /** Members imported (skipped ones not counted). */
  entries: number;
  skipped: number;
  bytes: number;
  compression: TarCompression;
}

const PLACEHOLDER_TREE = Buffer.alloc(32);

export async function importTar(source: AsyncIterable<Uint8Array>, store: Store, opts: ImportTarOptions): Promise<ImportTarResult> {
  const started = Date.now();
  const { head, stream, close } = await peekStream(source, BLOCK);
  const compression = detectCompression(head);
  if (compression === 'bzip2') await close();
  if (compression === 'bzip2') throw new FormatError(`${opts.source}: bzip2-compressed tars are not supported; use zstd, gzip, xz or lz4`, { path: opts.source }, 'TAR_COMPRESSION');
  if (compression === 'none' && (head.length < BLOCK || (!checksumOk(head) && !isZeroBlock(head)))) {
    await close();
    throw new FormatError(`${opts.source}: not a tar archive (no tar header or known compression at the start)`, { path: opts.source }, 'TAR_NOT_TAR');
  }
  const writers = await storeWriters();
  const writer = new writers.ChunkWriter(store, undefined, opts.spaceGuard ?? null);
  const spill = EntrySpill.open(opts.tmpDir ?? join(store.localDir, DIRS.tmp));
  const imp = new Importer(store, writer, spill, opts, writers);
  try {
    await store.reconcilePacks(opts.onWarn);
    const epoch = store.lossEpoch();
    // Temporary packs of killed writers (an import killed mid-pack), as `snap create` does.
    await store.cleanTmp();
    // Into an empty store its packs are indexed at the end, in id order (deferred-indexing.ts);
    // the writer and the data workers ask the import's claim table meanwhile.
    imp.claims = store.deferIndexingIfEmpty(writer);
    // Decoded on a worker too, unless everything is to stay on this thread; the reader then
    // hands the worker's pieces back once parsed, for it to decode into again.
    const offThread = (opts.workers ?? 1) > 0 && (compression === 'zstd' || compression === 'gzip' || compression === 'xz');
    const returned: ReturnedPieces | undefined = offThread ? [] : undefined;
    await imp.readAll(decompressForImport(stream, compression, offThread ? OFF_THREAD_FROM : null, returned), returned);
    const tree = await imp.buildTrees();
    await writer.flush();
    killPoint('import:before-merge');
    await store.endDeferredIndexing();
    const s = imp.stats;
    const data = imp.dataStats;
    s.newChunks = writer.stats.newChunks + data.newChunks;
    s.newBytes = writer.stats.newRawBytes + data.newRawBytes;
    s.storedBytes = writer.stats.newStoredBytes + data.newStoredBytes;
    s.durationMs = Date.now() - started;
    const codec = imp.codec;
    const { id, record } = await commitSnapshot(store, {
      version: 1, time: new Date(started).toISOString(), source: opts.source, host: hostname(), user: currentUser(),
      tags: [...new Set(opts.tags ?? [])].sort(), tree: tree.toString('hex'), parent: null,
      codec: codecLabel(codec), stats: s,
    }, epoch, opts.signal);
    return { snapshotId: id, record, entries: imp.entries, skipped: imp.skipped, bytes: s.bytes, compression };
  } catch (err) {
    await imp.abort();
    await writer.abort().catch(() => {});
    store.discardDeferredIndexing();
    throw namingArchive(err, opts.source);
  } finally {
    await imp.close();
    await spill.close();
  }
}

/**
 * What is wrong with the archive's bytes (a refused member, a damaged header or stream) is
 * found deep in the reader, which knows offsets, not the archive: its message gets the
 * archive's name in front, so every such line names the archive and the offset
 * ("evil.tar: offset 0: member '../escape' contains '..'; refused"), as the warnings do.
 */
function namingArchive(err: unknown, source: string): unknown {
  if (!(err instanceof FormatError) || err.message.startsWith(`${source}: `)) return err;
  return rewordError(err, `${source}: ${err.message}`, { archive: source, ...err.data });
}

class Importer {
  readonly codec: CodecSpec;
  readonly stats: SnapshotStats = {
    files: 0, dirs: 0, symlinks: 0, others: 0, bytes: 0, readBytes: 0, reusedFiles: 0,
    newChunks: 0, newBytes: 0, storedBytes: 0, errors: 0, durationMs: 0,
  };
  entries = 0;
  skipped = 0;
  private readonly chunker: StreamChunker;
  /** File data workers, started once WORKERS_AFTER bytes of file data have been seen. */
  private pool: StreamChunkPool | null = null;
  /** The import's claim table, when it indexes at its end (an empty store); its workers share it. */
  claims: ClaimTable | null = null;
  private dataSeen = 0;
  private readonly puts: PutQueue;
  private rootMeta: TreeEntry | null = null;
  private newestMtime = 0n;
  private nextIno = 1n;
  /** nlink of hard-link groups (ino → members); files not in it have nlink 1. */
  private readonly nlinks = new Map<bigint, number>();
  private readonly uid = process.getuid?.() ?? 0;
  private readonly gid = process.getgid?.() ?? 0;

  constructor(private readonly store: Store, private readonly writer: ChunkWriter, private readonly spill: EntrySpill,
    private readonly opts: ImportTarOptions, private readonly writers: StoreWriters) {
    this.codec = opts.codec ?? { name: 'zstd', level: DEFAULT_ZSTD_LEVEL };
    this.chunker = new writers.StreamChunker(store, writer, this.codec);
    this.puts = new PutQueue(spill);
  }

  /** What the workers added to data packs (this thread's chunks are counted by the writer). */
  get dataStats(): { newChunks: number; newRawBytes: number; newStoredBytes: number } {
    return this.pool?.stats ?? { newChunks: 0, newRawBytes: 0, newStoredBytes: 0 };
  }

  async abort(): Promise<void> {
    await this.pool?.abort();
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }

  /**
   * Stores one file member's data; resolves once the data is handed over, with the promise of
   * its chunk list (already settled when the data was chunked on this thread).
   */
  private async storeData(e: TarEntry): Promise<{ refs: Promise<ChunkRef[]> }> {
    const workers = this.opts.workers ?? Math.min(defaultPoolSize(), MAX_WORKERS);
    if (!this.pool && workers > 0 && this.dataSeen >= (this.opts.workersAfter ?? WORKERS_AFTER)) {
      // The chunks stored so far are indexed first (or, into an empty store, claimed in the
      // table the workers share), so the workers find them (dedup).
      await this.writer.flush();
      this.pool = new this.writers.StreamChunkPool(this.store, this.codec, workers, this.opts.packTarget, this.claims ?? undefined);
    }
    this.dataSeen += e.size;
    if (e.size === 0) {
      for await (const _ of e.data()) { /* a zero-size member has no data */ }
      return { refs: Promise.resolve([]) };
    }
    if (!this.pool) {
      for await (const piece of e.data()) await this.chunker.add(piece);
      return { refs: Promise.resolve((await this.chunker.finish()).chunks) };
    }
    const s = this.pool.begin(e.size);
    for await (const piece of e.data()) await s.write(piece);
    return s.end();
  }

  private warn(code: string, e: TarEntry, why: string): void {
    this.skipped++;
    const path = e.path.toString('utf8');
    this.opts.onWarn?.(code, `${this.opts.source}: member '${path}' (offset ${e.offset}): ${why}; skipped`, { path, offset: e.offset });
  }

  /** `returned`: where the reader puts input pieces it is done with (decompressForImport's). */
  async readAll(input: AsyncIterable<Uint8Array>, returned?: ReturnedPieces): Promise<void> {
    for await (const e of readTar(input, { signal: this.opts.signal, release: returned && returnPiece(returned) })) {
      throwIfAborted(this.opts.signal);
      await this.member(e);
      await this.puts.write(QUEUE_MAX);
      this.opts.onProgress?.({ entries: this.entries, bytes: this.stats.bytes });
    }
    // Every chunk durable and indexed, then every entry in the spill.
    await this.pool?.finish();
    await this.puts.write(0);
  }

  private async member(e: TarEntry): Promise<void> {
    if (e.type === 'unsupported') return this.warn('TAR_UNSUPPORTED', e, e.reason ?? 'unsupported member');
    const parts = splitMemberPath(e.path, 'member', e.offset);
    if (e.mtimeNs > this.newestMtime) this.newestMtime = e.mtimeNs;
    if (parts.length === 0) {
      if (e.type !== 'dir') throw new FormatError(`offset ${e.offset}: member '${e.path.toString('utf8')}' names the archive root but is not a directory`, { offset: e.offset }, 'TAR_UNSAFE_PATH');
      this.rootMeta = this.entryOf(e, Buffer.from('root'));
      this.entries++;
      return;
    }
    // Every proper prefix must be a directory or absent (implied): never a symlink, which
    // would make a restore write through it, nor a file.
    for (let i = 1; i < parts.length; i++) {
      const p = this.puts.get(pathKey(parts.slice(0, i), e.offset))?.entry;
      if (!p) continue;
      if (p.type === 'symlink') {
        throw new FormatError(`offset ${e.offset}: member '${e.path.toString('utf8')}' would pass through the symlink '${printable(parts.slice(0, i))}'; refused`,
          { offset: e.offset, path: e.path.toString('utf8') }, 'TAR_SYMLINK_ESCAPE');
      }
      if (p.type !== 'dir') return this.warn('TAR_SKIPPED', e, `'${printable(parts.slice(0, i))}' is not a directory`);
    }
    const key = pathKey(parts, e.offset);
    const name = parts[parts.length - 1];
    let entry: TreeEntry;
    let chunks: Promise<ChunkRef[]> | null = null;
    if (e.type === 'hardlink') {
      const target = splitMemberPath(e.linkpath, 'hard link target of member', e.offset);
      const found = target.length ? this.puts.get(pathKey(target, e.offset)) : undefined;
      const t = found?.entry;
      if (!t || t.type === 'dir') return this.warn('TAR_LINK_MISSING', e, `hard link to '${e.linkpath.toString('utf8')}', which is not an earlier non-directory member`);
      entry = { ...t, name };
      // The target's chunks may still be in a worker: the link takes the same list.
      chunks = found.chunks;
      if (t.type === 'file') {
        this.nlinks.set(t.ino, (this.nlinks.get(t.ino) ?? 1) + 1);
        this.stats.files++;
        this.stats.bytes += t.size;
      }
    } else {
      entry = this.entryOf(e, name);
      if (e.type === 'file') {
        chunks = (await this.storeData(e)).refs;
        // The reader yields exactly `size` bytes or fails, so the size is known before the chunks.
        entry.size = e.size;
        this.stats.files++;
        this.stats.bytes += e.size;
        this.stats.readBytes += e.size;
      }
    }
    this.puts.put(key, entry, chunks);
    this.entries++;
  }

  private entryOf(e: TarEntry, name: Buffer): TreeEntry {
    const type = e.type === 'hardlink' || e.type === 'unsupported' ? 'file' : e.type;
    const entry: TreeEntry = {
      name, type, mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, size: 0,
      mtimeNs: e.mtimeNs, atimeNs: e.atimeNs ?? e.mtimeNs, ctimeNs: e.mtimeNs,
      dev: 0n, ino: 0n, nlink: 1, rdev: 0,
    };
    if (e.xattrs.length) entry.xattrs = e.xattrs;
    switch (type) {
      case 'file': entry.ino = this.nextIno++; entry.chunks = []; break;
      case 'dir': entry.subtree = PLACEHOLDER_TREE; break;
      case 'symlink': entry.linkTarget = e.linkpath; entry.size = e.linkpath.length; this.stats.symlinks++; break;
      case 'chardev': case 'blockdev':
        // Linux dev_t: major in bits 8..19 and 32..43, minor in bits 0..7 and 20..31.
        entry.rdev = ((e.devminor & 0xff) | ((e.devmajor & 0xfff) << 8) | ((e.devminor & ~0xff) << 12)) >>> 0;
        entry.rdev += Math.floor(e.devmajor / 4096) * 2 ** 32;
        this.stats.others++;
        break;
      default: this.stats.others++;
    }
    return entry;
  }

  private implied(name: Buffer): TreeEntry {
    return {
      name, type: 'dir', mode: 0o755, uid: this.uid, gid: this.gid, size: 0,
      mtimeNs: this.newestMtime, atimeNs: this.newestMtime, ctimeNs: this.newestMtime,
      dev: 0n, ino: 0n, nlink: 1, rdev: 0, subtree: PLACEHOLDER_TREE,
    };
  }

  /** Pass 2: trees bottom-up from the spill in key order; returns the root tree id. */
  async buildTrees(): Promise<Buffer> {
    const trees = new TreeSaver(this.writer, this.store);
    const rootName = Buffer.from(rootNameOf(this.opts.source));
    const root = this.rootMeta ? { ...this.rootMeta, name: rootName } : this.implied(rootName);
    const stack: Array<{ parts: Buffer[]; entry: TreeEntry; children: TreeEntry[] }> = [{ parts: [], entry: root, children: [] }];
    const close = async () => {
      const o = stack.pop()!;
      o.entry.subtree = await trees.save(o.children);
      o.entry.size = 0;
      this.stats.dirs++;
      stack[stack.length - 1]?.children.push(o.entry);
      return o.entry;
    };
    for (const [rawKey, value] of this.spill.entries()) {
      throwIfAborted(this.opts.signal);
      const parts = splitKey(rawKey);
      while (!isPrefix(stack[stack.length - 1].parts, parts)) await close();
      let top = stack[stack.length - 1];
      let blocked = false;
      while (top.parts.length < parts.length - 1) {
        const name = parts[top.parts.length];
        // A file where a directory is needed: the member was replaced by a later non-directory.
        if (top.children.at(-1)?.name.equals(name)) { blocked = true; break; }
        stack.push({ parts: parts.slice(0, top.parts.length + 1), entry: this.implied(name), children: [] });
        top = stack[stack.length - 1];
      }
      const [entry] = decodeTree(value, 'spill');
      if (blocked) {
        this.skipped++;
        this.entries--;
        this.opts.onWarn?.('TAR_SKIPPED', `${this.opts.source}: member '${printable(parts)}': a later member replaced its directory with a non-directory; skipped`, { path: printable(parts) });
        continue;
      }
      if (entry.type === 'dir') {
        stack.push({ parts, entry, children: [] });
        continue;
      }
      if (entry.type === 'file') entry.nlink = this.nlinks.get(entry.ino) ?? 1;
      top.children.push(entry);
    }
    while (stack.length > 1) await close();
    const rootEntry = await close();
    return trees.save([rootEntry]);
  }
}

function isPrefix(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length >= b.length) return false;
  for (let i = 0; i < a.length; i++) if (!a[i].equals(b[i])) return false;
  return true;
}

/** The snapshot root's name: the archive's file name without its tar suffixes. */
function rootNameOf(source: string): string {
  if (source === '-' || source === '' || source === 'stdin') return 'root';
  const n = basename(source).replace(/\.(tar(\.(zst|zstd|gz|xz|lz4))?|tgz|tzst|txz)$/i, '');
  return n && n !== '.' && n !== '..' ? n : 'root';
}
