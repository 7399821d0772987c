/**
 * Bounds-checked reader for the binary record formats. Every read past the end or any
 * malformed varint throws FormatError (with the caller's context), never a RangeError or a
 * silently wrong value: readers of untrusted bytes rely on that (fuzz-tested).
 */
import { FormatError } from '../errors/index.js';

export class ByteReader {
  pos = 0;

  constructor(readonly buf: Buffer, private readonly what: string) {}

  get remaining(): number { return this.buf.length - this.pos; }

  fail(problem: string): never {
    throw new FormatError(`${this.what}: ${problem} at byte ${this.pos}`);
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) this.fail(`truncated (needs ${n} more bytes, has ${this.remaining})`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  uvarint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      v += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (!Number.isSafeInteger(v)) this.fail('varint too large');
        return v;
      }
      mul *= 0x80;
    }
    return this.fail('varint too long');
  }

  uvarintBig(): bigint {
    // Fast path: values below 2^49 (7 bytes) are summed as numbers, with one BigInt at the end;
    // times, inodes and devices mostly fit. Longer ones take the exact BigInt path.
    const b = this.buf;
    let p = this.pos;
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 7 && p < b.length; i++, p++) {
      const x = b[p];
      n += (x & 0x7f) * mul;
      if (x < 0x80) {
        this.pos = p + 1;
        return BigInt(n);
      }
      mul *= 0x80;
    }
    let v = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        if (v >= 1n << 64n) this.fail('varint exceeds 64 bits');
        return v;
      }
      shift += 7n;
    }
    return this.fail('varint too long');
  }

  svarintBig(): bigint {
    const z = this.uvarintBig();
    return (z & 1n) ? -((z + 1n) >> 1n) : z >> 1n;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Length-prefixed bytes, with the length capped to guard against absurd allocations. */
  lbytes(max = this.remaining): Buffer {
    const n = this.uvarint();
    if (n > max) this.fail(`length ${n} exceeds limit ${max}`);
    return this.bytes(n);
  }

  /** A count of items of at least `minItemBytes` each: refuses counts the buffer cannot hold. */
  count(minItemBytes: number): number {
    const n = this.uvarint();
    if (n * minItemBytes > this.remaining) this.fail(`count ${n} cannot fit in ${this.remaining} remaining bytes`);
    return n;
  }
}
