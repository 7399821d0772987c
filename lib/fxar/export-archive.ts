/**
 * Export: writes snapshots of a store, with every tree and chunk they need, as one FXAR v2
 * archive to a byte sink (file or pipe), each chunk once across all of them.
 *
 * Walk: depth first through each snapshot's trees. A tree already written means its whole
 * subtree was written (trees are content-addressed and written before their children are
 * walked, within one sequential walk), so a later snapshot costs only what changed.
 *
 * Chunks whose stored codec is the requested one (or all, without --compress), and chunks
 * stored raw (they did not compress), are copied from the packs as stored, after checking their
 * pack record header; the importer verifies every chunk against its id. Others are decompressed,
 * verified and recompressed in a worker pool, several at a time. Bundle members (an archive has
 * no bundles) are read and verified here and compressed on their own in that pool, in batches
 * (member-recoder.ts). Everything is written in walk order, so the archive is deterministic.
 */
import { availableParallelism } from 'node:os';
import { CODEC_IDS, type CodecSpec } from '../codec/codec.js';
import { ToolkitError } from '../errors/index.js';
import type { Warn } from '../errors/index.js';
import { CODEC_BUNDLED } from '../codec/codec-ids.js';
import { CHUNK_DATA, CHUNK_TREE, type MemberReader, type Store } from '../store/index.js';
import { encodeSnapshot } from '../snapshot/snapshot-record.js';
import type { SnapshotListing } from '../snapshot/snapshot-catalogue.js';
import { END, ENTRY, TREE, TreeCursor, walkTrees } from '../snapshot/tree-walk.js';
import { CHUNK_WORKER_LIMITS, WorkerPool } from '../util/worker-pool.js';
import type { ByteSink } from '../util/byte-sink.js';
import { ArchiveWriter, type ArchiveTotals } from './archive-writer.js';
import { IdTable } from '../hash/id-table.js';
import { CHUNK_ENTRY_BYTES, RECORD_HEADER_BYTES, SNAPSHOT_ENTRY_BYTES } from './fxar-layout.js';
import { MemberRecoder, type Portable } from './member-recoder.js';
import type { CompressJob, CompressResult, RecodeJob, RecodeResult } from './recode-worker.js';

export interface ExportOptions {
  /** Codec of the archive's chunks; undefined keeps each chunk's stored codec (no recompression). */
  codec?: CodecSpec;
  onWarn?: Warn;
  signal?: AbortSignal;
  progress?: { files: number; bytes: number };
}

/** `batch`: the member batch it waits on (member-recoder.ts), or -1. */
interface Pending { id: Buffer; type: number; rawLength: number; work: Promise<Portable>; batch: number }

/**
 * Chunks queued ahead of the writer, at most: by count (members of a few KiB, a few batches'
 * worth so the pool has work while the writer waits on the first), by raw bytes (large chunks),
 * and reads of other records in flight (READS_WINDOW: a bucket's range requests, as before).
 */
const WINDOW = 2048;
const WINDOW_BYTES = 16 << 20;
const READS_WINDOW = 32;

export async function exportArchive(store: Store, snapshots: SnapshotListing[], sink: ByteSink, opts: ExportOptions = {}): Promise<ArchiveTotals> {
  const writer = await ArchiveWriter.start(sink);
  const ex = new Exporter(store, writer, opts);
  try {
    for (const s of snapshots) {
      await ex.tree(Buffer.from(s.record.tree, 'hex'));
      await ex.settle();
      const { id, bytes } = encodeSnapshot(s.record);
      // A record re-encoded from the catalogue must be byte-identical to the one on disk.
      if (id !== s.id) throw new ToolkitError('SNAPSHOT_MISMATCH', `${store.root}: snapshot ${s.id.slice(0, 12)} does not re-encode to its id`);
      await writer.addSnapshot(Buffer.from(id, 'hex'), bytes);
    }
    return await writer.finish();
  } finally {
    await ex.close();
  }
}

/**
 * Unique stored bytes of the chunks the snapshots need, with their record headers and index
 * entries: the size of the archive, nearly (pre-flight). A bundle member counts its share of its
 * bundle, a floor: the archive holds it compressed on its own, which gains less (a snapshot of
 * 1,000,000 files of 100-4,000 bytes: 1.03 GB counted, a 1.32 GB archive). Also what
 * exportArchive's progress will count: the raw bytes of those chunks and the files of the trees
 * it walks (each tree once).
 */
export async function exportSize(store: Store, snapshots: SnapshotListing[]): Promise<{ bytes: number; chunks: number; rawBytes: number; files: number }> {
  const seen = new IdTable();
  let bytes = 0, rawBytes = 0, files = 0;
  const add = (id: Buffer) => {
    if (seen.add(id) < 0) return false;
    const loc = store.locate(id);
    bytes += loc.storedBytes + RECORD_HEADER_BYTES;
    rawBytes += loc.rawLength;
    return true;
  };
  for (const s of snapshots) {
    await walkTrees(store, Buffer.from(s.record.tree, 'hex'), {
      tree: add,
      loaded(_id, parts) { for (const p of parts) add(p.id as Buffer); },
      entry(e) {
        if (e.type === 'file') files++;
        if (e.type !== 'dir') for (const c of e.chunks ?? []) add(c.id);
      },
    });
  }
  return { bytes: bytes + INDEX_SLACK + seen.count * CHUNK_ENTRY_BYTES, chunks: seen.count, rawBytes, files };
}

/**
 * A bound of the archive's size that needs no walk: every chunk the store holds (not only the
 * snapshots' ones), each at its raw plus its stored size (a chunk is written as stored,
 * recompressed or raw, whichever is smaller: never more than the larger of the two), with its
 * record header and index entry, and the snapshot records. When it fits, the export skips
 * exportSize's walk, which costs a lookup of every chunk in the index (5.6 s of 80 for a
 * snapshot of 1,000,000 small files).
 */
export function exportSizeBound(store: Store, snapshots: SnapshotListing[]): number {
  const t = store.index.totals();
  let bytes = t.rawBytes + t.storedBytes + t.chunks * (RECORD_HEADER_BYTES + CHUNK_ENTRY_BYTES) + INDEX_SLACK;
  for (const s of snapshots) bytes += RECORD_HEADER_BYTES + encodeSnapshot(s.record).bytes.length + SNAPSHOT_ENTRY_BYTES;
  return bytes;
}

/** The header, footer, index record header and fan-out, with room to spare. */
const INDEX_SLACK = 2048;

class Exporter {
  private readonly queue: Pending[] = [];
  /** Ids queued but not yet written (the writer knows only written ones). */
  private readonly queued = new Set<string>();
  private queuedBytes = 0;
  /** Queued chunks that are not bundle members (each a read of its record in flight). */
  private queuedReads = 0;
  private pool: WorkerPool | null = null;
  private readonly want: number | undefined;
  private readonly memberReader: MemberReader | null;
  /** Members leave at the requested codec, or at zstd's default level (as Store.readPortable gives them). */
  private readonly members: MemberRecoder;

  constructor(private readonly store: Store, private readonly writer: ArchiveWriter, private readonly opts: ExportOptions) {
    this.want = opts.codec ? CODEC_IDS[opts.codec.name] : undefined;
    this.memberReader = store.memberReader();
    this.members = new MemberRecoder(opts.codec ?? { name: 'zstd' }, (job, transfer) => this.run<CompressResult>(job, transfer));
  }

  private known(id: Buffer): boolean {
    return this.writer.has(id) || this.queued.has(id.toString('latin1'));
  }

  /** Queues a snapshot's trees and chunks not written yet, in walk order (tree-walk.ts). */
  async tree(root: Buffer): Promise<void> {
    const walk = new TreeCursor(this.store, root, { signal: this.opts.signal });
    for (let s = walk.step(); s !== END; s = walk.step()) {
      if (s === TREE) {
        if (this.known(walk.treeId)) { walk.skip(); continue; }
        await walk.load();
        for (const p of walk.parts) await this.chunk(p.id as Buffer, CHUNK_TREE);
        await this.chunk(walk.treeId, CHUNK_TREE);
      } else if (s === ENTRY && walk.entry.type === 'file') {
        for (const c of walk.entry.chunks ?? []) await this.chunk(c.id, CHUNK_DATA);
        if (this.opts.progress) this.opts.progress.files++;
      }
    }
  }

  private async chunk(id: Buffer, type: number): Promise<void> {
    if (this.known(id)) return;
    const loc = this.store.locate(id);
    const key = id.toString('latin1');
    this.queued.add(key);
    let work: Pending['work'], batch = -1;
    if (loc.codec === CODEC_BUNDLED && this.memberReader) {
      ({ work, batch } = this.members.add(this.memberReader.rawSync(id, loc)));
    } else {
      // Chunks stored raw did not compress when they were stored; they stay raw rather than pay
      // another failed compression (the usual case: media and already-compressed files).
      work = this.store.readPortable(id, loc).then((r) => (this.want === undefined || r.codec === this.want || r.codec === CODEC_IDS.none ? r : this.recode({
        id: new Uint8Array(id), where: this.store.storage.describe('pack', loc.packId), offset: loc.offset, codec: r.codec,
        rawLength: loc.rawLength, storedLength: r.stored.byteLength, stored: r.stored, to: this.opts.codec!,
      })));
    }
    work.catch(() => {}); // reported when its turn to be written comes
    this.queue.push({ id, type, rawLength: loc.rawLength, work, batch });
    this.queuedBytes += loc.rawLength;
    if (batch < 0) this.queuedReads++;
    while (this.queue.length >= WINDOW || this.queuedReads >= READS_WINDOW || (this.queuedBytes > WINDOW_BYTES && this.queue.length > 1)) await this.writeOne();
  }

  /** Jobs sent to the pool and not yet done. */
  private inFlight = 0;

  /**
   * A job in the recode pool. The pool starts with one worker and grows (up to one a core) while
   * more than four jobs a worker wait: member batches alone keep about half a worker busy at the
   * rate the main thread reads them (1,000,000 small files), and each idle worker's isolate would
   * cost its ~20 MiB of RSS for nothing; recompressing large chunks (--compress xz) uses them all.
   */
  private async run<T>(job: RecodeJob | CompressJob, transfer: ArrayBuffer[] = []): Promise<T> {
    const pool = this.pool ??= new WorkerPool('fxar/recode-worker.js', {}, Math.max(1, availableParallelism()), undefined, CHUNK_WORKER_LIMITS, 1);
    if (++this.inFlight > 4 * pool.size) pool.grow();
    try {
      return await pool.run<T>(job, transfer);
    } finally {
      this.inFlight--;
    }
  }

  private async recode(job: RecodeJob): Promise<RecodeResult> {
    return this.run<RecodeResult>(job);
  }

  private async writeOne(): Promise<void> {
    const p = this.queue.shift()!;
    this.members.flushThrough(p.batch);
    const { codec, stored } = await p.work;
    await this.writer.addChunk(p.id, p.type, codec, p.rawLength, stored);
    this.queued.delete(p.id.toString('latin1'));
    this.queuedBytes -= p.rawLength;
    if (p.batch < 0) this.queuedReads--;
    if (this.opts.progress) this.opts.progress.bytes += p.rawLength;
  }

  async settle(): Promise<void> {
    while (this.queue.length > 0) await this.writeOne();
  }

  async close(): Promise<void> {
    // A member waiting in a batch that was never sent (the export stopped before writing it)
    // would keep its work pending for ever.
    this.members.abandon(new ToolkitError('INTERNAL', 'export stopped before this chunk was written'));
    await Promise.allSettled(this.queue.map((p) => p.work));
    await this.pool?.close();
  }
}
