/**
 * Export of one snapshot as a plain tar (docs/tar.md), optionally compressed as a whole.
 *
 * The snapshot's trees are walked depth first in name order. Members: the root directory as
 * "./", then paths relative to it ("a", "a/b/"); a snapshot of a single file is that file by
 * its name. Preserved: type, permission bits (setuid, setgid, sticky), uid/gid (numeric; no
 * user names are stored in snapshots), mtime to the nanosecond (pax), atime with it, symlink
 * targets, hard links (second and later members of a group are tar hard links to the first),
 * fifos and devices, xattrs including POSIX ACLs (SCHILY.xattr.*). Files with holes are
 * written with their holes as zeros (no GNU sparse members). Sockets cannot be put in a tar:
 * each is reported through onWarn (TAR_SKIPPED) and left out.
 *
 * Throughput: chunk loads run ahead of the writer, bounded by PREFETCH_BYTES of raw chunk data
 * (and PREFETCH_ITEMS), so reads and decompression overlap the output.
 */
import { abortPoint } from '../errors/index.js';
import type { Warn } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { ExtentCursor } from '../snapshot/extent-cursor.js';
import type { SnapshotRecord } from '../snapshot/snapshot-record.js';
import type { ChunkRef, TreeEntry } from '../snapshot/tree-entry.js';
import { END, ENTRY, TREE, TreeCursor } from '../snapshot/tree-walk.js';
import type { ByteSink } from '../util/byte-sink.js';
import { compressingSink, type TarCompression } from './tar-compress.js';
import { type TarMember, type TarMemberType, TarWriter } from './tar-writer.js';

export { tarCodecForPath, type TarCompression } from './tar-compress.js';

export interface ExportTarOptions {
  compress?: TarCompression;
  /** Level for the whole-stream compressor (zstd 1..19, gzip 1..9, xz 0..9; lz4 has none). */
  level?: number;
  signal?: AbortSignal;
  onWarn?: Warn;
  /** Called after each member with running totals. */
  onProgress?: (p: { entries: number; bytes: number }) => void;
  /** Compression workers (default: one per core, at most 4). */
  workers?: number;
}

export interface ExportTarResult {
  /** Members written (hard links included). */
  entries: number;
  /** File data bytes (apparent sizes). */
  bytes: number;
  /** Tar bytes before whole-stream compression. */
  tarBytes: number;
}

const PREFETCH_BYTES = 32 << 20;
const PREFETCH_ITEMS = 512;

type Op =
  | { kind: 'member'; member: TarMember; entry: TreeEntry }
  | { kind: 'chunk'; ref: ChunkRef; data?: Promise<Uint8Array> };

/**
 * Writes `record`'s snapshot as a tar to `sink`, an async function called with each piece of
 * output in order (await it for backpressure; it must be done with the bytes when it resolves). The caller
 * holds the store's shared lock and ends the sink (closes the file) afterwards.
 */
export async function exportTar(store: Store, record: SnapshotRecord, sink: ByteSink, opts: ExportTarOptions = {}): Promise<ExportTarResult> {
  const out = compressingSink(sink, opts.compress ?? 'none', opts.level, opts.workers);
  const tar = new TarWriter(out);
  const result: ExportTarResult = { entries: 0, bytes: 0, tarBytes: 0 };
  const ops = walkSnapshot(store, record, opts.onWarn);
  const queue: Op[] = [];
  let ahead = 0;
  let exhausted = false;
  const fill = async () => {
    while (!exhausted && (queue.length === 0 || (ahead < PREFETCH_BYTES && queue.length < PREFETCH_ITEMS))) {
      const r = await ops.next();
      if (r.done) { exhausted = true; break; }
      const op = r.value;
      if (op.kind === 'chunk') {
        // A synchronous pread: a chunk's record (tens of KiB) comes from the page cache in
        // microseconds, less than a thread-pool round trip costs; the kernel's readahead serves
        // the packs' mostly sequential reads when they are cold (docs/BENCHMARKS.md).
        op.data = store.loadChunkPreferSync(op.ref.id);
        op.data.catch(() => {});
        ahead += op.ref.length;
      }
      queue.push(op);
    }
  };
  let cursor: ExtentCursor | null = null;
  let pos = 0;
  let current: TreeEntry | null = null;
  const endFile = async () => {
    if (current && pos < current.size) await tar.zeros(current.size - pos);
    current = null;
  };
  try {
    for (;;) {
      const turn = abortPoint(opts.signal);
      if (turn) await turn;
      await fill();
      const op = queue.shift();
      if (!op) break;
      if (op.kind === 'member') {
        await endFile();
        await tar.add(op.member);
        result.entries++;
        if (op.member.type === 'file') {
          current = op.entry;
          cursor = op.entry.segments ? new ExtentCursor(op.entry.segments) : null;
          pos = 0;
          result.bytes += op.member.size;
        }
        opts.onProgress?.({ entries: result.entries, bytes: result.bytes });
        continue;
      }
      const data = await op.data!;
      ahead -= op.ref.length;
      if (!cursor) { await tar.data(data); pos += data.length; continue; }
      let o = 0;
      for (const [at, k] of cursor.take(data.length)) {
        if (at > pos) await tar.zeros(at - pos);
        await tar.data(data.subarray(o, o + k));
        o += k;
        pos = at + k;
      }
    }
    await endFile();
    await tar.finish();
    await out.end();
  } catch (err) {
    await out.abort().catch(() => {});
    throw err;
  } finally {
    await ops.return(undefined);
  }
  result.tarBytes = tar.written;
  return result;
}

/** The snapshot's members in walk order (tree-walk.ts): the source directory as '.', then paths below it. */
async function* walkSnapshot(store: Store, record: SnapshotRecord, onWarn?: Warn): AsyncGenerator<Op, void> {
  const links = new Map<string, Buffer>();
  const walk = new TreeCursor(store, Buffer.from(record.tree, 'hex'));
  for (let s = walk.step(); s !== END; s = walk.step()) {
    if (s === TREE) await walk.load();
    else if (s !== ENTRY) continue;
    else if (walk.path.length === 0) yield { kind: 'member', member: memberOf(walk.entry, Buffer.from('.')), entry: walk.entry };
    else yield* entryOps(walk.entry, walk.path, links, onWarn);
  }
}

function* entryOps(e: TreeEntry, path: Buffer, links: Map<string, Buffer>, onWarn?: Warn): Generator<Op, void> {
  if (e.type === 'socket') {
    onWarn?.('TAR_SKIPPED', `${path.toString('utf8')}: sockets cannot be stored in a tar; left out`, { path: path.toString('utf8') });
    return;
  }
  const m = memberOf(e, path);
  if (e.type === 'file' && e.nlink > 1) {
    // Memory: one path per hard-link group, not per file.
    const key = `${e.dev}:${e.ino}`;
    const first = links.get(key);
    if (first) {
      yield { kind: 'member', member: { ...m, type: 'hardlink', size: 0, linkpath: first }, entry: e };
      return;
    }
    links.set(key, path);
  }
  yield { kind: 'member', member: m, entry: e };
  if (e.type === 'file') for (const ref of e.chunks ?? []) yield { kind: 'chunk', ref };
}

function memberOf(e: TreeEntry, path: Buffer): TarMember {
  // Sockets never get here (entryOps leaves them out).
  const type = e.type as TarMemberType;
  const m: TarMember = {
    path, type, mode: e.mode, uid: e.uid, gid: e.gid, size: e.type === 'file' ? e.size : 0,
    mtimeNs: e.mtimeNs, atimeNs: e.atimeNs, xattrs: e.xattrs,
  };
  if (e.type === 'symlink') m.linkpath = e.linkTarget;
  if (e.type === 'chardev' || e.type === 'blockdev') {
    m.devmajor = ((e.rdev >>> 8) & 0xfff) | (Math.floor(e.rdev / 2 ** 32) & ~0xfff);
    m.devminor = (e.rdev & 0xff) | ((e.rdev >>> 12) & 0xfff00);
  }
  return m;
}
