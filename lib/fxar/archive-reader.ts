/**
 * Seekable reading of an FXAR v2 archive file: open reads the header, the footer and the
 * index's head and fan-out table (about 1.1 KiB); a chunk lookup is a binary search of the
 * sorted chunk table by positional reads within the id's fan-out bucket; a chunk read is one
 * read of its record. So restoring one file reads O(that file's chunks + its trees' chunks),
 * never the whole archive.
 *
 * Trust: a single lookup does not verify the whole index (that would read all of it); instead
 * each record a lookup leads to is checked against its own checked header and its chunk id
 * (formats/fxar-v2.md §Trade-offs). verifyIndex() checks the whole index against its hash.
 */
import { ChunkCodec } from '../codec/codec.js';
import { MAX_CODEC_ID } from '../codec/codec-ids.js';
import { FormatError, IntegrityError } from '../errors/index.js';
import { blake3 } from '../hash/blake3.js';
import type { ChunkSource, StoredPlace } from '../snapshot/chunk-source.js';
import { checkSnapshot, type SnapshotRecord } from '../snapshot/snapshot-record.js';
import { decodeVerified } from '../store/index.js';
import {
  CHUNK_ENTRY_BYTES, FANOUT_BYTES, FOOTER_BYTES, HEADER_BYTES, INDEX_HEAD_BYTES, MAX_RECORD_BYTES, RECORD_HEADER_BYTES,
  REC_INDEX, REC_SNAPSHOT, SNAPSHOT_ENTRY_BYTES,
} from './fxar-layout.js';
import { FileReader, type PositionalReader } from './positional-file.js';
import {
  checkArchiveRecord, checkHeader, type ChunkEntry, decodeChunkEntry, decodeFooter, decodeIndexHead, decodeRecordHeader,
  decodeSnapshotEntry, indexLength, type SnapshotEntry,
} from './record-codec.js';

export interface ArchiveSnapshot { id: string; record: SnapshotRecord; entry: SnapshotEntry }

/** Entries read per positional read once a binary search has narrowed to this many. */
const SCAN_ENTRIES = 64;

export class ArchiveReader implements ChunkSource {
  private readonly codec = new ChunkCodec();
  private constructor(
    readonly reader: PositionalReader,
    readonly indexOffset: number,
    readonly indexHash: Buffer,
    readonly chunkCount: number,
    private readonly fanout: Uint32Array,
    readonly snapshotEntries: SnapshotEntry[],
  ) {}

  get path(): string { return this.reader.path; }
  get local(): boolean { return this.reader instanceof FileReader; }

  /** Opens an archive file (see open for what is checked). */
  static openFile(path: string): ArchiveReader {
    const reader = FileReader.open(path);
    try {
      return ArchiveReader.open(reader);
    } catch (err) {
      reader.close();
      throw err;
    }
  }

  /** Checks header, footer and index head and fan-out; throws a FormatError/IntegrityError naming what is wrong. */
  static open(reader: PositionalReader): ArchiveReader {
    const where = reader.path;
    checkHeader(reader.read(0, Math.min(HEADER_BYTES, reader.size)), where);
    const minimum = HEADER_BYTES + RECORD_HEADER_BYTES + INDEX_HEAD_BYTES + FANOUT_BYTES + FOOTER_BYTES;
    if (reader.size < minimum) throw new FormatError(`${where}: archive is truncated (${reader.size} bytes; the smallest archive is ${minimum})`, { path: where }, 'TRUNCATED');
    const footer = decodeFooter(reader.read(reader.size - FOOTER_BYTES, FOOTER_BYTES), where);
    if (footer.archiveLength !== reader.size) {
      throw new FormatError(footer.archiveLength > reader.size
        ? `${where}: archive is truncated (${reader.size} bytes, footer says ${footer.archiveLength})`
        : `${where}: archive has ${reader.size - footer.archiveLength} unexpected bytes (footer says ${footer.archiveLength} bytes)`, { path: where }, 'TRUNCATED');
    }
    const io = footer.indexOffset;
    if (io < HEADER_BYTES || io + RECORD_HEADER_BYTES + INDEX_HEAD_BYTES + FANOUT_BYTES + FOOTER_BYTES > reader.size) {
      throw new FormatError(`${where}: footer points to an index at ${io}, outside the archive`, { path: where });
    }
    const head = reader.read(io, RECORD_HEADER_BYTES + INDEX_HEAD_BYTES + FANOUT_BYTES);
    const rh = decodeRecordHeader(head, io, where);
    if (rh.type !== REC_INDEX) throw new FormatError(`${where}: footer points to offset ${io}, which is not the index`, { path: where });
    const ih = decodeIndexHead(head.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + INDEX_HEAD_BYTES), where);
    if (indexLength(ih) !== rh.storedLength || io + RECORD_HEADER_BYTES + rh.storedLength + FOOTER_BYTES !== reader.size) {
      throw new FormatError(`${where}: index length ${rh.storedLength} does not fit its counts or the archive size (damaged index)`, { path: where });
    }
    const fb = head.subarray(RECORD_HEADER_BYTES + INDEX_HEAD_BYTES);
    const fanout = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      fanout[i] = fb.readUInt32LE(i * 4);
      if (i > 0 && fanout[i] < fanout[i - 1]) throw new IntegrityError(`${where}: index fan-out table is damaged (not ascending at ${i})`, { path: where });
    }
    if (fanout[255] !== ih.chunkCount) throw new IntegrityError(`${where}: index fan-out table is damaged (ends at ${fanout[255]}, ${ih.chunkCount} chunks)`, { path: where });
    const snapAt = io + RECORD_HEADER_BYTES + INDEX_HEAD_BYTES + FANOUT_BYTES + ih.chunkCount * CHUNK_ENTRY_BYTES;
    const sb = reader.read(snapAt, ih.snapshotCount * SNAPSHOT_ENTRY_BYTES);
    const snaps: SnapshotEntry[] = [];
    for (let i = 0; i < ih.snapshotCount; i++) {
      const s = decodeSnapshotEntry(sb, i * SNAPSHOT_ENTRY_BYTES);
      if (s.offset < HEADER_BYTES || s.offset + RECORD_HEADER_BYTES + s.length > io) throw new IntegrityError(`${where}: snapshot table entry ${i} points outside the records (damaged index)`, { path: where });
      // Bounded before readSnapshot reads (and allocates) by it.
      if (s.length > MAX_RECORD_BYTES) throw new IntegrityError(`${where}: snapshot table entry ${i} has a length over the ${MAX_RECORD_BYTES}-byte limit (damaged index)`, { path: where });
      snaps.push(s);
    }
    return new ArchiveReader(reader, io, rh.id, ih.chunkCount, fanout, snaps);
  }

  close(): void {
    this.reader.close();
  }

  private get tableOffset(): number {
    return this.indexOffset + RECORD_HEADER_BYTES + INDEX_HEAD_BYTES + FANOUT_BYTES;
  }

  /** The index entry of a chunk, or undefined when the archive does not hold it. */
  lookup(id: Uint8Array): ChunkEntry | undefined {
    const key = Buffer.from(id.buffer, id.byteOffset, 32);
    let lo = key[0] === 0 ? 0 : this.fanout[key[0] - 1];
    let hi = this.fanout[key[0]];
    while (hi > lo) {
      if (hi - lo <= SCAN_ENTRIES) {
        const b = this.reader.read(this.tableOffset + lo * CHUNK_ENTRY_BYTES, (hi - lo) * CHUNK_ENTRY_BYTES);
        for (let i = 0; i < hi - lo; i++) {
          if (key.compare(b, i * CHUNK_ENTRY_BYTES, i * CHUNK_ENTRY_BYTES + 32) === 0) return this.checkedEntry(decodeChunkEntry(b, i * CHUNK_ENTRY_BYTES));
        }
        return undefined;
      }
      const mid = (lo + hi) >>> 1;
      const b = this.reader.read(this.tableOffset + mid * CHUNK_ENTRY_BYTES, CHUNK_ENTRY_BYTES);
      const c = key.compare(b, 0, 32);
      if (c === 0) return this.checkedEntry(decodeChunkEntry(b, 0));
      if (c < 0) hi = mid; else lo = mid + 1;
    }
    return undefined;
  }

  /**
   * An entry is trusted only as far as its own checks go (a lookup does not verify the index):
   * its lengths are bounded by the format's maximum before anything is read or allocated by
   * them; the record it leads to is then checked against it (checkArchiveRecord).
   */
  private checkedEntry(e: ChunkEntry): ChunkEntry {
    const damaged = (what: string): never => {
      throw new IntegrityError(`${this.path}: index entry of chunk ${e.id.toString('hex').slice(0, 16)} is damaged (${what})`, { path: this.path });
    };
    if (e.offset < HEADER_BYTES || e.offset + RECORD_HEADER_BYTES + e.storedLength > this.indexOffset || e.type > 1 || e.codec > MAX_CODEC_ID) damaged('points outside the records');
    if (e.rawLength > MAX_RECORD_BYTES || e.storedLength > MAX_RECORD_BYTES) damaged(`lengths over the ${MAX_RECORD_BYTES}-byte limit`);
    return e;
  }

  entryOf(id: Uint8Array): ChunkEntry {
    const e = this.lookup(id);
    if (!e) {
      const hex = Buffer.from(id).toString('hex');
      throw new IntegrityError(`${this.path}: chunk ${hex.slice(0, 16)} is missing from the archive`, { path: this.path, chunk: hex });
    }
    return e;
  }

  /** The stored bytes of a chunk after checking its record header against the index entry. */
  readStored(e: ChunkEntry): Buffer {
    return checkArchiveRecord(this.path, e.id, e, this.reader.read(e.offset, RECORD_HEADER_BYTES + e.storedLength));
  }

  async loadChunk(id: Uint8Array): Promise<Uint8Array> {
    const e = this.entryOf(id);
    const stored = this.reader.readAsync
      ? checkArchiveRecord(this.path, e.id, e, await this.reader.readAsync(e.offset, RECORD_HEADER_BYTES + e.storedLength))
      : this.readStored(e);
    return decodeVerified(this.codec, this.path, id, e, stored);
  }

  loadChunkPreferSync(id: Uint8Array): Promise<Uint8Array> {
    return this.loadChunk(id);
  }

  /** Whether fetchedPlace works: the archive is read through read-ahead windows (a bucket). */
  get fetchesRecords(): boolean { return this.reader.readView !== undefined; }

  /** The place of a chunk's record with the record itself (StoredPlace.record, a view of a read-ahead window). */
  async fetchedPlace(id: Uint8Array): Promise<StoredPlace> {
    const e = this.entryOf(id);
    const record = await this.reader.readView!(e.offset, RECORD_HEADER_BYTES + e.storedLength);
    return { path: this.path, offset: e.offset, storedLength: e.storedLength, rawLength: e.rawLength, codec: e.codec, layout: 'fxar', record };
  }

  placeOf(id: Uint8Array): StoredPlace {
    const e = this.entryOf(id);
    return { path: this.path, offset: e.offset, storedLength: e.storedLength, rawLength: e.rawLength, codec: e.codec, layout: 'fxar' };
  }

  /** Reads and checks one snapshot record named by the snapshot table. */
  readSnapshot(s: SnapshotEntry): ArchiveSnapshot {
    const id = s.id.toString('hex');
    const rec = this.reader.read(s.offset, RECORD_HEADER_BYTES + s.length);
    const h = decodeRecordHeader(rec, s.offset, this.path);
    if (h.type !== REC_SNAPSHOT || !h.id.equals(s.id) || h.storedLength !== s.length) {
      throw new IntegrityError(`${this.path}: record at offset ${s.offset} is not snapshot ${id.slice(0, 12)} (damaged index)`, { path: this.path, snapshot: id });
    }
    const bytes = rec.subarray(RECORD_HEADER_BYTES);
    if (!blake3().hash(bytes).equals(s.id)) throw new IntegrityError(`${this.path}: snapshot ${id.slice(0, 12)} at offset ${s.offset} is damaged (hash mismatch)`, { path: this.path, snapshot: id });
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new FormatError(`${this.path}: snapshot ${id.slice(0, 12)} is not valid JSON`, { path: this.path });
    }
    return { id, record: checkSnapshot(value, `${this.path}: snapshot ${id.slice(0, 12)}`), entry: s };
  }

  /** All snapshots, oldest first (the order `snap list` uses). */
  listSnapshots(): ArchiveSnapshot[] {
    const out = this.snapshotEntries.map((s) => this.readSnapshot(s));
    out.sort((a, b) => (a.record.time < b.record.time ? -1 : a.record.time > b.record.time ? 1 : a.id < b.id ? -1 : 1));
    return out;
  }

  /** Every chunk entry in id order, read in large blocks (inspect, verify). */
  *chunkEntries(): Iterable<ChunkEntry> {
    const per = 16384;
    for (let i = 0; i < this.chunkCount; i += per) {
      const n = Math.min(per, this.chunkCount - i);
      const b = this.reader.read(this.tableOffset + i * CHUNK_ENTRY_BYTES, n * CHUNK_ENTRY_BYTES);
      for (let j = 0; j < n; j++) yield this.checkedEntry(decodeChunkEntry(b, j * CHUNK_ENTRY_BYTES));
    }
  }

  /** Reads the whole index and checks it against its hash and its ordering rule. */
  verifyIndex(): void {
    const h = blake3().hasher();
    const start = this.indexOffset + RECORD_HEADER_BYTES;
    const end = this.reader.size - FOOTER_BYTES;
    for (let o = start; o < end; o += 1 << 20) h.update(this.reader.read(o, Math.min(1 << 20, end - o)));
    if (!h.digest().equals(this.indexHash)) throw new IntegrityError(`${this.path}: archive index is damaged (hash mismatch)`, { path: this.path });
    let prev: Buffer | null = null;
    for (const e of this.chunkEntries()) {
      if (prev && prev.compare(e.id) >= 0) throw new IntegrityError(`${this.path}: archive index is not sorted by chunk id`, { path: this.path });
      prev = e.id;
    }
  }
}

