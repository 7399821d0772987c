/**
 * Decoding one stored piece of a Foxing archive (a chunk, or the manifest) with the archive's
 * codec, as the reference really wrote it rather than as its documents say
 * (formats/foxing-fxar-v2.md §Codecs):
 * - lz4 is lz4_flex's `compress_prepend_size`: a u32 LE decoded length, then one raw LZ4 *block*
 *   (not the LZ4 frame format); lib/codec reads that form already.
 * - `--compress xz` set flag 4 but compressed with zstd level 3: under flag 4 a piece that starts
 *   with the zstd magic is zstd. (An xz stream, should one ever be found, is read as xz.)
 * - A zstd compression that failed stored the raw bytes under the zstd flag: a piece that carries
 *   no magic of its codec and is exactly as long as its decoded length is taken as raw.
 * The caller verifies the result (BLAKE3 for a chunk, JSON parsing for the manifest), so a wrong
 * guess can never pass as data. Output is bounded by `rawLength` while it is produced (lib/codec).
 */
import { ChunkCodec, CODEC_IDS } from '../../codec/codec.js';
import { FormatError } from '../../errors/index.js';
import type { FoxingCodec } from './foxing-layout.js';

const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const GZIP_MAGIC = [0x1f, 0x8b];

const startsWith = (b: Uint8Array, m: readonly number[]) => b.length >= m.length && m.every((x, i) => b[i] === x);

/**
 * The lib/codec id a piece is really in, from the archive's codec, the piece's first bytes
 * (`head`: 6 are enough) and its stored and decoded lengths.
 */
export function effectiveCodec(codec: FoxingCodec, head: Uint8Array, storedLength: number, rawLength: number): number {
  const raw = storedLength === rawLength;
  switch (codec) {
    case 'none': return CODEC_IDS.none;
    case 'lz4': return CODEC_IDS.lz4;
    case 'gzip': return !startsWith(head, GZIP_MAGIC) && raw ? CODEC_IDS.none : CODEC_IDS.gzip;
    case 'zstd': return !startsWith(head, ZSTD_MAGIC) && raw ? CODEC_IDS.none : CODEC_IDS.zstd;
    case 'xz':
      if (startsWith(head, ZSTD_MAGIC)) return CODEC_IDS.zstd;
      if (startsWith(head, XZ_MAGIC)) return CODEC_IDS.xz;
      return raw ? CODEC_IDS.none : CODEC_IDS.zstd;
  }
}

/**
 * The decoded bytes of `stored`, exactly `rawLength` of them, or a FormatError whose message
 * starts with `what` ("chunk 12", "manifest"). `rawLength` must already be bounded by the caller.
 */
export async function decodePiece(codec: ChunkCodec, archiveCodec: FoxingCodec, stored: Uint8Array, rawLength: number, what: string): Promise<Uint8Array> {
  const id = effectiveCodec(archiveCodec, stored, stored.length, rawLength);
  if (id === CODEC_IDS.none) {
    if (stored.length !== rawLength) throw new FormatError(`${what}: stored as ${stored.length} raw bytes, expected ${rawLength}`, {}, 'FORMAT');
    return stored;
  }
  try {
    return await codec.decompress(id, stored, rawLength);
  } catch (err) {
    const message = (err as Error).message;
    throw new FormatError(`${what}: ${message}`, {}, 'FORMAT');
  }
}
