/**
 * The wire protocol's constants (formats/wire.md): the preamble, the frame types, the limits.
 * Persisted on the wire between two fxcp versions: change this file and the spec together, and
 * any change to a meaning needs a new WIRE_VERSION.
 */

export const WIRE_VERSION = 1;

/** Written once by each side before its first frame: "FXWIRE\n\0". */
export const PREAMBLE = Uint8Array.from([0x46, 0x58, 0x57, 0x49, 0x52, 0x45, 0x0a, 0x00]);

/** Frame_Length (u32) + Frame_Type (u8) + Request_Id (u32). */
export const FRAME_HEADER_BYTES = 9;
/** The least Frame_Length: type and request id, no body. */
export const MIN_FRAME_LENGTH = 5;
/** The most Frame_Length: what a reader ever holds of one frame. */
export const MAX_FRAME_BYTES = 16 << 20;
/** The most raw (and stored) bytes of one chunk on the wire. */
export const MAX_CHUNK_BYTES = 8 << 20;
/** Ids in one Id_Batch, Walk_Entry page or TForget. */
export const MAX_BATCH_IDS = 4096;
/** id[32] Chunk_Type Codec_Id Raw_Length:u32 Stored_Length:u32. */
export const CHUNK_RECORD_HEADER_BYTES = 42;
/** id[32] Chunk_Type. */
export const WALK_ENTRY_BYTES = 33;
/** Records per TPutChunks frame: up to this many bytes (one larger chunk goes alone). */
export const PUT_FRAME_BYTES = 1 << 20;
/** The most bytes one TBlobRead asks for (a reply frame holds them). */
export const MAX_READ_BYTES = 8 << 20;
/** Names in one RBlobList page. */
export const MAX_LIST_NAMES = 4096;
/** Blobs one session may have open for writing at once (TBlobCreate). */
export const MAX_OPEN_BLOBS = 64;
/** TPutChunks bytes sent and not yet acknowledged. */
export const PUT_WINDOW_BYTES = 32 << 20;

export const FRAME = {
  THello: 0x01,
  RHello: 0x02,
  TOpen: 0x03,
  ROpen: 0x04,
  TListSnapshots: 0x05,
  RSnapshots: 0x06,
  THaveChunks: 0x07,
  RHaveChunks: 0x08,
  TPutChunks: 0x09,
  RPutChunks: 0x0a,
  TPutSnapshot: 0x0b,
  RPutSnapshot: 0x0c,
  TWalk: 0x0d,
  RWalkIds: 0x0e,
  TWalkNext: 0x0f,
  TGetChunks: 0x10,
  RChunk: 0x11,
  TGetSnapshot: 0x12,
  RSnapshotRecord: 0x13,
  TForget: 0x14,
  RForget: 0x15,
  TBye: 0x16,
  RBye: 0x17,
  // The store's blobs (formats/wire.md §7): a client that runs the Store code itself.
  TOpenBlobs: 0x20,
  ROpenBlobs: 0x21,
  TBlobList: 0x22,
  RBlobList: 0x23,
  TBlobStat: 0x24,
  RBlobStat: 0x25,
  TBlobRead: 0x26,
  RBlobData: 0x27,
  TBlobCreate: 0x28,
  ROk: 0x29,
  TBlobWrite: 0x2a,
  TBlobCommit: 0x2b,
  TBlobAbort: 0x2c,
  TBlobRemove: 0x2d,
  TConfigCreate: 0x2e,
  TLock: 0x2f,
  TUnlock: 0x30,
  TCleanTemporaries: 0x31,
  TRemoveIfUnused: 0x32,
  TConfigUpgrade: 0x33,
  RError: 0x7f,
} as const;

export type FrameTypeName = keyof typeof FRAME;
export type FrameType = (typeof FRAME)[FrameTypeName];

const NAMES = new Map<number, FrameTypeName>(Object.entries(FRAME).map(([k, v]) => [v, k as FrameTypeName]));

/** The name of a frame type (for messages), or its number in hex when unknown. */
export function frameName(type: number): string {
  return NAMES.get(type) ?? `0x${type.toString(16).padStart(2, '0')}`;
}

/** True for a type a client sends (requests); the server sends the others. */
export function isRequest(type: number): boolean {
  return NAMES.get(type)?.startsWith('T') === true;
}

/** True for a type a server sends (replies, errors). */
export function isReply(type: number): boolean {
  return NAMES.get(type)?.startsWith('R') === true;
}

/** Errors after which the session goes on (formats/wire.md §2); after any other it ends. */
export const RECOVERABLE_CODES: ReadonlySet<string> = new Set(['APPEND_ONLY', 'NO_SNAPSHOT']);
