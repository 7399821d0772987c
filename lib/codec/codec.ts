/**
 * Per-chunk compression codecs. Pure: bytes in, bytes out, no files.
 *
 * The numeric ids are persisted (pack records, FXAR) and never change meaning (codec-ids.ts).
 * A chunk whose compressed form is not smaller than the raw bytes is stored raw (codec 0):
 * random data (media, already-compressed files) then costs one failed zstd pass, which zstd
 * itself makes cheap by emitting raw blocks for incompressible input (about 1 GB/s here).
 */
import { createRequire } from 'node:module';
import type { CCtx, DCtx } from 'zstd-napi/binding.js';
import { CODEC_IDS, CODEC_NAMES, type CodecName } from './codec-ids.js';
import { FormatError, UsageError } from '../errors/index.js';
import { decodeXzExact } from './xz-decoder.js';
import { gated } from '../util/exit-gate.js';

export { CODEC_IDS, CODEC_NAMES, MAX_CODEC_ID, type CodecName } from './codec-ids.js';

export interface CodecSpec {
  name: CodecName;
  level?: number;
  /**
   * zstd only, set by `zstd` without a level (the default, zstd:auto): the level is chosen where
   * the data is seen (LevelChoice, level-choice.ts). A file's own spec has it true while its
   * first new chunk is to be probed (ChunkCodec.probeLevels), false once its level is settled.
   */
  adaptive?: boolean;
  /** zstd:auto, a file of ADAPTIVE_MIN_FILE_BYTES or more: its kind of data (LevelChoice), which a probe of it speaks for. */
  kind?: string;
}

/**
 * Default zstd level, chosen on the bench's `real` set (29,784 files of npm and Debian
 * packages, issue 25): its 28,543 distinct data chunks take 89.1 MB at level 1, 88.0 at 2,
 * 85.6 at 3, 84.7 at 4 (zstd 1.5, each chunk its own frame); with level 3 the whole store
 * after a first snapshot is 92.5 MB against restic's 93.1, 96.1 with level 1. The price: about
 * 15 % more CPU for that snapshot, and on the synthetic `mixed` set, whose text level 1 already
 * squeezes fully (level 3 stores 0.1 % more there), about 19 % more CPU (0.1 factor:
 * 2.14 -> 2.55 s user+sys). Level 1 was the default until 2026-12-06 (chosen on `mixed`).
 * The default is now adaptive (below), which takes most of that CPU back on `mixed`.
 */
export const DEFAULT_ZSTD_LEVEL = 3;

/**
 * The default is adaptive: a file of at least ADAPTIVE_MIN_FILE_BYTES is compressed at
 * DEFAULT_ZSTD_LEVEL only where that saves at least ADAPTIVE_MIN_GAIN of ADAPTIVE_LOW_LEVEL's
 * bytes, as probes of files of its kind (and at first, of its own first new chunk) show
 * (level-choice.ts). Why: level 3 pays on text and source, not on everything. Measured (each
 * file cut in 64 KiB pieces, one frame each): the real set's 530 files of 64 KiB and more take
 * 60.64 MB in 0.61 s at level 1, 57.95 MB in 0.80 s at level 3, and 58.03 MB in 0.82 s with a
 * probe per file; the synthetic `mixed` set's 2,476 take 1,561.9 MB in 1.5-1.6 s at level 1,
 * 1,564.5 MB in 2.7-3.0 s at level 3 (more bytes for twice the CPU), and 1,562.1 MB in 1.8-1.9 s
 * with a probe per file. Smaller files are not probed: the probe costs a second compression of
 * one chunk, and their few chunks leave little to save (their small chunks go to bundles,
 * whose level is chosen bundle by bundle).
 */
export const ADAPTIVE_MIN_FILE_BYTES = 256 << 10;
export const ADAPTIVE_LOW_LEVEL = 1;
export const ADAPTIVE_MIN_GAIN = 0.01;

const LEVELS: Record<CodecName, [number, number, number] | null> = {
  none: null, zstd: [1, 19, DEFAULT_ZSTD_LEVEL], lz4: null, gzip: [1, 9, 6], xz: [0, 9, 6],
};

/** Parses `zstd` (= `zstd:auto`), `zstd:5`, `lz4`, `gzip:9`, `xz`, `none`. */
export function parseCodec(text: string): CodecSpec {
  const [name, lvl] = text.split(':');
  if (!(CODEC_NAMES as string[]).includes(name)) {
    throw new UsageError(`unknown codec '${text}': use one of ${CODEC_NAMES.join(', ')} (optionally with :LEVEL)`);
  }
  const range = LEVELS[name as CodecName];
  if (name === 'zstd' && (lvl === undefined || lvl === 'auto')) return { name, level: DEFAULT_ZSTD_LEVEL, adaptive: true };
  if (lvl === undefined) return { name: name as CodecName, level: range?.[2] };
  const level = Number(lvl);
  if (!range || !Number.isInteger(level) || level < range[0] || level > range[1]) {
    throw new UsageError(range ? `codec level '${text}': ${name} takes ${range[0]}..${range[1]}` : `codec '${name}' takes no level`);
  }
  return { name: name as CodecName, level };
}

/** How a snapshot record names its data codec: `zstd:auto`, `zstd:3`, `lz4`... (parseCodec reads it back). */
export function codecLabel(spec: CodecSpec): string {
  if (spec.adaptive) return `${spec.name}:auto`;
  return spec.level === undefined ? spec.name : `${spec.name}:${spec.level}`;
}

export function codecName(id: number): CodecName {
  const name = CODEC_NAMES[id];
  if (name === undefined) throw new FormatError(`unknown codec id ${id}`);
  return name;
}

const require = createRequire(import.meta.url);
// Every codec's module loads on first use: most runs touch one codec at most, and every module
// loaded costs start-up time (a command restoring one file runs in well under 100 ms).
// zstd through the package's bare binding: its high-level entry also loads the stream classes
// and with them Node's whole streams stack (docs/BENCHMARKS.md).
let zstd: typeof import('zstd-napi/binding.js') | undefined;
function zstdModule() {
  zstd ??= require('zstd-napi/binding.js');
  return zstd!;
}
/** Loads zstd ahead of its first use, while the caller waits for something else (s3-location.ts). */
export function preloadZstd(): void {
  zstdModule();
}
let zlib: typeof import('node:zlib') | undefined;
function zlibModule() {
  zlib ??= require('node:zlib');
  return zlib!;
}
let lz4: { compressSync(b: Buffer): Buffer; uncompressSync(b: Buffer): Buffer } | undefined;
function lz4Module() {
  lz4 ??= require('lz4-napi');
  return lz4!;
}
let lzma: { createCompressor(o: object): import('node:stream').Transform } | undefined;
function xzModule() {
  lzma ??= require('lzma-native');
  return lzma!;
}

/**
 * Input bytes per xz coding step. lzma-native codes each write in one call on the thread pool,
 * and a thread must not end while such a call is in flight (lib/util/exit-gate.ts): a worker
 * asked to end waits for the step it is in. Whole, a 2 MiB chunk or a 4 MiB tar block took
 * 3 to 14 s at xz -6 on the bench VM; a step of 128 KiB is a fraction of a second.
 */
const XZ_STEP = 128 << 10;

/**
 * One xz stream of `data` (what lzma-native's compress() makes), coded XZ_STEP bytes per step,
 * each step gated. Memory: the compressed output, and lzma's encoder.
 */
export async function xzCompress(data: Uint8Array, preset: number): Promise<Buffer> {
  const enc = xzModule().createCompressor({ preset });
  const out: Buffer[] = [];
  enc.on('data', (b: Buffer) => out.push(b));
  const ended = new Promise<void>((resolve, reject) => { enc.once('end', resolve); enc.once('error', reject); });
  ended.catch(() => {}); // a failed write reports it first
  try {
    for (let at = 0; at < data.byteLength; at += XZ_STEP) {
      const piece = data.subarray(at, at + XZ_STEP);
      await gated(() => new Promise<void>((resolve, reject) => { enc.write(piece, (err) => (err ? reject(err) : resolve())); }));
    }
    await gated(() => { enc.end(); return ended; });
  } catch (err) {
    enc.destroy();
    throw err;
  }
  return Buffer.concat(out);
}

/**
 * One codec instance per thread: zstd contexts are reused across chunks (allocating a context
 * per chunk costs more than compressing 64 KiB).
 */
export class ChunkCodec {
  /** One zstd context per level used (an adaptive file may use two): a new context per chunk would cost more than small chunks' compression. */
  private readonly zc = new Map<number, CCtx>();
  private zd?: DCtx;
  /** Compression output space, reused: one compressBound-sized buffer per codec, not per chunk. */
  private scratch = Buffer.alloc(0);

  /** Compresses `raw`; returns null when the result would not be smaller (store raw). */
  async compress(spec: CodecSpec, raw: Uint8Array): Promise<Uint8Array | null> {
    // Copied before any await: concurrent callers of one codec share its output space.
    if (spec.name === 'zstd') { const view = this.zstdView(spec.level, raw); return view && Buffer.from(view); }
    return this.compressOther(spec, raw);
  }

  /**
   * Like compress, but a zstd result is a view of this codec's output space, overwritten by
   * the next compression on this codec. Only for a codec with one caller at a time that copies
   * the result before compressing again (a chunk worker handing it to a pack writer's `add`):
   * it saves allocating and collecting one buffer per chunk.
   */
  async compressTransient(spec: CodecSpec, raw: Uint8Array): Promise<Uint8Array | null> {
    return spec.name === 'zstd' ? this.zstdView(spec.level, raw) : this.compressOther(spec, raw);
  }

  /**
   * compressTransient without a promise, for the codecs that have a synchronous form (all but
   * xz, see hasSyncForm): a chunk worker's per-chunk loop then runs without an await.
   */
  compressTransientSync(spec: CodecSpec, raw: Uint8Array): Uint8Array | null {
    let out: Uint8Array;
    switch (spec.name) {
      case 'zstd': return this.zstdView(spec.level, raw);
      case 'none': return null;
      case 'lz4': out = lz4Module().compressSync(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)); break;
      case 'gzip': out = zlibModule().gzipSync(raw, { level: spec.level ?? 6 }); break;
      case 'xz': throw new UsageError('xz has no synchronous form: use compressTransient');
    }
    return out.byteLength < raw.byteLength ? out : null;
  }

  static hasSyncForm(spec: CodecSpec): boolean { return spec.name !== 'xz'; }

  /**
   * A probe for zstd:auto (level-choice.ts): `raw`'s size at ADAPTIVE_LOW_LEVEL and at `level`
   * (each at most raw's, which is what storing it raw takes), and the result at `level` as
   * compressTransientSync returns it (a view of the output space, or null: store raw).
   */
  probeLevels(level: number, raw: Uint8Array): { low: number; high: number; view: Uint8Array | null } {
    const low = Math.min(this.zstdSize(ADAPTIVE_LOW_LEVEL, raw), raw.byteLength);
    const view = this.zstdView(level, raw);
    return { low, high: view?.byteLength ?? raw.byteLength, view };
  }

  /** The compressed size of `raw` at `level` (in this codec's output space). */
  private zstdSize(level: number, raw: Uint8Array): number {
    const z = zstdModule();
    const bound = z.compressBound(raw.byteLength);
    if (this.scratch.length < bound) this.scratch = Buffer.allocUnsafeSlow(bound);
    return this.context(level).compress2(this.scratch, raw);
  }

  private zstdView(level = DEFAULT_ZSTD_LEVEL, raw: Uint8Array): Uint8Array | null {
    const n = this.zstdSize(level, raw);
    return n >= raw.byteLength ? null : this.scratch.subarray(0, n);
  }

  private context(level: number): CCtx {
    let c = this.zc.get(level);
    if (!c) {
      const z = zstdModule();
      c = new z.CCtx();
      c.setParameter(z.CParameter.compressionLevel, level);
      this.zc.set(level, c);
    }
    return c;
  }

  private async compressOther(spec: CodecSpec, raw: Uint8Array): Promise<Uint8Array | null> {
    if (spec.name !== 'xz') return this.compressTransientSync(spec, raw);
    const out = await xzCompress(raw, spec.level ?? 6);
    return out.byteLength < raw.byteLength ? out : null;
  }

  /**
   * Decompresses `stored`; the caller verifies the result against the chunk id. Whatever the
   * codec, the output is bounded by `rawLength` while it is produced, never checked only
   * after: the caller bounds `rawLength` itself (a format's maximum record size) before this.
   * `into`: a buffer of at least `rawLength` bytes that zstd output goes to (a reader's scratch).
   */
  async decompress(codec: number, stored: Uint8Array, rawLength: number, into?: Buffer): Promise<Uint8Array> {
    return this.decompressSync(codec, stored, rawLength, into);
  }

  /** decompress without a promise: every codec decodes synchronously (a restore worker's per-chunk loop runs without an await). */
  decompressSync(codec: number, stored: Uint8Array, rawLength: number, into?: Buffer): Uint8Array {
    let out: Uint8Array;
    try {
      switch (codec) {
        case CODEC_IDS.none: out = stored; break;
        case CODEC_IDS.zstd: {
          // Into exactly the record's raw length: a damaged frame that announces or holds more
          // fails here instead of allocating what it claims.
          const z = zstdModule();
          this.zd ??= new z.DCtx();
          const whole = into && into.length >= rawLength ? into.subarray(0, rawLength) : Buffer.allocUnsafe(rawLength);
          try {
            out = whole.subarray(0, this.zd.decompress(whole, stored));
          } catch (err) {
            throw new FormatError(`chunk does not decompress with zstd into the expected ${rawLength} bytes: ${(err as Error).message}`);
          }
          break;
        }
        case CODEC_IDS.lz4:
          // lz4 blocks start with their decoded size: refuse a damaged one before it allocates.
          if (stored.byteLength < 4 || Buffer.from(stored.buffer, stored.byteOffset, 4).readUInt32LE(0) !== rawLength) {
            throw new FormatError(`lz4 block announces a size other than ${rawLength}`);
          }
          out = lz4Module().uncompressSync(Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength)); break;
        case CODEC_IDS.gzip:
          // Stops once the output passes the raw length: a small record must not make it
          // allocate what its bytes expand to (1 MB of gzip is 1 GiB of zeros).
          try {
            out = zlibModule().gunzipSync(stored, { maxOutputLength: Math.max(1, rawLength) });
          } catch (err) {
            if ((err as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE') throw err;
            throw new FormatError(`chunk decompresses with gzip to more than the expected ${rawLength} bytes`);
          }
          break;
        case CODEC_IDS.xz: out = decodeXzExact(stored, rawLength); break;
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
