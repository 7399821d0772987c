/**
 * Byte-level constants of the store format. They mirror formats/store.md exactly; change both
 * together, and bump the version of whatever changed.
 */
export const STORE_FORMAT = 'foxing-store';
/**
 * 2 since 2026-12-07: packs may hold bundles (formats/store.md §7.6), which an fxcp of version 1
 * would misjudge (gc would copy a member's pointer without its bundle). Version 1 stores are read
 * and written as before, without bundles.
 */
export const STORE_VERSION = 2;
/** The first store version whose writers bundle small chunks. */
export const BUNDLES_SINCE_VERSION = 2;

/** Pack file: header, records, trailer entries, trailer tail. All integers little-endian. */
export const PACK_MAGIC = Buffer.from('FXPK', 'latin1');
export const PACK_VERSION = 1;
export const PACK_HEADER_BYTES = 8;          // magic[4] version u16 flags u16
export const RECORD_HEADER_BYTES = 44;       // id[32] type u8 codec u8 reserved u16 rawLen u32 storedLen u32
export const TRAILER_ENTRY_BYTES = 48;       // id[32] type u8 codec u8 reserved u16 rawLen u32 storedLen u32 offset u32
export const TRAILER_TAIL_BYTES = 48;        // entryCount u32 entriesOffset u64 checksum[32] magic[4]
export const TRAILER_MAGIC = Buffer.from('FXPT', 'latin1');

/** Chunk types: data chunks hold file bytes, tree chunks hold directory listings. */
export const CHUNK_DATA = 0;
export const CHUNK_TREE = 1;
/** A bundle record: several small data chunks compressed as one (formats/store.md §7.6); never a chunk of a tree. */
export const CHUNK_BUNDLE = 2;

/**
 * Bundles (formats/store.md §7.6). A data chunk under BUNDLE_MEMBER_MAX bytes is not compressed
 * alone but appended to its writer's open bundle, which is compressed and written once it holds
 * BUNDLE_TARGET_RAW bytes (or its pack is sealed). A member record's payload is
 * BUNDLE_MEMBER_PAYLOAD_BYTES long: where its bundle record begins and where the member lies in
 * the bundle's raw bytes. Readers refuse a bundle of more than BUNDLE_MAX_RAW raw bytes (the
 * bound of what one member read decodes).
 */
export const BUNDLE_MEMBER_MAX = 64 * 1024;
export const BUNDLE_TARGET_RAW = 128 * 1024;
export const BUNDLE_MAX_RAW = 1024 * 1024;
export const BUNDLE_MEMBER_PAYLOAD_BYTES = 8;
/**
 * Writers also close a bundle at this many members (not a format limit: readers take any count).
 * Members of a few bytes (1,000,000 files of "d/f\n", the daemon-scale bench) filled 128 KiB only
 * after ~20,000 members, and a bundle's members go into one pack together: packs of ~20,000
 * records against PACK_MAX_RECORDS, and the indexer's transaction dirtied pages for them all
 * (+15 MiB at the daemon's first cut). Members of 128 bytes or more still reach the byte target first.
 */
export const BUNDLE_MAX_MEMBERS = 1024;

/**
 * A pack is closed once it reaches this many bytes (it may exceed it by one chunk). Each pack
 * costs a file, two fsyncs and an index transaction, so larger packs make a snapshot faster
 * (docs/BENCHMARKS.md). Nothing holds a whole pack in memory on the hot paths (writers stage 1 MiB, check reads 8 MiB windows).
 */
export const PACK_TARGET_BYTES = 64 * 1024 * 1024;
/**
 * A pack is also closed at this many records, whatever its bytes: a writer holds each record's
 * trailer entry and pending id until the pack is sealed and indexed, and the main thread gets
 * them all at once to index. Packs of tiny chunks (a first snapshot of 1,000,000 small files)
 * reached 64 MiB only after about a million records, hundreds of MiB of entries per writer.
 * The indexer's transaction matters too: LMDB copies every leaf page it changes into memory
 * of its own and keeps those pages cached until the index is closed, and ids are random, so a
 * transaction of N records dirties about min(N, leaves) pages of 4 KiB. 65,536 records held
 * ~90 MiB that way in a first snapshot of 1,000,000 small files (the daemon's first cut).
 * 8,192 records: at most 32 MiB of pages, a 400 KiB trailer; a pack of chunks of 8 KiB or
 * more still reaches the byte target first.
 */
export const PACK_MAX_RECORDS = 8_192;
/** Offsets in a pack are u32: a pack never exceeds this. */
export const PACK_MAX_BYTES = 0xffff_ffff;

export const DIRS = { packs: 'packs', snapshots: 'snapshots', index: 'index', locks: 'locks', tmp: 'tmp' } as const;
export const CONFIG_FILE = 'config';
/** Where repair moves packs and records it cannot use (never read; formats/store.md §16). */
export const QUARANTINE_DIR = 'quarantine';
export const PACK_SUFFIX = '.pack';
export const SNAPSHOT_SUFFIX = '.snap';

/** gc's default: repack a pack once a quarter of it is garbage (see docs/lifecycle.md for why). */
export const DEFAULT_REPACK_THRESHOLD = 0.25;
