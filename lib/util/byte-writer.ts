/**
 * A growable byte buffer with LEB128 varints, for the binary record formats (trees, FXAR).
 * Unsigned varints take numbers up to 2^53 or bigints up to 2^64; signed ones use zigzag.
 */
const TWO_64 = 1n << 64n;
const MIN_I64 = -(1n << 63n);
const MAX_I64 = (1n << 63n) - 1n;
/**
 * One 64-bit scratch value seen as two 32-bit words: a bigint stored into a BigInt64Array is
 * split without allocating, where `v & 0xffffffffn` and `v >> 32n` made two heap bigints per
 * value (and zigzag two more). A tree entry writes five of them (times, dev, ino).
 */
const SCRATCH = new ArrayBuffer(8);
const U64 = new BigUint64Array(SCRATCH);
const I64 = new BigInt64Array(SCRATCH);
const W32 = new Uint32Array(SCRATCH);
const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const LO = LITTLE ? 0 : 1;
const HI = LITTLE ? 1 : 0;

export class ByteWriter {
  private buf: Buffer;
  private len = 0;

  constructor(initial = 4096) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get length(): number { return this.len; }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.len++] = v;
    return this;
  }

  uvarint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`uvarint out of range: ${v}`);
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
    return this;
  }

  uvarintBig(v: bigint): this {
    if (v < 0n || v >= TWO_64) throw new RangeError(`uvarint out of range: ${v}`);
    U64[0] = v;
    return this.words(W32[LO], W32[HI]);
  }

  /** Zigzag-encoded signed 64-bit value: (v << 1) ^ (v >> 63), on the two words. */
  svarintBig(v: bigint): this {
    if (v < MIN_I64 || v > MAX_I64) throw new RangeError(`svarint out of range: ${v}`);
    I64[0] = v;
    const lo = W32[LO], hi = W32[HI];
    const sign = hi >> 31;
    return this.words(((lo << 1) ^ sign) >>> 0, (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0);
  }

  /**
   * The unsigned 64-bit value hi * 2^32 + lo as LEB128, in groups of 7 with number arithmetic
   * (a BigInt operation per byte was ~6 % of a first snapshot's main thread on the real bench
   * set, issue 25).
   */
  private words(lo: number, hi: number): this {
    this.ensure(10);
    while (hi > 0 || lo >= 0x80) {
      this.buf[this.len++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.len++] = lo;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.byteLength);
    this.buf.set(b, this.len);
    this.len += b.byteLength;
    return this;
  }

  /** Length-prefixed bytes. */
  lbytes(b: Uint8Array): this {
    return this.uvarint(b.byteLength).bytes(b);
  }

  /** A copy of the bytes written so far. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}
