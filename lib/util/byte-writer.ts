/**
 * A growable byte buffer with LEB128 varints, for the binary record formats (trees, FXAR).
 * Unsigned varints take numbers up to 2^53 or bigints up to 2^64; signed ones use zigzag.
 */
const TWO_64 = 1n << 64n;

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
    this.ensure(10);
    // The 64 bits as two 32-bit numbers, then groups of 7 with number arithmetic: three BigInt
    // operations per value instead of three per byte. Tree encoding writes five of these per
    // entry (times in ns are 9 bytes each); the per-byte BigInt loop was ~6 % of a first
    // snapshot's main thread on the real bench set (docs/BENCHMARKS.md, issue 25).
    let lo = Number(v & 0xffffffffn);
    let hi = Number(v >> 32n);
    while (hi > 0 || lo >= 0x80) {
      this.buf[this.len++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.len++] = lo;
    return this;
  }

  /** Zigzag-encoded signed 64-bit value. */
  svarintBig(v: bigint): this {
    return this.uvarintBig(v >= 0n ? v << 1n : ((-v) << 1n) - 1n);
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
