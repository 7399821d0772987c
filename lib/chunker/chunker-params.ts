/**
 * Chunker parameters. They are part of every store's identity: the same bytes cut with other
 * parameters give other chunks (and no deduplication), so a store records its params and
 * writers must use them exactly. `algorithm` names the cutting rule of gear-chunker.ts; a
 * change to that rule, to the gear table's generator or to the mask derivation needs a new name.
 */
export interface ChunkerParams {
  algorithm: 'gear-fastcdc32-v1';
  /** Smallest chunk (except a file's last one). */
  min: number;
  /** Target average; a power of two. Switch point between the strict and the easy mask. */
  avg: number;
  /** Largest chunk: a cut is forced here. */
  max: number;
  /** Seed of the gear table (gear-table.ts), a uint32. */
  seed: number;
}

export const CHUNKER_ALGORITHM = 'gear-fastcdc32-v1' as const;

/** "FXG1" in ASCII: the seed of the default gear table. Never change it (stores depend on it). */
export const DEFAULT_GEAR_SEED = 0x46584731;

/** min 2 KiB, avg 64 KiB, max 2 MiB (formats/store.md §5). */
export const DEFAULT_CHUNKER_PARAMS: Readonly<ChunkerParams> = Object.freeze({
  algorithm: CHUNKER_ALGORITHM,
  min: 2048,
  avg: 65536,
  max: 2097152,
  seed: DEFAULT_GEAR_SEED,
});

/** Normalized chunking level (FastCDC): the strict mask has 2 more bits than log2(avg), the easy one 2 fewer. */
export const NORMALIZATION_LEVEL = 2;

export interface ChunkerMasks {
  /** Used while chunk length < avg: log2(avg) + 2 high bits set. */
  maskS: number;
  /** Used from avg on: log2(avg) - 2 high bits set. */
  maskL: number;
}

/** `bits` high bits of a uint32 set, e.g. highBits(18) = 0xFFFFC000. */
function highBits(bits: number): number {
  return bits === 0 ? 0 : (0xFFFFFFFF << (32 - bits)) >>> 0;
}

/**
 * The masks for params.avg. The masks test the HIGH bits of the hash because the low bits of a
 * gear hash depend only on the last few bytes (bit k on the last k+1 bytes). For avg 64 KiB:
 * maskS 0xFFFFC000 (18 bits), maskL 0xFFFC0000 (14 bits).
 */
export function chunkerMasks(params: Pick<ChunkerParams, 'avg'>): ChunkerMasks {
  const bits = Math.log2(params.avg);
  return { maskS: highBits(bits + NORMALIZATION_LEVEL), maskL: highBits(bits - NORMALIZATION_LEVEL) };
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/**
 * Throws a RangeError (message naming the field) unless p is usable:
 * algorithm known; integers with 64 <= min < avg < max <= 1 GiB; avg a power of two
 * in [2^8, 2^28] (so both masks have 6..30 bits); seed a uint32.
 * Returns p typed, for chaining.
 */
export function validateChunkerParams(p: unknown): ChunkerParams {
  if (typeof p !== 'object' || p === null) throw new RangeError('chunker params: not an object');
  const q = p as Record<string, unknown>;
  if (q.algorithm !== CHUNKER_ALGORITHM) {
    throw new RangeError(`chunker params: unknown algorithm ${JSON.stringify(q.algorithm)} (this version knows ${CHUNKER_ALGORITHM})`);
  }
  for (const k of ['min', 'avg', 'max', 'seed'] as const) {
    if (!isInt(q[k])) throw new RangeError(`chunker params: ${k} must be an integer, got ${String(q[k])}`);
  }
  const { min, avg, max, seed } = q as unknown as ChunkerParams;
  if (seed < 0 || seed > 0xFFFFFFFF) throw new RangeError(`chunker params: seed must be a uint32, got ${seed}`);
  if (avg < 256 || avg > 2 ** 28 || (avg & (avg - 1)) !== 0) {
    throw new RangeError(`chunker params: avg must be a power of two in [256, 2^28], got ${avg}`);
  }
  if (min < 64) throw new RangeError(`chunker params: min must be >= 64, got ${min}`);
  if (!(min < avg && avg < max)) throw new RangeError(`chunker params: need min < avg < max, got ${min}, ${avg}, ${max}`);
  if (max > 2 ** 30) throw new RangeError(`chunker params: max must be <= 1 GiB, got ${max}`);
  return q as unknown as ChunkerParams;
}
