/** Seeded pseudo-random numbers and bytes for tests (mulberry32): the same seed, the same data. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seededBytes(len: number, seed: number): Buffer {
  const rnd = mulberry32(seed);
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/**
 * The seeds a fuzz loop runs: `count` from `first`, unless the environment asks otherwise:
 * FUZZ_SEED=S replays one seed; FUZZ_ROUNDS=N runs N seeds and FUZZ_OFFSET=K starts K later
 * (a longer campaign over fresh seeds: FUZZ_ROUNDS=20000 FUZZ_OFFSET=1000000 npm test -- fuzz).
 */
export function fuzzSeeds(first: number, count: number): number[] {
  if (process.env.FUZZ_SEED) return [Number(process.env.FUZZ_SEED)];
  const n = Number(process.env.FUZZ_ROUNDS) || count;
  const start = first + (Number(process.env.FUZZ_OFFSET) || 0);
  return Array.from({ length: n }, (_, i) => start + i);
}
