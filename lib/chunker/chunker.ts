/**
 * createChunker: the chunker with its params bound, using the native scan when the addon is
 * loaded and the TypeScript one otherwise (same cut points either way).
 */
import { native } from '../native/load.js';
import { chunkerMasks, DEFAULT_CHUNKER_PARAMS, validateChunkerParams, type ChunkerParams } from './chunker-params.js';
import { gearCutLengths } from './gear-chunker.js';
import { gearTable } from './gear-table.js';

export interface Chunker {
  /** Which scan runs: the addon's, or the TypeScript fallback. */
  readonly impl: 'native' | 'ts';
  readonly params: Readonly<ChunkerParams>;
  /**
   * Lengths of the complete chunks of `buf`, which must start at a chunk boundary. Without
   * `final` the unfinished tail (bytes after the last cut) is not returned: the caller keeps it
   * and passes it again, followed by more data, in the next call. With `final` the tail is the
   * last chunk. An empty buf gives no chunks. Lengths sum to buf.length when final.
   */
  cutLengths(buf: Uint8Array, final: boolean): ArrayLike<number>;
}

/**
 * A chunker for `params` (validated; throws RangeError on nonsense). `prefer: 'ts'` forces the
 * TypeScript scan (tests, benchmarks); 'native' falls back to it when the addon is absent.
 */
export function createChunker(params: ChunkerParams = DEFAULT_CHUNKER_PARAMS, prefer: 'native' | 'ts' = 'native'): Chunker {
  validateChunkerParams(params);
  const p: Readonly<ChunkerParams> = Object.freeze({ ...params });
  const { min, avg, max } = p;
  const { maskS, maskL } = chunkerMasks(p);
  const gear = gearTable(p.seed);
  const nat = prefer === 'native' ? native : null;
  if (nat !== null) {
    return {
      impl: 'native',
      params: p,
      cutLengths: (buf, final) => nat.gearChunkLengths(buf, gear, min, avg, max, maskS, maskL, final),
    };
  }
  return {
    impl: 'ts',
    params: p,
    cutLengths: (buf, final) => gearCutLengths(buf, gear, min, avg, max, maskS, maskL, final),
  };
}
