// The bytes of the benchmark data sets: a seeded generator (xoshiro128** for decisions, an
// AES-128-CTR keystream for bulk bytes) and content of three kinds (text-like, binary-like in
// 4 KiB blocks, random), produced in pieces so large files stream. Deterministic: the same seed
// gives the same bytes on every machine (gen-dataset.ts's DATASET_VERSION names them).
import { createCipheriv, createHash, type Cipher } from 'node:crypto';

const KiB = 1024;
const MiB = 1024 * 1024;
const PIECE = 4 * MiB; // generation unit (a multiple of 4 KiB)

// ---------- PRNG: xoshiro128** for decisions, AES-128-CTR keystream for bulk bytes ----------
export class Rng {
  private s0: number; private s1: number; private s2: number; private s3: number;
  private readonly stream: Cipher;
  private static readonly zeros = Buffer.alloc(PIECE);

  constructor(seed: number) {
    let x = seed >>> 0;
    const splitmix32 = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = splitmix32(); this.s1 = splitmix32(); this.s2 = splitmix32(); this.s3 = splitmix32();
    const key = createHash('sha256').update(`foxing-bench-dataset:${seed}`).digest();
    this.stream = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  }

  /** Next 32-bit unsigned integer (xoshiro128**). */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0; this.s3 ^= this.s1; this.s1 ^= this.s2; this.s0 ^= this.s3;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0; this.s1 >>>= 0; this.s2 >>>= 0;
    return r;
  }
  /** Uniform in [0, 1) with 53 bits. */
  random(): number { return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992; }
  /** Uniform integer in [0, n). */
  below(n: number): number { return n <= 1 ? 0 : Math.floor(this.random() * n); }
  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number { return lo + this.below(hi - lo + 1); }
  uniform(a: number, b: number): number { return a + (b - a) * this.random(); }
  normal(): number {
    let u = 0;
    while (u === 0) u = this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.random());
  }
  lognormal(mu: number, sigma: number): number { return Math.exp(mu + sigma * this.normal()); }
  /** k distinct elements, in selection order. */
  sample<T>(arr: readonly T[], k: number): T[] {
    const a = arr.slice();
    const n = Math.min(k, a.length);
    for (let i = 0; i < n; i++) {
      const j = i + this.below(a.length - i);
      const tmp = a[i]!; a[i] = a[j]!; a[j] = tmp;
    }
    return a.slice(0, n);
  }
  /** n pseudo-random bytes (fresh buffer). */
  bytes(n: number): Buffer {
    if (n <= PIECE) return this.stream.update(Rng.zeros.subarray(0, n));
    const parts: Buffer[] = [];
    for (let left = n; left > 0; left -= PIECE) parts.push(this.stream.update(Rng.zeros.subarray(0, Math.min(left, PIECE))));
    return Buffer.concat(parts, n);
  }
}

function rotl(x: number, k: number): number { return ((x << k) | (x >>> (32 - k))) >>> 0; }

// ---------- content ----------
function mkTextTable(): Uint8Array {
  const freq: [string, number][] = [[' ', 44], ['e', 25], ['t', 18], ['a', 16], ['o', 15], ['i', 14], ['n', 14], ['s', 13],
    ['h', 12], ['r', 12], ['d', 8], ['l', 8], ['c', 6], ['u', 6], ['m', 5], ['w', 5], ['f', 4], ['g', 4], ['y', 4], ['p', 4],
    ['b', 3], ['\n', 5], [',', 2], ['.', 2], ['v', 2], ['k', 1], ['0', 1], ['1', 1], ['(', 1], [')', 1], ['=', 1], [';', 1],
    ['"', 1], ['_', 1], ['T', 1], ['S', 1], ['x', 1], ['j', 1], ['q', 1], ['z', 1]];
  const tot = freq.reduce((a, [, w]) => a + w, 0);
  const tbl: number[] = [];
  for (const [ch, w] of freq) for (let i = 0; i < Math.round((w * 256) / tot); i++) tbl.push(ch.charCodeAt(0));
  while (tbl.length < 256) tbl.push('e'.charCodeAt(0));
  return Uint8Array.from(tbl.slice(0, 256));
}
const TEXT = mkTextTable();
const NIBBLE = Uint8Array.from({ length: 256 }, (_, i) => (i & 0x0f) * 17); // 16 symbols, ~50% compressible

function translate(buf: Uint8Array, tbl: Uint8Array, start = 0, end = buf.length): void {
  for (let i = start; i < end; i++) buf[i] = tbl[buf[i]!]!;
}

export type Kind = 'text' | 'bin' | 'rand';
const KINDS: { name: Kind; p: number; exts: string[] }[] = [
  { name: 'text', p: 0.40, exts: ['.txt', '.c', '.json', '.md', '.log', '.py'] },
  { name: 'bin', p: 0.35, exts: ['.bin', '.o', '.db', '.dat'] },
  { name: 'rand', p: 0.25, exts: ['.jpg', '.zst', '.mp4', '.gz'] },
];

/** One piece (n <= PIECE, a multiple of 4 KiB except the last) of content of the given kind. */
export function piece(r: Rng, kind: Kind, n: number): Buffer {
  const b = r.bytes(n);
  if (kind === 'text') translate(b, TEXT);
  else if (kind === 'bin') {
    // 4 KiB blocks: 45% random, 20% zeros, 35% low-entropy
    for (let pos = 0; pos < n; pos += 4 * KiB) {
      const end = Math.min(n, pos + 4 * KiB);
      const x = r.random();
      if (x < 0.45) continue;
      if (x < 0.65) b.fill(0, pos, end);
      else translate(b, NIBBLE, pos, end);
    }
  }
  return b;
}

/** Content as a sequence of pieces (streams large files without holding them). */
export function* contentPieces(r: Rng, kind: Kind, n: number): Generator<Buffer> {
  for (let left = n; left > 0; left -= PIECE) yield piece(r, kind, Math.min(left, PIECE));
}

export function content(r: Rng, kind: Kind, n: number): Buffer {
  const parts = [...contentPieces(r, kind, n)];
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
}

export function pickKind(r: Rng): { name: Kind; exts: string[] } {
  const x = r.random();
  let acc = 0;
  for (const k of KINDS) { acc += k.p; if (x < acc) return k; }
  return KINDS[KINDS.length - 1]!;
}
