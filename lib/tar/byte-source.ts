/**
 * Exact-length reads over an AsyncIterable<Uint8Array>: what a streaming parser needs. Holds at
 * most one input chunk plus the bytes of one `read(n)` (n is bounded by the caller), so memory
 * stays bounded whatever the member sizes are.
 */
export class ByteSource {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private ended = false;
  /** Bytes consumed so far (the archive offset of the next byte). */
  offset = 0;

  /**
   * `release`, if given, receives each input chunk once it is used up, for its producer to fill
   * again. `read` then always returns copies; a `readSome` view is valid until the next call.
   */
  constructor(source: AsyncIterable<Uint8Array>, private readonly release?: (chunk: Uint8Array) => void) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    while (this.pos >= this.buf.length) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) { this.ended = true; return false; }
      if (this.release && this.buf.length > 0) this.release(this.buf);
      this.buf = r.value;
      this.pos = 0;
    }
    return true;
  }

  /** Exactly n bytes, or fewer only at the end of the input. */
  async read(n: number): Promise<Buffer> {
    if (!(await this.fill())) return Buffer.alloc(0);
    if (this.buf.length - this.pos >= n) {
      const view = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n);
      const out = this.release ? Buffer.from(view) : view;
      this.pos += n;
      this.offset += n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n && (await this.fill())) {
      const take = Math.min(n - got, this.buf.length - this.pos);
      out.set(this.buf.subarray(this.pos, this.pos + take), got);
      this.pos += take;
      got += take;
    }
    this.offset += got;
    return got === n ? out : out.subarray(0, got);
  }

  /** Up to n bytes as they arrive (a view into the input chunk: copy it to keep it). */
  async readSome(n: number): Promise<Uint8Array> {
    if (!(await this.fill())) return new Uint8Array(0);
    const take = Math.min(n, this.buf.length - this.pos);
    const out = this.buf.subarray(this.pos, this.pos + take);
    this.pos += take;
    this.offset += take;
    return out;
  }

  /** Stops the underlying iterator (closes a file, a decompressor). */
  async close(): Promise<void> {
    this.ended = true;
    await this.it.return?.();
  }
}
