/**
 * Maps a file's content, as a sequential stream of chunk bytes, onto the file positions of its
 * data extents (holes between extents are never written, so they stay holes). Pure.
 */
import { FormatError } from '../errors/index.js';

export class ExtentCursor {
  private ext = 0;
  private within = 0;

  constructor(private readonly extents: ReadonlyArray<readonly [number, number]>) {}

  /** The [position, length] pieces where the next `n` bytes of content go. */
  take(n: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    while (n > 0) {
      while (this.ext < this.extents.length && this.within >= this.extents[this.ext][1]) { this.ext++; this.within = 0; }
      if (this.ext >= this.extents.length) throw new FormatError('file content is longer than its extents');
      const [start, len] = this.extents[this.ext];
      const k = Math.min(len - this.within, n);
      out.push([start + this.within, k]);
      this.within += k;
      n -= k;
    }
    return out;
  }
}
