/**
 * What `snap inspect` says about a Foxing archive: its form, codec, snapshots, files and sizes;
 * and with --verify, every chunk checked against its BLAKE3 id and every file against its
 * whole-file BLAKE3 (formats/foxing-fxar-v2.md §Integrity). Pure over a FoxingReader.
 */
import { throwIfAborted } from '../../errors/index.js';
import { effectiveCodec } from './foxing-codec.js';
import { CODEC_NAMES } from '../../codec/codec.js';
import type { FoxingSnapshot, PathProblem } from './foxing-paths.js';
import type { FoxingReader } from './foxing-reader.js';

export interface FoxingSummary {
  path: string;
  format: 'foxing-fxar-v2';
  /** The header's codec, and what the chunks really are when that differs (the xz quirk). */
  codec: string;
  chunkCodecs: Record<string, number>;
  /** 'seekable' (offsets in the header) or 'streamed' (placeholder header, FXAF footer). */
  form: 'seekable' | 'streamed';
  footer: boolean;
  created: string;
  bytes: number;
  chunks: number;
  /** Decoded bytes of the unique chunks, and what they take stored. */
  uniqueBytes: number;
  storedBytes: number;
  /** Bytes of every file of every snapshot. */
  logicalBytes: number;
  files: number;
  snapshots: Array<{ name: string; time: string; files: number; bytes: number }>;
  /** Manifest paths left out (unsafe, duplicated, both file and directory). */
  refused: PathProblem[];
}

export function summarizeFoxing(r: FoxingReader, snaps: FoxingSnapshot[], refused: PathProblem[]): FoxingSummary {
  let uniqueBytes = 0, storedBytes = 0;
  const chunkCodecs: Record<string, number> = {};
  for (let i = 0; i < r.chunkCount; i++) {
    const e = r.entry(i);
    uniqueBytes += e.rawSize;
    storedBytes += e.storedSize;
  }
  // What the chunks really hold, from their first bytes (one short read each).
  for (let i = 0; i < r.chunkCount; i++) {
    const e = r.entry(i);
    const name = CODEC_NAMES[effectiveCodec(r.header.codec, r.peek(i, 6), e.storedSize, e.rawSize)] ?? '?';
    chunkCodecs[name] = (chunkCodecs[name] ?? 0) + 1;
  }
  const quirk = r.header.codec === 'xz' && chunkCodecs.zstd ? ' (zstd data: the reference\'s --compress xz quirk)' : '';
  return {
    path: r.path, format: 'foxing-fxar-v2', codec: `${r.header.codec}${quirk}`, chunkCodecs,
    form: r.header.streamed ? 'streamed' : 'seekable', footer: r.footer !== null, created: r.manifest.created,
    bytes: r.size, chunks: r.chunkCount, uniqueBytes, storedBytes,
    logicalBytes: r.manifest.files.reduce((n, f) => n + f.size, 0), files: r.manifest.files.length,
    snapshots: snaps.map((s) => ({ name: s.name, time: s.time, files: s.entries.length, bytes: s.bytes })),
    refused,
  };
}

export interface FoxingVerify {
  chunks: number;
  files: number;
  damagedChunks: Array<{ chunk: number; offset: number; message: string }>;
  damagedFiles: Array<{ path: string; message: string }>;
}

/**
 * Every chunk decoded and hashed once, in archive order; then every file hashed whole (its
 * chunks decoded again, one at a time: memory is one chunk, whatever the file's size). A file
 * with a damaged chunk is named without being read again.
 */
export async function verifyFoxing(r: FoxingReader, signal?: AbortSignal): Promise<FoxingVerify> {
  const v: FoxingVerify = { chunks: r.chunkCount, files: r.manifest.files.length, damagedChunks: [], damagedFiles: [] };
  const bad = new Set<number>();
  for (let i = 0; i < r.chunkCount; i++) {
    throwIfAborted(signal);
    try {
      await r.chunk(i);
    } catch (err) {
      bad.add(i);
      v.damagedChunks.push({ chunk: i, offset: r.entry(i).offset, message: (err as Error).message });
    }
  }
  for (const f of r.manifest.files) {
    throwIfAborted(signal);
    const hit = f.chunks.find((c) => bad.has(c));
    if (hit !== undefined) { v.damagedFiles.push({ path: f.path, message: `${r.path}: '${f.path}': needs damaged chunk ${hit}` }); continue; }
    try {
      for await (const _ of r.fileData(f)) { /* hashed by fileData */ }
    } catch (err) {
      v.damagedFiles.push({ path: f.path, message: (err as Error).message });
    }
  }
  return v;
}
