/**
 * The pure TypeScript gear chunker: the reference for the rule, and the fallback when the
 * native addon is absent. native/src/gear_chunk.cc is its twin and must cut identically
 * (test/chunker/parity.test.ts).
 *
 * The rule ('gear-fastcdc32-v1', FastCDC with normalized chunking):
 * - h is a 32-bit gear hash over the chunk's bytes: h = ((h << 1) + G[byte]) >>> 0, starting at
 *   0 at every chunk start. (The masks test high bits: see chunkerMasks.)
 * - After the byte that makes the chunk L bytes long, the chunk ends at L when
 *     min <= L < avg  and (h & maskS) === 0, or
 *     L >= avg        and (h & maskL) === 0, or
 *     L === max (forced cut).
 * - Each step shifts h left once, so a byte has no influence after 32 more steps: hashing can
 *   start at byte min - 32 of the chunk (skipping the rest of the first min bytes) with the
 *   same result as hashing from its first byte.
 * - A chunk cut neither by content nor by max (the data ran out) is the unfinished tail.
 */

/**
 * Lengths of the complete chunks of `buf` (which starts at a chunk boundary). With `final`,
 * a non-empty unfinished tail is returned as a last chunk; without, it is left out and the
 * caller prepends it to the next data. Same contract as NativeBinding.gearChunkLengths.
 * Assumes 1 <= min <= avg <= max and a 256-entry table (the Chunker checks params once).
 */
export function gearCutLengths(buf: Uint8Array, gear: Uint32Array, min: number, avg: number, max: number,
  maskS: number, maskL: number, final: boolean): Uint32Array {
  const n = buf.length;
  const out: number[] = [];
  let pos = 0;
  while (pos < n) {
    let cut = findCut(buf, pos, n, gear, min, avg, max, maskS, maskL);
    if (cut === 0) {
      if (!final) break;
      cut = n - pos;
    }
    out.push(cut);
    pos += cut;
  }
  return Uint32Array.from(out);
}

/**
 * Length of the chunk starting at buf[start], or 0 if the bytes up to `end` do not decide it.
 * h is kept as an int32 (`| 0`): the same 32 bits as the uint32 of the rule, and V8 keeps it in
 * a machine word. The main loops take 4 bytes per iteration: faster in V8 than one byte per
 * iteration with `>>> 0` (docs/BENCHMARKS.md).
 */
function findCut(buf: Uint8Array, start: number, end: number, g: Uint32Array, min: number, avg: number,
  max: number, maskS: number, maskL: number): number {
  const mS = maskS | 0;
  const mL = maskL | 0;
  const rem = end - start;
  const limit = start + (rem < max ? rem : max); // index one past the last byte we may look at
  if (limit - start < min) return 0;
  let h = 0;
  let i = start + (min > 32 ? min - 32 : 0);
  const firstJudged = start + min - 1;
  for (; i < firstJudged; i++) h = ((h << 1) + g[buf[i]!]!) | 0;
  // Two phases rather than a length test per byte (as in the C twin): strict mask below avg.
  const avgEnd = start + avg - 1;
  const end1 = avgEnd < limit ? avgEnd : limit;
  for (; i + 4 <= end1; i += 4) {
    const h1 = ((h << 1) + g[buf[i]!]!) | 0;
    const h2 = ((h1 << 1) + g[buf[i + 1]!]!) | 0;
    const h3 = ((h2 << 1) + g[buf[i + 2]!]!) | 0;
    h = ((h3 << 1) + g[buf[i + 3]!]!) | 0;
    if ((h1 & mS) === 0) return i + 1 - start;
    if ((h2 & mS) === 0) return i + 2 - start;
    if ((h3 & mS) === 0) return i + 3 - start;
    if ((h & mS) === 0) return i + 4 - start;
  }
  for (; i < end1; i++) {
    h = ((h << 1) + g[buf[i]!]!) | 0;
    if ((h & mS) === 0) return i + 1 - start;
  }
  // From avg on: the easy mask.
  for (; i + 4 <= limit; i += 4) {
    const h1 = ((h << 1) + g[buf[i]!]!) | 0;
    const h2 = ((h1 << 1) + g[buf[i + 1]!]!) | 0;
    const h3 = ((h2 << 1) + g[buf[i + 2]!]!) | 0;
    h = ((h3 << 1) + g[buf[i + 3]!]!) | 0;
    if ((h1 & mL) === 0) return i + 1 - start;
    if ((h2 & mL) === 0) return i + 2 - start;
    if ((h3 & mL) === 0) return i + 3 - start;
    if ((h & mL) === 0) return i + 4 - start;
  }
  for (; i < limit; i++) {
    h = ((h << 1) + g[buf[i]!]!) | 0;
    if ((h & mL) === 0) return i + 1 - start;
  }
  return limit - start === max ? max : 0;
}
