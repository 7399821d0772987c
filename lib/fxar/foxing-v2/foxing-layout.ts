/**
 * Byte-level constants of Foxing's (the Rust reference's) FXAR v2 archive, as its published
 * format document and its reader and writer code define it (formats/foxing-fxar-v2.md; the
 * team's study of Foxing's source, §1). All integers are little-endian.
 *
 *   archive := header(64) manifest-prefix(16) manifest(M) index(48 × N) chunk-data [footer(32)]
 *
 * Not our format (formats/fxar-v2.md): that one starts 0x89 "FXN"; this one starts "FXAR".
 */

export const FOXING_MAGIC_TEXT = 'FXAR';
export const FOXING_VERSION = 2;

/** magic[4] version u32 flags u32 chunk_min u32 chunk_max u32 chunk_avg u32, then five u64. */
export const HEADER_BYTES = 64;
export const H_VERSION = 4;
export const H_FLAGS = 8;
export const H_CHUNK_MIN = 12;
export const H_CHUNK_MAX = 16;
export const H_CHUNK_AVG = 20;
export const H_INDEX_OFFSET = 24;
export const H_INDEX_SIZE = 32;
export const H_MANIFEST_OFFSET = 40;
export const H_MANIFEST_SIZE = 48;
export const H_CHUNK_COUNT = 56;

/** compressed_len u64, uncompressed_len u64, right after the header. */
export const MANIFEST_PREFIX_BYTES = 16;

/** blake3[32] raw_size u32 offset u64 stored_size u32 */
export const INDEX_ENTRY_BYTES = 48;

/** "FXAF" manifest_offset u64 index_offset u64 chunk_count u64 checksum u32 (streamed export only). */
export const FOOTER_BYTES = 32;
export const FOOTER_MAGIC_TEXT = 'FXAF';

/** The header's flags: one codec for the whole archive (manifest and every chunk). */
export const FOXING_CODECS = { none: 0, zstd: 1, lz4: 2, gzip: 3, xz: 4 } as const;
export type FoxingCodec = keyof typeof FOXING_CODECS;
export const FOXING_CODEC_NAMES: readonly FoxingCodec[] = ['none', 'zstd', 'lz4', 'gzip', 'xz'];

/**
 * Bounds this reader sets (formats/foxing-fxar-v2.md §Bounds says why each is what it is).
 *
 * The manifest is one JSON document, so it is held and parsed whole: its compressed length and
 * its decompressed length (the prefix's uncompressed_len, checked before anything is allocated,
 * and enforced while decompressing) are each at most 64 MiB. The reference's own reader stops
 * at 16 MiB decompressed, so every manifest it could read fits, with room for the larger ones
 * its writer made but could not read back (about 250,000 files at 64 MiB).
 */
export const MANIFEST_MAX_STORED = 64 << 20;
export const MANIFEST_MAX_JSON = 64 << 20;
/**
 * One chunk's decompressed size: the reference's chunker cuts at most 2 MiB and its zstd decoder
 * stops at 16 MiB; 16 MiB is the bound here too. Stored sizes may exceed raw ones a little
 * (a compressor's framing around incompressible data): CHUNK_SLACK bytes more are allowed.
 */
export const CHUNK_MAX_RAW = 16 << 20;
export const CHUNK_SLACK = 64 << 10;
/**
 * The chunk index is held in memory (48 bytes a chunk): at most 2^22 entries (192 MiB), which
 * at the reference's 64 KiB average chunk is about 256 GiB of unique data.
 */
export const MAX_CHUNKS = 1 << 22;
