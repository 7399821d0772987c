/**
 * The messages between stream-chunk-pool.ts (main thread) and stream-chunk-worker.ts. Kept
 * apart from the worker so that the main thread can import the flags without running it.
 */
import type { CodecSpec } from '../codec/codec.js';
import type { SealedPack } from './pack-writer.js';

export interface DataJob {
  op: 'data';
  codec: CodecSpec;
  /** The pieces' bytes, back to back (transferred). */
  buf: Uint8Array;
  /** Per piece, in order: stream number, byte length, PIECE_* flags. */
  pieces: Array<[stream: number, length: number, flags: number]>;
}

/** The piece is the last of its stream: cut its tail as the last chunk. */
export const PIECE_END = 1;
/** The piece is exactly one chunk, already cut by the main thread: hash and store it whole. */
export const PIECE_CHUNK = 2;

export interface SealJob { op: 'seal' }
export interface AbortJob { op: 'abort' }

export interface DataResult {
  /** Ids of the chunks completed by the batch (32 bytes each), in piece order. */
  ids: Uint8Array;
  lengths: Uint32Array;
  /** How many of those chunks each piece completed. */
  counts: Uint32Array;
  newChunks: number;
  newRawBytes: number;
  newStoredBytes: number;
  /** The job's batch buffer, returned for reuse. */
  buf?: Uint8Array;
}

/** A part streamed back during a data job: a pack this worker sealed, to be indexed. */
export interface SealedPart { kind: 'sealed'; pack: SealedPack }
