/**
 * Salvaging chunks from a damaged pack: walk its records from the header on, and keep every
 * record whose payload decompresses and hashes to the id its header names. Pure: the pack's
 * bytes in, verified records out; nothing here trusts a length it has not checked.
 *
 * The trailer is not needed (it may be what is damaged). After a record that does not verify,
 * the walk resynchronises by trying every later offset whose 44 bytes look like a record
 * header (known type and codec, zero reserved bytes, lengths inside the pack); only a record
 * that then hashes to its id is kept, so a false header can cost time but never yields data.
 * Limit: a damaged pack costs one decompression attempt per plausible offset (rare in practice;
 * bounded by the pack size).
 */
import type { ChunkCodec } from '../codec/codec.js';
import { CODEC_IDS } from '../codec/codec-ids.js';
import { blake3 } from '../hash/blake3.js';
import { decodeRecordHeader, type PackEntry } from './pack-codec.js';
import { CHUNK_TREE, PACK_HEADER_BYTES, RECORD_HEADER_BYTES } from './store-layout.js';

/** Largest raw chunk a record may claim (the chunker's maximum is 2 MiB; tree parts are smaller). */
const MAX_RAW = 16 << 20;
const MAX_CODEC = 4;

export interface SalvagedRecord { entry: PackEntry; stored: Buffer }

function plausible(pack: Buffer, at: number): PackEntry | null {
  if (at + RECORD_HEADER_BYTES > pack.length) return null;
  const h = pack.subarray(at, at + RECORD_HEADER_BYTES);
  if (h[32] > CHUNK_TREE || h[33] > MAX_CODEC || h[34] !== 0 || h[35] !== 0) return null;
  const e = decodeRecordHeader(Buffer.from(h), at);
  if (e.rawLength > MAX_RAW || at + RECORD_HEADER_BYTES + e.storedLength > pack.length) return null;
  if (e.codec === CODEC_IDS.none && e.rawLength !== e.storedLength) return null;
  return e;
}

async function verifies(codec: ChunkCodec, e: PackEntry, stored: Buffer): Promise<boolean> {
  try {
    const raw = await codec.decompress(e.codec, stored, e.rawLength);
    return blake3().hash(raw).equals(e.id);
  } catch {
    return false;
  }
}

/** Every verifiable record of `pack` (the whole pack file's bytes), in file order. */
export async function salvageRecords(codec: ChunkCodec, pack: Buffer): Promise<SalvagedRecord[]> {
  const out: SalvagedRecord[] = [];
  let at = PACK_HEADER_BYTES;
  while (at + RECORD_HEADER_BYTES <= pack.length) {
    const e = plausible(pack, at);
    if (e) {
      const stored = pack.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + e.storedLength);
      if (await verifies(codec, e, stored)) {
        out.push({ entry: e, stored: Buffer.from(stored) });
        at += RECORD_HEADER_BYTES + e.storedLength;
        continue;
      }
    }
    at++;
  }
  return out;
}
