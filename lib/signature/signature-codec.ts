/**
 * The signature record (formats/signatures.md): what a destination file held when it was
 * written (its identity and times, BLAKE3 of its content, its content-defined chunk list), in a
 * versioned, checked, size-bounded encoding. Pure: bytes in, bytes out; where the record is
 * kept is signature-store.ts's business.
 *
 * The decoder is the untrusted side (a store anyone with write access to DEST may have changed,
 * a disk may have damaged): it accepts exactly one encoding and throws a FormatError naming the
 * first thing wrong; `readSignature` turns that into null, which callers treat as "no
 * signature: compare the file in full". `isValidFor` is the second gate: a well-formed record
 * describes the file only while its identity and times are unchanged.
 */
import { FormatError } from '../errors/index.js';
import { validateChunkerParams, CHUNKER_ALGORITHM, type ChunkerParams } from '../chunker/chunker-params.js';
import { blake3, ID_BYTES } from '../hash/blake3.js';

export const SIGNATURE_MAGIC = 'FXSG';
export const SIGNATURE_VERSION = 1;
/** Bytes before the chunk list, and the check after it. */
export const HEADER_BYTES = 100;
export const CHECK_BYTES = 8;
/** One chunk list entry: length u32, id[32]. */
export const CHUNK_ENTRY_BYTES = 4 + ID_BYTES;
/** Chunks a record may list (files up to 64 GiB at the default 64 KiB average); more: no list. */
export const CHUNKS_MAX = 1 << 20;
/** The largest record. */
export const RECORD_MAX = HEADER_BYTES + CHUNK_ENTRY_BYTES * CHUNKS_MAX + CHECK_BYTES;

const FLAG_CHUNKS = 1;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export interface ChunkRef {
  length: number;
  id: Uint8Array;
}

export interface Signature {
  dev: bigint;
  ino: bigint;
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** BLAKE3 of the whole content. */
  content: Uint8Array;
  /** The chunker that cut `chunks` (or would have). */
  chunker: Readonly<ChunkerParams>;
  /** The content-defined chunks, in order; null when the file has more than CHUNKS_MAX. */
  chunks: readonly ChunkRef[] | null;
}

/** What a file is now, as lstat gives it (bigint times and ids). */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export function encodeSignature(sig: Signature): Buffer {
  const chunks = sig.chunks;
  if (chunks !== null && chunks.length > CHUNKS_MAX) throw new RangeError(`a signature lists at most ${CHUNKS_MAX} chunks`);
  checkFields(sig, (m) => new RangeError(m));
  const count = chunks?.length ?? 0;
  const out = Buffer.alloc(HEADER_BYTES + CHUNK_ENTRY_BYTES * count + CHECK_BYTES);
  out.write(SIGNATURE_MAGIC, 0, 'latin1');
  out[4] = SIGNATURE_VERSION;
  out[5] = chunks !== null ? FLAG_CHUNKS : 0;
  out.writeBigUInt64LE(sig.dev, 8);
  out.writeBigUInt64LE(sig.ino, 16);
  out.writeBigUInt64LE(BigInt(sig.size), 24);
  out.writeBigInt64LE(sig.mtimeNs, 32);
  out.writeBigInt64LE(sig.ctimeNs, 40);
  out.set(sig.content, 48);
  out.writeUInt32LE(sig.chunker.min, 80);
  out.writeUInt32LE(sig.chunker.avg, 84);
  out.writeUInt32LE(sig.chunker.max, 88);
  out.writeUInt32LE(sig.chunker.seed >>> 0, 92);
  out.writeUInt32LE(count, 96);
  let at = HEADER_BYTES;
  for (const c of chunks ?? []) {
    out.writeUInt32LE(c.length, at);
    out.set(c.id, at + 4);
    at += CHUNK_ENTRY_BYTES;
  }
  blake3().hash(out.subarray(0, at)).copy(out, at, 0, CHECK_BYTES);
  return out;
}

/** Decodes a record, or throws a FormatError naming the first thing wrong (formats/signatures.md §3). */
export function decodeSignature(bytes: Uint8Array): Signature {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (why: string) => new FormatError(`signature: ${why}`);
  if (b.length < HEADER_BYTES + CHECK_BYTES) throw bad(`${b.length} bytes, shorter than a record`);
  if (b.toString('latin1', 0, 4) !== SIGNATURE_MAGIC) throw bad('not a signature (magic)');
  if (b[4] !== SIGNATURE_VERSION) throw bad(`version ${b[4]}, this reader knows ${SIGNATURE_VERSION}`);
  if ((b[5] & ~FLAG_CHUNKS) !== 0 || b.readUInt16LE(6) !== 0) throw bad('unknown flags');
  const count = b.readUInt32LE(96);
  if (count > CHUNKS_MAX) throw bad(`${count} chunks, more than ${CHUNKS_MAX}`);
  const hasChunks = (b[5] & FLAG_CHUNKS) !== 0;
  if (!hasChunks && count !== 0) throw bad('chunks without the chunk-list flag');
  const end = HEADER_BYTES + CHUNK_ENTRY_BYTES * count;
  if (b.length !== end + CHECK_BYTES) throw bad(`${b.length} bytes where ${count} chunks make ${end + CHECK_BYTES}`);
  if (!blake3().hash(b.subarray(0, end)).subarray(0, CHECK_BYTES).equals(b.subarray(end))) throw bad('check mismatch (torn or damaged)');
  const size = b.readBigUInt64LE(24);
  if (size > MAX_SAFE) throw bad('size over 2^53-1');
  const chunker: ChunkerParams = { algorithm: CHUNKER_ALGORITHM, min: b.readUInt32LE(80), avg: b.readUInt32LE(84), max: b.readUInt32LE(88), seed: b.readUInt32LE(92) };
  let chunks: ChunkRef[] | null = null;
  if (hasChunks) {
    chunks = new Array<ChunkRef>(count);
    for (let i = 0, at = HEADER_BYTES; i < count; i++, at += CHUNK_ENTRY_BYTES) {
      chunks[i] = { length: b.readUInt32LE(at), id: new Uint8Array(b.subarray(at + 4, at + CHUNK_ENTRY_BYTES)) };
    }
  }
  const sig: Signature = {
    dev: b.readBigUInt64LE(8), ino: b.readBigUInt64LE(16), size: Number(size), mtimeNs: b.readBigInt64LE(32), ctimeNs: b.readBigInt64LE(40),
    content: new Uint8Array(b.subarray(48, 80)), chunker, chunks,
  };
  checkFields(sig, bad);
  return sig;
}

/** decodeSignature, or null for anything it rejects (the file is then compared in full). */
export function readSignature(bytes: Uint8Array | null | undefined): Signature | null {
  if (!bytes) return null;
  try {
    return decodeSignature(bytes);
  } catch (err) {
    if (err instanceof FormatError) return null;
    throw err;
  }
}

/** Whether `sig` describes the file that is now `now` (same device, inode, size, mtime and ctime to the ns). */
export function isValidFor(sig: Signature, now: FileIdentity): boolean {
  return sig.dev === now.dev && sig.ino === now.ino && sig.size === now.size && sig.mtimeNs === now.mtimeNs && sig.ctimeNs === now.ctimeNs;
}

/** The rules both sides keep: a writer never makes what a reader rejects. */
function checkFields(sig: Signature, bad: (why: string) => Error): void {
  if (!Number.isSafeInteger(sig.size) || sig.size < 0) throw bad('size is not a safe non-negative integer');
  if (sig.content.length !== ID_BYTES) throw bad('content hash is not 32 bytes');
  try {
    validateChunkerParams({ ...sig.chunker, algorithm: CHUNKER_ALGORITHM });
  } catch (err) {
    throw bad(`chunker parameters: ${(err as Error).message}`);
  }
  if (sig.chunks === null) return;
  let total = 0;
  sig.chunks.forEach((c, i) => {
    if (c.id.length !== ID_BYTES) throw bad(`chunk ${i}: id is not 32 bytes`);
    if (!Number.isInteger(c.length) || c.length <= 0 || c.length > sig.chunker.max) throw bad(`chunk ${i}: length ${c.length} outside 1..max`);
    if (c.length < sig.chunker.min && i !== sig.chunks!.length - 1) throw bad(`chunk ${i}: length ${c.length} under min before the last chunk`);
    total += c.length;
  });
  if (total !== sig.size) throw bad(`chunk lengths sum to ${total}, not the size ${sig.size}`);
}
