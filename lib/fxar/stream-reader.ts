/**
 * Reads an FXAR v2 archive front to back from a byte stream (a pipe, stdin, a file read in
 * order), without seeking and without the index: records are self-delimiting (a checked
 * header with the payload length) and each chunk is named by the BLAKE3 of its bytes, which the
 * consumer verifies. At the end the index is checked against what was streamed, in constant
 * memory: the entries must be sorted by id, hash to the index record's id, and the multiset of
 * (id, offset, lengths, type, codec) must equal the records streamed (compared as a sum of
 * entry hashes mod 2^128, so order does not matter and nothing per chunk is kept).
 *
 * Consumers must not treat anything as final before the generator returns (the archive may
 * still turn out truncated or damaged); the importer holds snapshot records back until then.
 */
import { FormatError, IntegrityError } from '../errors/index.js';
import { blake3 } from '../hash/blake3.js';
import { StreamReader } from '../util/stream-reader.js';
import {
  CHUNK_ENTRY_BYTES, FANOUT_BYTES, FOOTER_BYTES, HEADER_BYTES, INDEX_HEAD_BYTES, RECORD_HEADER_BYTES, REC_INDEX,
  REC_SNAPSHOT, SNAPSHOT_ENTRY_BYTES,
} from './fxar-layout.js';
import {
  checkHeader, decodeFooter, decodeIndexHead, decodeRecordHeader, decodeSnapshotEntry, encodeChunkEntry, indexLength,
} from './record-codec.js';

export interface ChunkRecord { kind: 'chunk'; id: Buffer; type: number; codec: number; rawLength: number; stored: Buffer; offset: number }
export interface SnapshotRecordEvent { kind: 'snapshot'; id: Buffer; bytes: Buffer; offset: number }
export type ArchiveEvent = ChunkRecord | SnapshotRecordEvent;

export interface StreamTotals { bytes: number; chunks: number; snapshots: number }

/** n bytes of the archive, or TRUNCATED naming what the stream ended in. `own`: a copy to keep. */
async function need(r: StreamReader, where: string, n: number, what: string, own = false): Promise<Buffer> {
  const at = r.offset;
  const b = await r.read(n, own);
  if (b.length < n) throw new FormatError(`${where}: archive is truncated (stream ended in ${what} at offset ${at + b.length})`, { path: where, offset: at }, 'TRUNCATED');
  return b;
}

const MASK128 = (1n << 128n) - 1n;
const entryDigest = (entry: Buffer) => BigInt('0x' + blake3().hash(entry).subarray(0, 16).toString('hex'));

/** Yields each record; returns the totals after the index and footer have been verified. */
export async function* readArchiveStream(source: AsyncIterable<Uint8Array>, where: string): AsyncGenerator<ArchiveEvent, StreamTotals> {
  const r = new StreamReader(source);
  checkHeader(await r.read(HEADER_BYTES), where);
  let streamedSum = 0n;
  let chunks = 0;
  const snaps: Array<{ id: Buffer; offset: number; length: number }> = [];
  const entry = Buffer.alloc(CHUNK_ENTRY_BYTES);
  for (;;) {
    const offset = r.offset;
    const h = decodeRecordHeader(await need(r, where, RECORD_HEADER_BYTES, 'a record header'), offset, where);
    if (h.type === REC_INDEX) {
      await verifyIndex(r, where, h.id, h.storedLength, offset, streamedSum, chunks, snaps);
      return { bytes: r.offset, chunks, snapshots: snaps.length };
    }
    // Its own exact buffer: a view of the input piece would pin it, and posting a view to a
    // worker clones the whole piece behind it.
    const payload = await need(r, where, h.storedLength, `record at offset ${offset}`, true);
    if (h.type === REC_SNAPSHOT) {
      if (!blake3().hash(payload).equals(h.id)) throw new IntegrityError(`${where}: snapshot record at offset ${offset} is damaged (hash mismatch)`, { path: where, offset });
      snaps.push({ id: h.id, offset, length: h.storedLength });
      yield { kind: 'snapshot', id: h.id, bytes: payload, offset };
    } else {
      chunks++;
      encodeChunkEntry({ ...h, offset }, entry);
      streamedSum = (streamedSum + entryDigest(entry)) & MASK128;
      yield { kind: 'chunk', id: h.id, type: h.type, codec: h.codec, rawLength: h.rawLength, stored: payload, offset };
    }
  }
}

async function verifyIndex(r: StreamReader, where: string, hash: Buffer, length: number, indexOffset: number, streamedSum: bigint,
  chunks: number, snaps: Array<{ id: Buffer; offset: number; length: number }>): Promise<void> {
  const damaged = (what: string): never => { throw new IntegrityError(`${where}: archive index is damaged (${what})`, { path: where, offset: indexOffset }); };
  const hasher = blake3().hasher();
  const head = await need(r, where, INDEX_HEAD_BYTES + FANOUT_BYTES, 'the index');
  hasher.update(head);
  const ih = decodeIndexHead(head.subarray(0, INDEX_HEAD_BYTES), where);
  if (indexLength(ih) !== length) damaged(`length ${length} does not fit its counts`);
  if (ih.chunkCount !== chunks) damaged(`lists ${ih.chunkCount} chunks, the archive holds ${chunks}`);
  if (ih.snapshotCount !== snaps.length) damaged(`lists ${ih.snapshotCount} snapshots, the archive holds ${snaps.length}`);
  const fanout = head.subarray(INDEX_HEAD_BYTES);
  let indexSum = 0n;
  let prev: Buffer | null = null;
  const perByte = new Array<number>(256).fill(0);
  const per = 16384;
  for (let i = 0; i < ih.chunkCount; i += per) {
    const n = Math.min(per, ih.chunkCount - i);
    const b = await need(r, where, n * CHUNK_ENTRY_BYTES, 'the index');
    hasher.update(b);
    for (let j = 0; j < n; j++) {
      const e = b.subarray(j * CHUNK_ENTRY_BYTES, (j + 1) * CHUNK_ENTRY_BYTES);
      if (prev && prev.compare(e, 0, 32) >= 0) damaged('chunk table not sorted by id');
      prev = Buffer.from(e.subarray(0, 32));
      perByte[e[0]]++;
      indexSum = (indexSum + entryDigest(e)) & MASK128;
    }
  }
  let acc = 0;
  for (let i = 0; i < 256; i++) { acc += perByte[i]; if (fanout.readUInt32LE(i * 4) !== acc) damaged(`fan-out table wrong at ${i}`); }
  if (indexSum !== streamedSum) damaged('chunk table does not match the chunk records streamed');
  const sb = await need(r, where, ih.snapshotCount * SNAPSHOT_ENTRY_BYTES, 'the index');
  hasher.update(sb);
  snaps.forEach((s, i) => {
    const e = decodeSnapshotEntry(sb, i * SNAPSHOT_ENTRY_BYTES);
    if (!e.id.equals(s.id) || e.offset !== s.offset || e.length !== s.length) damaged(`snapshot table entry ${i} does not match the records streamed`);
  });
  if (!hasher.digest().equals(hash)) damaged('hash mismatch');
  const footer = decodeFooter(await need(r, where, FOOTER_BYTES, 'the footer'), where);
  if (footer.indexOffset !== indexOffset) throw new IntegrityError(`${where}: archive footer points to offset ${footer.indexOffset}, the index is at ${indexOffset}`, { path: where });
  if (footer.archiveLength !== r.offset) throw new IntegrityError(`${where}: archive footer says ${footer.archiveLength} bytes, the stream had ${r.offset}`, { path: where });
  if (!(await r.atEnd())) throw new FormatError(`${where}: unexpected bytes after the archive's footer at offset ${r.offset}`, { path: where }, 'TRAILING_BYTES');
}

