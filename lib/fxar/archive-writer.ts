/**
 * Writes an FXAR v2 archive front to back to a byte sink, never seeking, so the sink may be a
 * pipe (`fxcp snap export STORE | ssh host fxcp snap import - STORE`).
 *
 * Each chunk is written once: the writer keeps the 56-byte index entry of every chunk it wrote,
 * keyed by its id (an IdTable: 61 to 67 bytes a chunk, so 10 million chunks take about 650 MB:
 * the one per-chunk cost, stated in formats/fxar-v2.md §Memory), and writes them sorted as the
 * index at the end. Small writes are coalesced into 1 MiB writes.
 */
import { blake3 } from '../hash/blake3.js';
import { ToolkitError } from '../errors/index.js';
import { CHUNK_ENTRY_BYTES, FANOUT_BYTES, FOOTER_BYTES, REC_INDEX, REC_SNAPSHOT } from './fxar-layout.js';
import {
  encodeChunkEntry, encodeFooter, encodeHeader, encodeIndexHead, encodeRecordHeader, encodeSnapshotEntry,
  type SnapshotEntry,
} from './record-codec.js';
import { CODEC_IDS } from '../codec/codec-ids.js';
import { IdTable } from '../hash/id-table.js';
import type { ByteSink } from '../util/byte-sink.js';

export interface ArchiveTotals { bytes: number; chunks: number; snapshots: number; storedBytes: number; rawBytes: number }

const COALESCE = 1 << 20;

export class ArchiveWriter {
  private offset = 0;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private readonly entries = new IdTable(CHUNK_ENTRY_BYTES);
  private readonly snapshots: SnapshotEntry[] = [];
  readonly totals: ArchiveTotals = { bytes: 0, chunks: 0, snapshots: 0, storedBytes: 0, rawBytes: 0 };

  private constructor(private readonly sink: ByteSink) {}

  static async start(sink: ByteSink): Promise<ArchiveWriter> {
    const w = new ArchiveWriter(sink);
    await w.put(encodeHeader());
    return w;
  }

  /**
   * Appends pieces. They are queued synchronously (so a record's header and payload are never
   * separated by another caller's record) and written in order: sink writes are chained, never
   * concurrent, as an fd's appends must be.
   */
  private async put(...pieces: Uint8Array[]): Promise<void> {
    for (const b of pieces) {
      this.pending.push(b);
      this.pendingBytes += b.byteLength;
      this.offset += b.byteLength;
    }
    if (this.pendingBytes >= COALESCE) await this.drain();
  }

  private drain(): Promise<void> {
    if (this.pendingBytes === 0) return this.writing;
    const parts = this.pending;
    const n = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const sink = this.sink;
    this.writing = this.writing.then(() => (sink.writev && parts.length > 1 ? sink.writev(parts) : sink.write(parts.length === 1 ? parts[0] : Buffer.concat(parts, n))));
    return this.writing;
  }

  private writing: Promise<void> = Promise.resolve();

  has(id: Uint8Array): boolean {
    return this.entries.has(id);
  }

  /** Adds a chunk (data or tree) unless already written; `stored` is compressed with `codec`. Returns true when new. */
  async addChunk(id: Buffer, type: number, codec: number, rawLength: number, stored: Uint8Array): Promise<boolean> {
    const row = this.entries.add(id);
    if (row < 0) return false;
    const entry = { id, type, codec, rawLength, storedLength: stored.byteLength, offset: this.offset };
    encodeChunkEntry(entry, this.entries.block(row), this.entries.offset(row));
    this.totals.chunks++;
    this.totals.storedBytes += stored.byteLength;
    this.totals.rawBytes += rawLength;
    await this.put(encodeRecordHeader(entry), stored);
    return true;
  }

  /** Adds a snapshot record (its JSON bytes; id = BLAKE3 of them). Write it after its chunks. */
  async addSnapshot(id: Buffer, bytes: Buffer): Promise<void> {
    this.snapshots.push({ id, offset: this.offset, length: bytes.length });
    this.totals.snapshots++;
    await this.put(encodeRecordHeader({ id, type: REC_SNAPSHOT, codec: CODEC_IDS.none, rawLength: bytes.length, storedLength: bytes.length }), bytes);
  }

  /**
   * Writes the index record and the footer, and flushes. Returns the archive's totals. The
   * record's id (BLAKE3 of its body) comes before the body, so the sorted entries are produced
   * twice, a piece at a time: once to hash them, once to write them (never a second whole copy).
   */
  async finish(): Promise<ArchiveTotals> {
    const entries = this.entries, count = entries.count;
    const order = entries.sortedRows();
    const fanout = Buffer.alloc(FANOUT_BYTES);
    const counts = new Array<number>(256).fill(0);
    for (let r = 0; r < count; r++) counts[entries.block(r)[entries.offset(r)]]++;
    let acc = 0;
    for (let i = 0; i < 256; i++) { acc += counts[i]; fanout.writeUInt32LE(acc, i * 4); }
    const head = encodeIndexHead({ chunkCount: count, snapshotCount: this.snapshots.length });
    const tail = this.snapshots.map(encodeSnapshotEntry);
    const length = head.length + fanout.length + count * CHUNK_ENTRY_BYTES + tail.reduce((n, p) => n + p.length, 0);
    if (length > 0xffff_ffff) throw new ToolkitError('ARCHIVE_TOO_LARGE', `archive index would be ${length} bytes, over the 4 GiB limit of FXAR v2 (split the export)`);
    const h = blake3().hasher();
    h.update(head);
    h.update(fanout);
    for (const piece of sortedPieces(entries, order)) h.update(piece);
    for (const p of tail) h.update(p);
    const indexOffset = this.offset;
    await this.put(encodeRecordHeader({ id: h.digest(), type: REC_INDEX, codec: CODEC_IDS.none, rawLength: length, storedLength: length }), head, fanout);
    for (const piece of sortedPieces(entries, order)) await this.put(piece);
    await this.put(...tail);
    await this.put(encodeFooter({ indexOffset, archiveLength: this.offset + FOOTER_BYTES }));
    await this.drain();
    this.totals.bytes = this.offset;
    return this.totals;
  }
}

/** The entries in id order, in pieces of at most PIECE_ENTRIES (each a new buffer: put() keeps it until written). */
function* sortedPieces(entries: IdTable, order: Uint32Array): Generator<Buffer> {
  for (let i = 0; i < order.length; i += PIECE_ENTRIES) {
    const n = Math.min(PIECE_ENTRIES, order.length - i);
    const piece = Buffer.allocUnsafe(n * CHUNK_ENTRY_BYTES);
    for (let k = 0; k < n; k++) {
      const r = order[i + k], o = entries.offset(r);
      entries.block(r).copy(piece, k * CHUNK_ENTRY_BYTES, o, o + CHUNK_ENTRY_BYTES);
    }
    yield piece;
  }
}

const PIECE_ENTRIES = 16_384;

