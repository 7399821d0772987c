/**
 * The codec ids, persisted in pack records and FXAR records, never changing meaning:
 *   0 none, 1 zstd, 2 lz4, 3 gzip, 4 xz
 * Code that tests a codec names it (CODEC_IDS.xz), never the bare number. Kept apart from
 * codec.ts so the record formats can name codecs without loading the compressors.
 */
export const CODEC_IDS = { none: 0, zstd: 1, lz4: 2, gzip: 3, xz: 4 } as const;
export type CodecName = keyof typeof CODEC_IDS;
export const CODEC_NAMES: CodecName[] = ['none', 'zstd', 'lz4', 'gzip', 'xz'];
/** The highest codec id a reader knows: records naming a higher one are refused. */
export const MAX_CODEC_ID = CODEC_IDS.xz;
/**
 * Not a codec a user picks, and only in store packs (never in FXAR archives or on the wire): a
 * member record of a bundle (formats/store.md §7.6), whose payload says where its bytes lie in
 * the bundle record before it. Readers that meet it anywhere else refuse it as an unknown codec.
 */
export const CODEC_BUNDLED = 5;
