/**
 * The gear table: 256 pseudo-random uint32 values, one per byte value, from a seeded PRNG so
 * that a store's params (seed) fully determine it.
 *
 * Generator ("splitmix32"): a Weyl sequence state += 0x9E3779B9 (2^32 / golden ratio), each
 * state passed through MurmurHash3's 32-bit finalizer:
 *   z = state; z = (z ^ z >>> 16) * 0x85EBCA6B; z = (z ^ z >>> 13) * 0xC2B2AE35; z ^= z >>> 16
 * (all mod 2^32). The state starts at `seed`; table[i] is the (i+1)-th output. This is part of
 * the algorithm 'gear-fastcdc32-v1': changing it changes every cut point.
 */

/** A splitmix32 stream; next() returns uint32 values. Also used to make test inputs. */
export function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9E3779B9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85EBCA6B);
    z = Math.imul(z ^ (z >>> 13), 0xC2B2AE35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const cache = new Map<number, Uint32Array>();

/**
 * The 256-entry gear table for `seed`. Returns a fresh copy each call (callers may hand it to
 * native code or keep it); computing one costs microseconds.
 */
export function gearTable(seed: number): Uint32Array {
  const key = seed >>> 0;
  let t = cache.get(key);
  if (t === undefined) {
    t = new Uint32Array(256);
    const next = splitmix32(key);
    for (let i = 0; i < 256; i++) t[i] = next();
    cache.set(key, t);
  }
  return t.slice();
}
