/**
 * The bodies of the blob frames (formats/wire.md §7), pure: the fields a blob request names
 * (kind, name, handle, range) checked as a reader must check them, and the one binary body,
 * TBlobWrite's handle and bytes. Every decoder refuses what §7 says a reader must refuse, with
 * PROTOCOL. A name is checked here, before the server makes a path of it: only the store's own
 * blob names (hex) pass, so no request names a file outside the store's layout.
 */
import { TransportError } from '../errors/index.js';
import type { BlobKind } from '../store/index.js';
import { MAX_FRAME_BYTES, MAX_LIST_NAMES, MAX_READ_BYTES, MIN_FRAME_LENGTH } from './wire-layout.js';
import { type JsonBody, numberField, stringField } from './wire-messages.js';

const protocol = (what: string, problem: string) => new TransportError(`${what}: ${problem}`, {}, 'PROTOCOL');

/** Whether an error ends a blob session: only the protocol's own (formats/wire.md §7). */
export function endsBlobSession(code: string): boolean {
  return code === 'PROTOCOL' || code === 'PROTOCOL_VERSION' || code === 'TRANSPORT';
}

/** A blob's name as the store names them (formats/store.md §2): 8 to 64 lowercase hex digits. */
export const BLOB_NAME = /^[0-9a-f]{8,64}$/;

/** The most bytes of one TBlobWrite: a frame less its handle. */
export const MAX_WRITE_BYTES = MAX_FRAME_BYTES - MIN_FRAME_LENGTH - 4;

export function kindField(o: JsonBody, what: string): BlobKind {
  const v = stringField(o, 'kind', what);
  if (v !== 'pack' && v !== 'snapshot') throw protocol(what, `field 'kind' is '${v.slice(0, 20)}', neither 'pack' nor 'snapshot'`);
  return v;
}

export function nameField(o: JsonBody, key: string, what: string): string {
  const v = stringField(o, key, what);
  if (!BLOB_NAME.test(v)) throw protocol(what, `field '${key}' is not a blob name (8 to 64 lowercase hex digits)`);
  return v;
}

/** A whole number in 0..max. */
export function countField(o: JsonBody, key: string, max: number, what: string): number {
  const v = numberField(o, key, what);
  if (!Number.isInteger(v) || v < 0 || v > max) throw protocol(what, `field '${key}' is not a whole number in 0..${max}`);
  return v;
}

/** A write handle: 1..2^32-1, chosen by the client. */
export function handleField(o: JsonBody, what: string): number {
  const v = countField(o, 'handle', 0xffffffff, what);
  if (v === 0) throw protocol(what, "field 'handle' is 0");
  return v;
}

export interface BlobRead { kind: BlobKind; name: string; offset: number; length: number }

export function decodeBlobRead(o: JsonBody): BlobRead {
  return {
    kind: kindField(o, 'TBlobRead'), name: nameField(o, 'name', 'TBlobRead'),
    offset: countField(o, 'offset', Number.MAX_SAFE_INTEGER, 'TBlobRead'), length: countField(o, 'length', MAX_READ_BYTES, 'TBlobRead'),
  };
}

/** RBlobList: names in byte order, and whether this is the last page. */
export function decodeBlobList(o: JsonBody): { names: string[]; last: boolean } {
  const names = o.names;
  if (!Array.isArray(names) || names.length > MAX_LIST_NAMES || !names.every((n) => typeof n === 'string' && BLOB_NAME.test(n))) {
    throw protocol('RBlobList', `field 'names' is not a list of at most ${MAX_LIST_NAMES} blob names`);
  }
  for (let i = 1; i < names.length; i++) {
    if (names[i - 1]! >= names[i]!) throw protocol('RBlobList', `names are not in increasing order at ${i}`);
  }
  if (typeof o.last !== 'boolean') throw protocol('RBlobList', "field 'last' is not true or false");
  if (!o.last && names.length === 0) throw protocol('RBlobList', 'an empty page that is not the last');
  return { names: names as string[], last: o.last };
}

/** RBlobStat: the blob's size, or null when there is none of that name. */
export function decodeBlobStat(o: JsonBody): number | null {
  if (o.size === null) return null;
  return countField(o, 'size', Number.MAX_SAFE_INTEGER, 'RBlobStat');
}

export function encodeBlobWrite(handle: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + data.byteLength);
  new DataView(out.buffer).setUint32(0, handle, true);
  out.set(data, 4);
  return out;
}

/** TBlobWrite: Handle:u32 then the bytes (a view of the frame). */
export function decodeBlobWrite(body: Uint8Array): { handle: number; data: Uint8Array } {
  if (body.byteLength < 5) throw protocol('TBlobWrite', `a body of ${body.byteLength} bytes holds no handle and bytes`);
  const handle = new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true);
  if (handle === 0) throw protocol('TBlobWrite', 'handle 0');
  return { handle, data: body.subarray(4) };
}
