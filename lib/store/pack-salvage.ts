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
 *
 * Bundles (formats/store.md §7.6): a bundle record that decodes is kept in mind (the last one),
 * and a member record that points at it yields the member's bytes if they hash to its id. What a
 * member yields is its raw bytes (`member`), to be bundled anew: its payload only pointed into
 * this pack. A bundle itself is never yielded.
 */
import type { ChunkCodec } from '../codec/codec.js';
import { CODEC_BUNDLED, CODEC_IDS, MAX_CODEC_ID } from '../codec/codec-ids.js';
import { blake3 } from '../hash/blake3.js';
import { checkBundleHeader, decodeMemberPayload } from './bundle-codec.js';
import { decodeRecordHeader, type PackEntry } from './pack-codec.js';
import { BUNDLE_MAX_RAW, BUNDLE_MEMBER_PAYLOAD_BYTES, CHUNK_BUNDLE, CHUNK_DATA, PACK_HEADER_BYTES, RECORD_HEADER_BYTES } from './store-layout.js';

/** Largest raw chunk a record may claim (the chunker's maximum is 2 MiB; tree parts are smaller). */
const MAX_RAW = 16 << 20;

/** A record found intact; for a bundle member (`member`), `stored` is the member's raw bytes. */
export interface SalvagedRecord { entry: PackEntry; stored: Buffer; member?: boolean }

function plausible(pack: Buffer, at: number): PackEntry | null {
  if (at + RECORD_HEADER_BYTES > pack.length) return null;
  const h = pack.subarray(at, at + RECORD_HEADER_BYTES);
  if (h[32] > CHUNK_BUNDLE || (h[33] > MAX_CODEC_ID && h[33] !== CODEC_BUNDLED) || h[34] !== 0 || h[35] !== 0) return null;
  const e = decodeRecordHeader(Buffer.from(h), at);
  if (e.rawLength > MAX_RAW || at + RECORD_HEADER_BYTES + e.storedLength > pack.length) return null;
  if (e.codec === CODEC_IDS.none && e.rawLength !== e.storedLength) return null;
  if (e.type === CHUNK_BUNDLE && (e.rawLength > BUNDLE_MAX_RAW || e.codec === CODEC_BUNDLED)) return null;
  if (e.codec === CODEC_BUNDLED && (e.type !== CHUNK_DATA || e.storedLength !== BUNDLE_MEMBER_PAYLOAD_BYTES)) return null;
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
  let bundle: { entry: PackEntry; raw: Uint8Array } | null = null;
  let at = PACK_HEADER_BYTES;
  while (at + RECORD_HEADER_BYTES <= pack.length) {
    const e = plausible(pack, at);
    if (e) {
      const stored = pack.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + e.storedLength);
      const found: Uint8Array | null = e.type === CHUNK_BUNDLE ? decodesTo(codec, e, stored) : e.codec === CODEC_BUNDLED ? memberOf(bundle, e, stored) : null;
      if (found && e.type === CHUNK_BUNDLE) {
        bundle = { entry: e, raw: found };
        at += RECORD_HEADER_BYTES + e.storedLength;
        continue;
      }
      if (found) {
        out.push({ entry: e, stored: Buffer.from(found), member: true });
        at += RECORD_HEADER_BYTES + e.storedLength;
        continue;
      }
      if (e.type !== CHUNK_BUNDLE && e.codec !== CODEC_BUNDLED && await verifies(codec, e, stored)) {
        out.push({ entry: e, stored: Buffer.from(stored) });
        at += RECORD_HEADER_BYTES + e.storedLength;
        continue;
      }
    }
    at++;
  }
  return out;
}

/** A bundle record's bytes, when its payload decodes to its length; else null. */
function decodesTo(codec: ChunkCodec, e: PackEntry, stored: Buffer): Uint8Array | null {
  try {
    return codec.decompressSync(e.codec, stored, e.rawLength);
  } catch {
    return null;
  }
}

/** The bytes of member `e` when it points at `bundle` (the last bundle decoded) and they hash to its id; else null. */
function memberOf(bundle: { entry: PackEntry; raw: Uint8Array } | null, e: PackEntry, payload: Buffer): Uint8Array | null {
  if (!bundle) return null;
  try {
    const p = decodeMemberPayload(payload, e.offset);
    if (e.offset - p.back !== bundle.entry.offset) return null;
    checkBundleHeader(bundle.entry, e.offset, p, e.rawLength);
    const bytes = bundle.raw.subarray(p.at, p.at + e.rawLength);
    return blake3().hash(bytes).equals(e.id) ? bytes : null;
  } catch {
    return null;
  }
}
