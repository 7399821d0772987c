/**
 * Reads a Foxing FXAR v2 archive through positional reads (lib/fxar/positional-file.ts: a file,
 * or memory in tests): the header, the manifest and the chunk index once, front to back from
 * byte 64 whatever the header says (a streamed archive's header holds no offsets); then each
 * file's bytes chunk by chunk, every chunk verified against its BLAKE3 id before it is given
 * out and every file against its whole-file BLAKE3 once its last byte has been.
 *
 * The header's offsets and sizes (seekable form) and the footer (streamed form) are hints: each
 * must agree with what was parsed, or the archive is refused as damaged (FORMAT). Nothing else
 * in the archive is covered by a checksum, so this is all that can catch damage before a chunk's
 * hash does.
 *
 * Memory: the manifest (bounded, foxing-layout.ts) and the index (48 bytes a chunk, bounded by
 * MAX_CHUNKS); one chunk at a time besides.
 */
import { ChunkCodec } from '../../codec/codec.js';
import { FormatError, IntegrityError } from '../../errors/index.js';
import { blake3 } from '../../hash/blake3.js';
import type { PositionalReader } from '../positional-file.js';
import { decodePiece } from './foxing-codec.js';
import { decodeFooter, decodeHeader, type FoxingFooter, type FoxingHeader } from './foxing-header.js';
import {
  CHUNK_MAX_RAW, CHUNK_SLACK, FOOTER_BYTES, HEADER_BYTES, INDEX_ENTRY_BYTES, MANIFEST_MAX_JSON, MANIFEST_MAX_STORED,
  MANIFEST_PREFIX_BYTES, MAX_CHUNKS,
} from './foxing-layout.js';
import { decodeManifest, type FoxingFile, type FoxingManifest } from './foxing-manifest.js';

export interface FoxingIndexEntry { id: Buffer; rawSize: number; offset: number; storedSize: number }

export class FoxingReader {
  private readonly codec = new ChunkCodec();

  private constructor(
    private readonly src: PositionalReader,
    readonly header: FoxingHeader,
    readonly manifest: FoxingManifest,
    /** The compressed manifest's length (M). */
    readonly manifestStored: number,
    private readonly index: Buffer,
    readonly footer: FoxingFooter | null,
    /** Where the chunk data starts and ends (exclusive). */
    readonly dataStart: number,
    readonly dataEnd: number,
  ) {}

  get path(): string { return this.src.path; }
  get size(): number { return this.src.size; }
  get chunkCount(): number { return this.index.length / INDEX_ENTRY_BYTES; }

  /** Parses the archive's head; closes `src` when that fails. */
  static async open(src: PositionalReader): Promise<FoxingReader> {
    try {
      return await FoxingReader.parse(src);
    } catch (err) {
      src.close();
      throw err;
    }
  }

  private static async parse(src: PositionalReader): Promise<FoxingReader> {
    const where = src.path;
    const fail = (why: string, data: Record<string, unknown> = {}) => new FormatError(`${where}: Foxing archive is damaged: ${why}`, { path: where, ...data }, 'FORMAT');
    const header = decodeHeader(src.read(0, Math.min(HEADER_BYTES, src.size)), where);
    const prefix = src.read(HEADER_BYTES, MANIFEST_PREFIX_BYTES);
    const stored = prefix.readBigUInt64LE(0);
    const json = prefix.readBigUInt64LE(8);
    if (stored > BigInt(MANIFEST_MAX_STORED) || json > BigInt(MANIFEST_MAX_JSON)) {
      throw new FormatError(`${where}: Foxing manifest is ${stored} bytes compressed, ${json} decompressed; this reader takes at most ${MANIFEST_MAX_STORED} and ${MANIFEST_MAX_JSON} (formats/foxing-fxar-v2.md §Bounds)`,
        { path: where, stored: Number(stored), json: Number(json) }, 'FOXING_TOO_LARGE');
    }
    const m = Number(stored);
    if (!header.streamed && (header.manifestOffset !== HEADER_BYTES || header.manifestSize !== m)) {
      throw fail(`the header puts the manifest at offset ${header.manifestOffset} with ${header.manifestSize} bytes, its prefix at ${HEADER_BYTES} says ${m}`);
    }
    const manifestBytes = src.read(HEADER_BYTES + MANIFEST_PREFIX_BYTES, m);
    const jsonBytes = await decodePiece(new ChunkCodec(), header.codec, manifestBytes, Number(json), `${where}: Foxing manifest`);
    const manifest = decodeManifest(jsonBytes, where);

    const indexStart = HEADER_BYTES + MANIFEST_PREFIX_BYTES + m;
    const footer = src.size >= indexStart + FOOTER_BYTES ? decodeFooter(src.read(src.size - FOOTER_BYTES, FOOTER_BYTES)) : null;
    let n = header.chunkCount;
    if (n === 0 && footer) n = footer.chunkCount;
    if (n === 0 && header.streamed && src.size >= indexStart + INDEX_ENTRY_BYTES) {
      // A header with no count at all: the first entry's offset says where the index ends.
      const first = Number(src.read(indexStart, INDEX_ENTRY_BYTES).readBigUInt64LE(36));
      if (first > indexStart && (first - indexStart) % INDEX_ENTRY_BYTES === 0) n = (first - indexStart) / INDEX_ENTRY_BYTES;
    }
    if (n > MAX_CHUNKS) throw new FormatError(`${where}: Foxing archive has ${n} chunks; this reader takes at most ${MAX_CHUNKS} (formats/foxing-fxar-v2.md §Bounds)`, { path: where, chunks: n }, 'FOXING_TOO_LARGE');
    if (!header.streamed && (header.indexOffset !== indexStart || header.indexSize !== n * INDEX_ENTRY_BYTES)) {
      throw fail(`the header puts the index at offset ${header.indexOffset} with ${header.indexSize} bytes, the manifest ends at ${indexStart} and ${n} chunks need ${n * INDEX_ENTRY_BYTES}`);
    }
    if (footer && (footer.manifestOffset !== HEADER_BYTES || footer.indexOffset !== indexStart || footer.chunkCount !== n)) {
      throw fail(`the footer says manifest ${footer.manifestOffset}, index ${footer.indexOffset}, ${footer.chunkCount} chunks; parsed ${HEADER_BYTES}, ${indexStart}, ${n}`);
    }
    const index = src.read(indexStart, n * INDEX_ENTRY_BYTES);
    const dataStart = indexStart + index.length;
    const end = src.size - (footer ? FOOTER_BYTES : 0);
    let expected = dataStart;
    for (let i = 0; i < n; i++) {
      const e = entryAt(index, i);
      if (e.rawSize > CHUNK_MAX_RAW || e.storedSize > e.rawSize + CHUNK_SLACK) throw fail(`chunk ${i} claims ${e.rawSize} bytes (${e.storedSize} stored), beyond the ${CHUNK_MAX_RAW}-byte bound`, { chunk: i });
      // The writer stores the data in index order, back to back.
      if (e.offset !== expected) throw fail(`chunk ${i} is at offset ${e.offset}, where chunk data must be at ${expected}`, { chunk: i });
      expected += e.storedSize;
    }
    if (expected > end) {
      throw new FormatError(`${where}: Foxing archive is truncated (its chunks end at offset ${expected}, the archive's data at ${end})`, { path: where, offset: end }, 'TRUNCATED');
    }
    if (expected < end) throw fail(`${end - expected} bytes after the chunk data are no FXAF footer`, { offset: expected });
    for (const [i, f] of manifest.files.entries()) {
      for (const c of f.chunks) if (c >= n) throw fail(`files[${i}] ('${f.path.slice(0, 200)}') names chunk ${c} of ${n}`, { file: f.path });
    }
    return new FoxingReader(src, header, manifest, m, index, footer, dataStart, expected);
  }

  entry(i: number): FoxingIndexEntry {
    return entryAt(this.index, i);
  }

  /** The decoded bytes of chunk i, verified against its id (IntegrityError naming it when not). */
  async chunk(i: number): Promise<Uint8Array> {
    const e = this.entry(i);
    const what = `${this.path}: chunk ${i} (${e.id.toString('hex').slice(0, 16)}, offset ${e.offset})`;
    const raw = await decodePiece(this.codec, this.header.codec, this.src.read(e.offset, e.storedSize), e.rawSize, what);
    if (!blake3().hash(raw).equals(e.id)) throw new IntegrityError(`${what}: does not match its BLAKE3 id`, { path: this.path, chunk: i, offset: e.offset });
    return raw;
  }

  /** The first `n` stored bytes of chunk i (or fewer: what it has), to tell what codec it is really in. */
  peek(i: number, n: number): Buffer {
    const e = this.entry(i);
    return this.src.read(e.offset, Math.min(n, e.storedSize));
  }

  /** The decoded size of a file's chunks together (its size, in an intact archive). */
  chunkBytes(f: FoxingFile): number {
    let n = 0;
    for (const c of f.chunks) n += this.index.readUInt32LE(c * INDEX_ENTRY_BYTES + 32);
    return n;
  }

  /**
   * A file's bytes, chunk by chunk, each verified; then its length and whole-file BLAKE3 are
   * checked, so a consumer must not treat the data as good before the generator has returned.
   */
  async *fileData(f: FoxingFile): AsyncGenerator<Uint8Array> {
    const where = `${this.path}: '${f.path}'`;
    if (this.chunkBytes(f) !== f.size) {
      throw new FormatError(`${where}: its chunks hold ${this.chunkBytes(f)} bytes, the manifest says ${f.size}`, { path: this.path, file: f.path }, 'FORMAT');
    }
    const h = blake3().hasher();
    // A chunk repeated back to back (runs of zeros) is decoded and verified once.
    let last = -1;
    let raw: Uint8Array = new Uint8Array(0);
    for (const c of f.chunks) {
      if (c !== last) raw = await this.chunk(c);
      last = c;
      h.update(raw);
      yield raw;
    }
    if (!h.digest().equals(f.blake3)) {
      throw new IntegrityError(`${where}: does not match its whole-file BLAKE3 (the manifest names other chunks than were hashed)`, { path: this.path, file: f.path });
    }
  }

  close(): void {
    this.src.close();
  }
}

function entryAt(index: Buffer, i: number): FoxingIndexEntry {
  const o = i * INDEX_ENTRY_BYTES;
  const offset = index.readBigUInt64LE(o + 36);
  return {
    id: index.subarray(o, o + 32),
    rawSize: index.readUInt32LE(o + 32),
    offset: offset > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(offset),
    storedSize: index.readUInt32LE(o + 44),
  };
}
