/**
 * The bodies of the wire protocol's frames (formats/wire.md §3), pure: JSON control bodies
 * with their fields checked, and the binary ones: id batches, have-bitmaps, chunk records, walk
 * pages. Every decoder refuses what §3 says a reader must refuse, with PROTOCOL; decoded byte
 * fields are views into the frame's body (copy them to keep them past the frame).
 */
import { TransportError } from '../errors/index.js';
import { MAX_CODEC_ID } from '../codec/codec-ids.js';
import { CHUNK_RECORD_HEADER_BYTES, MAX_BATCH_IDS, MAX_CHUNK_BYTES, WALK_ENTRY_BYTES } from './wire-layout.js';

export type JsonBody = Record<string, unknown>;

const protocol = (what: string, problem: string) => new TransportError(`${what}: ${problem}`, {}, 'PROTOCOL');

export function encodeJson(value: JsonBody): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** A JSON object body; `what` names the frame in messages. */
export function decodeJson(body: Uint8Array, what: string): JsonBody {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    throw protocol(what, 'body is not JSON');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw protocol(what, 'body is not a JSON object');
  return v as JsonBody;
}

export function stringField(o: JsonBody, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw protocol(what, `field '${key}' is not a string`);
  return v;
}

export function numberField(o: JsonBody, key: string, what: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw protocol(what, `field '${key}' is not a number`);
  return v;
}

export function booleanField(o: JsonBody, key: string, what: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw protocol(what, `field '${key}' is not true or false`);
  return v;
}

/** A snapshot or chunk id as 64 lowercase hex digits. */
export function hexIdField(o: JsonBody, key: string, what: string): string {
  const v = stringField(o, key, what);
  if (!/^[0-9a-f]{64}$/.test(v)) throw protocol(what, `field '${key}' is not 64 hex digits`);
  return v;
}

export function encodeIds(ids: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(ids.length * 32);
  ids.forEach((id, i) => out.set(id.subarray(0, 32), i * 32));
  return out;
}

export function decodeIds(body: Uint8Array, what: string): Buffer[] {
  if (body.length === 0 || body.length % 32 !== 0) throw protocol(what, `an id batch of ${body.length} bytes is not a non-empty multiple of 32`);
  const n = body.length / 32;
  if (n > MAX_BATCH_IDS) throw protocol(what, `${n} ids in one batch (at most ${MAX_BATCH_IDS})`);
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return Array.from({ length: n }, (_, i) => b.subarray(i * 32, i * 32 + 32));
}

export function encodeBitmap(bits: readonly boolean[]): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((b, i) => { if (b) out[i >> 3]! |= 1 << (i & 7); });
  return out;
}

export function decodeBitmap(body: Uint8Array, n: number, what: string): boolean[] {
  if (body.length !== Math.ceil(n / 8)) throw protocol(what, `a bitmap of ${body.length} bytes for ${n} ids`);
  return Array.from({ length: n }, (_, i) => (body[i >> 3]! & (1 << (i & 7))) !== 0);
}

export interface WireChunk {
  id: Buffer;
  type: number;
  codec: number;
  rawLength: number;
  stored: Buffer;
}

export function chunkRecordBytes(storedLength: number): number {
  return CHUNK_RECORD_HEADER_BYTES + storedLength;
}

/** Records back to back (TPutChunks), or one (RChunk). */
export function encodeChunkRecords(chunks: readonly WireChunk[]): Uint8Array {
  let size = 0;
  for (const c of chunks) size += chunkRecordBytes(c.stored.length);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let at = 0;
  for (const c of chunks) {
    out.set(c.id.subarray(0, 32), at);
    out[at + 32] = c.type;
    out[at + 33] = c.codec;
    v.setUint32(at + 34, c.rawLength, true);
    v.setUint32(at + 38, c.stored.length, true);
    out.set(c.stored, at + CHUNK_RECORD_HEADER_BYTES);
    at += chunkRecordBytes(c.stored.length);
  }
  return out;
}

/** Every record of a body; refuses a body with none, a record past the end, or bad fields. */
export function decodeChunkRecords(body: Uint8Array, what: string): WireChunk[] {
  const out: WireChunk[] = [];
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  while (at < b.length) {
    if (b.length - at < CHUNK_RECORD_HEADER_BYTES) throw protocol(what, `a chunk record header at offset ${at} runs past the frame`);
    const type = b[at + 32]!, codec = b[at + 33]!;
    const rawLength = b.readUInt32LE(at + 34), storedLength = b.readUInt32LE(at + 38);
    const id = b.subarray(at, at + 32);
    const hex = id.toString('hex').slice(0, 16);
    if (type > 1) throw protocol(what, `chunk ${hex}: chunk type ${type} is neither 0 (data) nor 1 (tree)`);
    if (codec > MAX_CODEC_ID) throw protocol(what, `chunk ${hex}: unknown codec id ${codec}`);
    if (rawLength === 0 || rawLength > MAX_CHUNK_BYTES) throw protocol(what, `chunk ${hex}: raw length ${rawLength} is outside 1..${MAX_CHUNK_BYTES}`);
    if (storedLength > MAX_CHUNK_BYTES || (codec === 0 && storedLength !== rawLength)) throw protocol(what, `chunk ${hex}: stored length ${storedLength} does not fit raw length ${rawLength} with codec ${codec}`);
    const end = at + CHUNK_RECORD_HEADER_BYTES + storedLength;
    if (end > b.length) throw protocol(what, `chunk ${hex}: its ${storedLength} stored bytes run past the frame`);
    out.push({ id, type, codec, rawLength, stored: b.subarray(at + CHUNK_RECORD_HEADER_BYTES, end) });
    at = end;
  }
  if (out.length === 0) throw protocol(what, 'no chunk record');
  return out;
}

export interface WalkEntry { id: Buffer; type: number }

export function encodeWalkPage(last: boolean, entries: readonly WalkEntry[]): Uint8Array {
  const out = new Uint8Array(1 + entries.length * WALK_ENTRY_BYTES);
  out[0] = last ? 1 : 0;
  entries.forEach((e, i) => { out.set(e.id.subarray(0, 32), 1 + i * WALK_ENTRY_BYTES); out[1 + i * WALK_ENTRY_BYTES + 32] = e.type; });
  return out;
}

export function decodeWalkPage(body: Uint8Array, what: string): { last: boolean; entries: WalkEntry[] } {
  if (body.length < 1 || (body.length - 1) % WALK_ENTRY_BYTES !== 0) throw protocol(what, `a walk page of ${body.length} bytes is not 1 + a multiple of ${WALK_ENTRY_BYTES}`);
  if (body[0]! > 1) throw protocol(what, `Last is ${body[0]}, neither 0 nor 1`);
  const n = (body.length - 1) / WALK_ENTRY_BYTES;
  if (n > MAX_BATCH_IDS) throw protocol(what, `${n} ids in one page (at most ${MAX_BATCH_IDS})`);
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const entries: WalkEntry[] = [];
  for (let i = 0; i < n; i++) {
    const at = 1 + i * WALK_ENTRY_BYTES;
    const type = b[at + 32]!;
    if (type > 1) throw protocol(what, `entry ${i}: chunk type ${type} is neither 0 nor 1`);
    entries.push({ id: b.subarray(at, at + 32), type });
  }
  return { last: body[0] === 1, entries };
}
