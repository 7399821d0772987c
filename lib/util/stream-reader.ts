/**
 * Exact-length reads from an async iterable of byte arrays: what the streaming parsers need
 * (tar members, FXAR records). One input piece is held at a time, plus the bytes of the read in
 * progress, so memory stays bounded by the caller's largest read whatever the stream holds.
 *
 * A read that lies within one input piece is a view of it (no copy); one that spans pieces is
 * assembled from exactly its own bytes, copied once (joining the whole next piece to the
 * leftover cost an import a copy of every byte). With `release`, each input piece is handed back
 * to its producer once used up (tar's decompressor recycles its buffers): reads then always
 * return copies, and a readSome view is valid only until the next call.
 */
export class StreamReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private ended = false;
  /** Bytes consumed so far (the stream offset of the next byte). */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>, private readonly release?: (piece: Uint8Array) => void) {
    this.it = source[Symbol.asyncIterator]();
  }

  /**
   * Whether a byte is there to read, taking the next piece when the current one is used up.
   * Callers test `pos < buf.length` first: a read from the piece at hand awaits nothing.
   */
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

  /**
   * Exactly n bytes, or fewer only at the end of the stream. `own`: a copy the caller may keep
   * (otherwise, without `release`, possibly a view of the input piece).
   */
  async read(n: number, own = false): Promise<Buffer> {
    if (n === 0 || (this.pos >= this.buf.length && !(await this.fill()))) return Buffer.alloc(0);
    if (this.buf.length - this.pos >= n) {
      const view = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n);
      this.pos += n;
      this.offset += n;
      return own || this.release ? Buffer.from(view) : view;
    }
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n && (this.pos < this.buf.length || (await this.fill()))) {
      const take = Math.min(n - got, this.buf.length - this.pos);
      out.set(this.buf.subarray(this.pos, this.pos + take), got);
      this.pos += take;
      got += take;
    }
    this.offset += got;
    return got === n ? out : out.subarray(0, got);
  }

  /** Up to n bytes as they arrive (a view into the input piece: copy it to keep it). */
  async readSome(n: number): Promise<Uint8Array> {
    if (this.pos >= this.buf.length && !(await this.fill())) return new Uint8Array(0);
    const take = Math.min(n, this.buf.length - this.pos);
    const out = this.buf.subarray(this.pos, this.pos + take);
    this.pos += take;
    this.offset += take;
    return out;
  }

  /** Whether the stream has no byte left. */
  async atEnd(): Promise<boolean> {
    return this.pos >= this.buf.length && !(await this.fill());
  }

  /** Stops the underlying iterator (closes a file, a decompressor). */
  async close(): Promise<void> {
    this.ended = true;
    await this.it.return?.();
  }
}
