/**
 * Snapshot records: immutable JSON documents in STORE/snapshots/<id>.snap, where id is the
 * BLAKE3-256 of the record's bytes. A record is written only after every chunk and tree it
 * refers to is durable, so a listed snapshot can always be restored.
 */
import { FormatError } from '../errors/index.js';
import { blake3 } from '../hash/blake3.js';

export const SNAPSHOT_VERSION = 1;

export interface SnapshotStats {
  files: number;
  dirs: number;
  symlinks: number;
  others: number;
  /** Apparent size of all regular files. */
  bytes: number;
  /** File bytes read and chunked (files unchanged since the parent are not read). */
  readBytes: number;
  /** Files whose chunk list was reused from the parent snapshot without reading. */
  reusedFiles: number;
  newChunks: number;
  /** Raw bytes of chunks this snapshot added to the store. */
  newBytes: number;
  /** Bytes those chunks take in packs (after compression). */
  storedBytes: number;
  /** Entries that could not be read (each was reported). */
  errors: number;
  durationMs: number;
}

export interface SnapshotRecord {
  version: number;
  time: string;
  source: string;
  host: string;
  user: string;
  tags: string[];
  /** Hex id of the root tree: a tree with exactly one entry, the source itself. */
  tree: string;
  parent: string | null;
  codec: string;
  stats: SnapshotStats;
  /**
   * The store's loss epoch when the snapshot started (lib/index/loss-epoch.ts); absent in
   * records written before it existed, which count as epoch "0".
   */
  lossEpoch?: string;
}

export function encodeSnapshot(rec: SnapshotRecord): { id: string; bytes: Buffer } {
  const bytes = Buffer.from(JSON.stringify(rec, null, 1) + '\n', 'utf8');
  return { id: blake3().hash(bytes).toString('hex'), bytes };
}

/** Validates a parsed record (from disk or an archive). */
export function checkSnapshot(value: unknown, where: string): SnapshotRecord {
  const r = value as SnapshotRecord;
  if (!r || typeof r !== 'object') throw new FormatError(`${where}: snapshot record is not an object`);
  if (typeof r.version !== 'number' || r.version > SNAPSHOT_VERSION) {
    throw new FormatError(`${where}: snapshot version ${String(r.version)} is newer than this fxcp supports (${SNAPSHOT_VERSION})`, {}, 'NEWER_VERSION');
  }
  if (typeof r.tree !== 'string' || !/^[0-9a-f]{64}$/.test(r.tree)) throw new FormatError(`${where}: snapshot has no valid tree id`);
  if (typeof r.time !== 'string' || Number.isNaN(Date.parse(r.time))) throw new FormatError(`${where}: snapshot has no valid time`);
  if (!Array.isArray(r.tags)) throw new FormatError(`${where}: snapshot tags are not a list`);
  return r;
}
