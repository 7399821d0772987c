/**
 * Per-chunk compression codecs. Pure: bytes in, bytes out, no files.
 *
 * The numeric ids are persisted (pack records, FXAR) and never change meaning:
 *   0 none, 1 zstd, 2 lz4, 3 gzip, 4 xz
 * A chunk whose compressed form is not smaller than the raw bytes is stored raw (codec 0):
 * random data (media, already-compressed files) then costs one failed zstd pass, which zstd
 * itself makes cheap by emitting raw blocks for incompressible input (about 1 GB/s here).
 */
import { createRequire } from 'node:module';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Compressor, Decompressor } from 'zstd-napi';
import { FormatError, UsageError } from '../errors/index.js';

export const CODEC_IDS = { none: 0, zstd: 1, lz4: 2, gzip: 3, xz: 4 } as const;
export type CodecName = keyof typeof CODEC_IDS;
export const CODEC_NAMES: CodecName[] = ['none', 'zstd', 'lz4', 'gzip', 'xz'];

export interface CodecSpec { name: CodecName; level?: number }

/**
 * Default zstd level, chosen by measurement on 64 KiB-average chunks of the `mixed` set
 * (docs/BENCHMARKS.md): level 1 stored 145.0 MiB at 435 MB/s, level 3 145.4 MiB at 236 MB/s,
 * level 4+ larger and slower. Per-chunk frames leave higher levels little context to win with.
 */
export const DEFAULT_ZSTD_LEVEL = 1;

const LEVELS: Record<CodecName, [number, number, number] | null> = {
  none: null, zstd: [1, 19, DEFAULT_ZSTD_LEVEL], lz4: null, gzip: [1, 9, 6], xz: [0, 9, 6],
};

/** Parses `zstd`, `zstd:5`, `lz4`, `gzip:9`, `xz`, `none`. */
export function parseCodec(text: string): CodecSpec {
  const [name, lvl] = text.split(':');
  if (!(CODEC_NAMES as string[]).includes(name)) {
    throw new UsageError(`unknown codec '${text}': use one of ${CODEC_NAMES.join(', ')} (optionally with :LEVEL)`);
  }
  const range = LEVELS[name as CodecName];
  if (lvl === undefined) return { name: name as CodecName, level: range?.[2] };
  const level = Number(lvl);
  if (!range || !Number.isInteger(level) || level < range[0] || level > range[1]) {
    throw new UsageError(range ? `codec level '${text}': ${name} takes ${range[0]}..${range[1]}` : `codec '${name}' takes no level`);
  }
  return { name: name as CodecName, level };
}

export function codecName(id: number): CodecName {
  const name = CODEC_NAMES[id];
  if (name === undefined) throw new FormatError(`unknown codec id ${id}`);
  return name;
}

const require = createRequire(import.meta.url);
// lz4 and xz load on first use: most runs never touch them, and every module costs start-up time.
let lz4: { compressSync(b: Buffer): Buffer; uncompressSync(b: Buffer): Buffer } | undefined;
function lz4Module() {
  lz4 ??= require('lz4-napi');
  return lz4!;
}
let lzma: { compress(b: Uint8Array, o: object): Promise<Buffer>; decompress(b: Uint8Array): Promise<Buffer> } | undefined;
function xzModule() {
  lzma ??= require('lzma-native');
  return lzma!;
}

/**
 * One codec instance per thread: zstd contexts are reused across chunks (allocating a context
 * per chunk costs more than compressing 64 KiB).
 */
export class ChunkCodec {
  private zc?: Compressor;
  private zcLevel = -1;
  private zd?: Decompressor;

  /** Compresses `raw`; returns null when the result would not be smaller (store raw). */
  async compress(spec: CodecSpec, raw: Uint8Array): Promise<Uint8Array | null> {
    let out: Uint8Array;
    switch (spec.name) {
      case 'none': return null;
      case 'zstd': {
        const level = spec.level ?? DEFAULT_ZSTD_LEVEL;
        if (!this.zc || this.zcLevel !== level) {
          this.zc = new Compressor();
          this.zc.setParameters({ compressionLevel: level });
          this.zcLevel = level;
        }
        out = this.zc.compress(raw);
        break;
      }
      case 'lz4': out = lz4Module().compressSync(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)); break;
      case 'gzip': out = gzipSync(raw, { level: spec.level ?? 6 }); break;
      case 'xz': out = await xzModule().compress(raw, { preset: spec.level ?? 6 }); break;
    }
    return out.byteLength < raw.byteLength ? out : null;
  }

  /** Decompresses `stored`; the caller verifies the result against the chunk id. */
  async decompress(codec: number, stored: Uint8Array, rawLength: number): Promise<Uint8Array> {
    let out: Uint8Array;
    try {
      switch (codec) {
        case 0: out = stored; break;
        case 1: this.zd ??= new Decompressor(); out = this.zd.decompress(stored); break;
        case 2:
          // lz4 blocks start with their decoded size: refuse a damaged one before it allocates.
          if (stored.byteLength < 4 || Buffer.from(stored.buffer, stored.byteOffset, 4).readUInt32LE(0) !== rawLength) {
            throw new FormatError(`lz4 block announces a size other than ${rawLength}`);
          }
          out = lz4Module().uncompressSync(Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength)); break;
        case 3: out = gunzipSync(stored); break;
        case 4: out = await xzModule().decompress(stored); break;
        default: throw new FormatError(`unknown codec id ${codec}`);
      }
    } catch (err) {
      if (err instanceof FormatError) throw err;
      throw new FormatError(`chunk does not decompress with ${codecName(codec)}: ${(err as Error).message}`);
    }
    if (out.byteLength !== rawLength) {
      throw new FormatError(`chunk decompressed to ${out.byteLength} bytes, expected ${rawLength}`);
    }
    return out;
  }
}
