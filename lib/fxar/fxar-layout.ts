/**
 * Byte-level constants of the FXAR v2 archive format. They mirror formats/fxar-v2.md exactly;
 * change both together. All integers are little-endian.
 *
 *   archive := header record* index-record index footer
 */

/**
 * 8-byte magic, PNG style: a high-bit first byte (7-bit transports and Foxing's ASCII "FXAR"
 * can never match it), "FXN" (Foxing for Node), then CR LF ^Z LF so that text-mode mangling
 * (CRLF→LF, LF→CRLF, ^Z as EOF) changes the magic and is caught on the first read.
 */
export const FXAR_MAGIC = Buffer.from([0x89, 0x46, 0x58, 0x4e, 0x0d, 0x0a, 0x1a, 0x0a]);
export const FXAR_VERSION = 2;
/** magic[8] version u16 flags u16 check[4] */
export const HEADER_BYTES = 16;

/** id[32] type u8 codec u8 reserved u16 rawLength u32 storedLength u32 check[4] */
export const RECORD_HEADER_BYTES = 48;
/** Bytes of the record header covered by its check (everything before the check). */
export const RECORD_CHECKED_BYTES = 44;

/** Record types. 0 and 1 are the store's chunk types (formats/store.md), on purpose. */
export const REC_DATA = 0;
export const REC_TREE = 1;
export const REC_SNAPSHOT = 2;
export const REC_INDEX = 3;

/** Largest payload of a chunk or snapshot record a reader accepts (the chunker's max is 2 MiB). */
export const MAX_RECORD_BYTES = 16 << 20;

/** Index: head, fan-out table, chunk table (sorted by id), snapshot table. */
export const INDEX_HEAD_BYTES = 16;        // chunkCount u32 snapshotCount u32 chunkEntryBytes u16 snapshotEntryBytes u16 reserved u32
export const FANOUT_BYTES = 256 * 4;       // u32 × 256: entries whose id's first byte is ≤ i
export const CHUNK_ENTRY_BYTES = 56;       // id[32] offset u64 rawLength u32 storedLength u32 type u8 codec u8 reserved[6]
export const SNAPSHOT_ENTRY_BYTES = 48;    // id[32] offset u64 length u32 reserved u32

/** indexOffset u64 archiveLength u64 version u16 reserved u16 check[4] endMagic[8] */
export const FOOTER_BYTES = 32;
export const FOOTER_CHECKED_BYTES = 20;
export const FXAR_END_MAGIC = Buffer.from([0x89, 0x46, 0x58, 0x4e, 0x45, 0x4e, 0x44, 0x0a]); // \x89 F X N E N D \n

/** Foxing's (Rust) FXAR v2 header starts with ASCII "FXAR" then u32 LE 2 (a different format). */
export const FOXING_MAGIC = Buffer.from('FXAR', 'latin1');
