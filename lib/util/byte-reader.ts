/**
 * Bounds-checked reader for the binary record formats. Every read past the end or any
 * malformed varint throws FormatError (with the caller's context), never a RangeError or a
 * silently wrong value: readers of untrusted bytes rely on that (fuzz-tested).
 */
import { FormatError } from '../errors/index.js';

export class ByteReader {
  pos = 0;

  constructor(readonly buf: Buffer, readonly what: string) {}

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
    // Summed as numbers in two exact parts, with at most three BigInt operations at the end:
    // the first 7 groups (49 bits) and the next 3 (up to bit 70, checked against 64 below).
    // Nanosecond times (61 bits) are the common long case; a BigInt per byte cost 5x more.
    const b = this.buf;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++, p++) {
      if (p >= b.length) { this.pos = p; return this.fail('truncated (needs 1 more bytes, has 0)'); }
      const x = b[p];
      if (i < 7) lo += (x & 0x7f) * mul;
      else hi += (x & 0x7f) * mul;
      if (x < 0x80) {
        this.pos = p + 1;
        if (i < 7) return BigInt(lo);
        const v = (BigInt(hi) << 49n) | BigInt(lo);
        if (v >= 1n << 64n) this.fail('varint exceeds 64 bits');
        return v;
      }
      mul = i === 6 ? 1 : mul * 0x80;
    }
    this.pos = p;
    return this.fail('varint too long');
  }

  /** Skips a varint of up to 64 bits (uvarintBig's bounds), making no value of it. */
  skipVarint(): void {
    const b = this.buf;
    for (let i = 0, p = this.pos; i < 10; i++, p++) {
      if (p >= b.length) { this.pos = p; this.fail('truncated (needs 1 more bytes, has 0)'); }
      if (b[p] < 0x80) {
        if (i === 9 && b[p] > 1) { this.pos = p; this.fail('varint exceeds 64 bits'); }
        this.pos = p + 1;
        return;
      }
    }
    this.fail('varint too long');
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
