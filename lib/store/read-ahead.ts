/**
 * Read-ahead for ranged reads of objects that never change (packs in a bucket, an archive in a
 * bucket), where each request costs a round trip: one GET then serves many records.
 *
 * The policy, per object (a key):
 *   - A first read fetches exactly its range: a one-file restore fetches only its records.
 *   - A read near one before it (within NEAR_BYTES after a previous read's end or a held
 *     window's end) starts a window at the read: 256 KiB, doubling per window of that object up
 *     to MAX_WINDOW. Reads that go on in order, or jump a little (files of other directories
 *     interleaved, chunks stored earlier), are then served from the windows.
 *   - A read served from a window past its middle starts the next window (the same size again,
 *     doubled up to MAX_WINDOW) before it is needed: a restore reading a pack in order always
 *     has its next GET in flight.
 *   - A small object (at most WHOLE_BELOW) is fetched whole when read a second time (its size
 *     learnt from the first answer), or at the first read when a listing gave its size (`listed`):
 *     a snapshot's tree pack is read in no order (the walk goes down the tree, the writer wrote
 *     leaves first), so a one-file restore gets its trees in one GET (two without the listing)
 *     rather than one per directory level. Listed sizes are kept for LISTED_KEPT objects.
 * Several objects are followed at once (a restore reads the packs its chunk workers wrote side
 * by side, and several streams in one pack), each with its own windows.
 *
 * Memory: windows, fetched or in flight, are kept up to BUDGET_BYTES in all, the least recently
 * used dropped first; a dropped window still serves the reads already waiting on it. Read
 * positions are kept for the last KEYS_KEPT objects. A record is copied out of its window, so
 * what a caller keeps never holds a window.
 *
 * Pure: the fetch is passed in; nothing here knows HTTP.
 */

/** What a ranged fetch returns: the bytes (fewer at the object's end) and the object's size when the answer says it. */
export interface Fetched { data: Buffer; size?: number }
export type FetchRange = (offset: number, length: number) => Promise<Fetched>;

export const MIN_WINDOW = 256 * 1024;
export const MAX_WINDOW = 4 * 1024 * 1024;
export const NEAR_BYTES = 1024 * 1024;
export const WHOLE_BELOW = 1024 * 1024;
export const BUDGET_BYTES = 32 * 1024 * 1024;
const KEYS_KEPT = 256;
const LISTED_KEPT = 4096;
/** Read ends remembered per object (a window starts near any of them). */
const ENDS_KEPT = 4;

interface Window {
  key: string;
  start: number;
  /** The end asked for (the bytes may stop earlier, at the object's end). */
  end: number;
  data: Promise<Buffer>;
  /** The bytes, once fetched (sync readers take them: peek). */
  bytes?: Buffer;
}

interface Seen { ends: number[]; window: number; size?: number; reads: number }

export class ReadAhead {
  private windows: Window[] = [];
  private held = 0;
  private readonly seen = new Map<string, Seen>();
  /** Sizes of small objects as a listing gave them (the most recent LISTED_KEPT). */
  private readonly listedSmall = new Map<string, number>();

  constructor(private readonly budget = BUDGET_BYTES) {}

  /**
   * `length` bytes at `offset` of `key` (fewer only when the object ends before: the caller
   * names that truncation). `fetch` reads a range of that object.
   */
  async read(key: string, offset: number, length: number, fetch: FetchRange): Promise<Buffer> {
    const end = offset + length;
    const s = this.state(key);
    s.reads++;
    const held = this.covering(key, offset, end);
    if (held) {
      for (const w of held) this.touch(w);
      const parts = await Promise.all(held.map((w) => w.data.catch(() => null)));
      // A window cut short by the object's end serves what it holds; anything else reads on its own.
      const first = held[0]!, last = held[held.length - 1]!, lastData = parts[parts.length - 1];
      const whole = held.length === 1 || parts[0]?.byteLength === first.end - first.start;
      if (whole && lastData && lastData.byteLength >= end - last.start) {
        this.remember(s, end);
        if (end > last.start + (last.end - last.start) / 2) this.ahead(key, s, last, fetch);
        if (held.length === 1) return Buffer.from(lastData.subarray(offset - last.start, end - last.start));
        // A record across two windows: its two pieces.
        return Buffer.concat([parts[0]!.subarray(offset - first.start), lastData.subarray(0, end - last.start)]);
      }
    }
    let want = length, from = offset;
    const listed = s.reads === 1 ? this.listedSmall.get(key) : undefined;
    if (listed !== undefined && end <= listed) {
      from = 0;
      want = listed;
    } else if (s.size !== undefined && s.size <= WHOLE_BELOW && s.reads > 1) {
      from = 0;
      want = s.size;
    } else if (this.near(key, s, offset)) {
      want = Math.max(length, s.window);
      s.window = Math.min(s.window * 2, MAX_WINDOW);
    }
    // Up to the next window of the object at most (held, or on its way for another reader):
    // readers a little apart in one pack fetch the gaps between them, not the same bytes twice.
    const next = this.windows.reduce((n, x) => (x.key === key && x.start >= end && x.start < n ? x.start : n), from + want);
    want = Math.max(length, next - from);
    this.remember(s, end);
    if (want === length && from === offset) return this.fetchSized(s, fetch, offset, length);
    const win = this.open(key, s, from, from + want, fetch);
    const data = await win.data;
    return Buffer.from(data.subarray(offset - from, Math.min(end - from, data.byteLength)));
  }

  /** The window holding [offset, end), or the two consecutive windows that do between them. */
  private covering(key: string, offset: number, end: number): Window[] | null {
    const a = this.windows.find((x) => x.key === key && x.start <= offset && offset < x.end && end <= x.end);
    if (a) return [a];
    for (const x of this.windows) {
      if (x.key !== key || x.start > offset || offset >= x.end) continue;
      const y = this.windows.find((z) => z.key === key && z.start === x.end && end <= z.end);
      if (y) return [x, y];
    }
    return null;
  }

  /** The bytes of a fetched window covering the range, or null (for readers that cannot wait). */
  peek(key: string, offset: number, length: number): Buffer | null {
    const end = offset + length;
    const w = this.windows.find((x) => x.key === key && x.bytes && x.start <= offset && end - x.start <= x.bytes.byteLength);
    if (!w) return null;
    this.touch(w);
    return Buffer.from(w.bytes!.subarray(offset - w.start, end - w.start));
  }

  /** Keeps bytes fetched by other means (an archive's tail read at open) as a window; `size` is the object's. */
  hold(key: string, start: number, bytes: Buffer, size: number): void {
    this.state(key).size = size;
    const w: Window = { key, start, end: start + bytes.byteLength, data: Promise.resolve(bytes), bytes };
    this.add(w);
  }

  /** The size of `key` as a listing gave it: a small object is then fetched whole at its first read. */
  listed(key: string, size: number): void {
    if (size > WHOLE_BELOW || size <= 0) return;
    this.listedSmall.delete(key);
    this.listedSmall.set(key, size);
    if (this.listedSmall.size > LISTED_KEPT) this.listedSmall.delete(this.listedSmall.keys().next().value!);
  }

  /** Bytes of the windows held or on their way (at most the budget, plus the one window being added). */
  get heldBytes(): number {
    return this.held;
  }

  /** Drops what is held of `key` (an object written again or removed). */
  forget(key: string): void {
    this.seen.delete(key);
    this.listedSmall.delete(key);
    for (const w of this.windows.filter((x) => x.key === key)) this.drop(w);
  }

  private state(key: string): Seen {
    let s = this.seen.get(key);
    if (s) {
      // Re-inserted last: the map stays in order of use, oldest first.
      this.seen.delete(key);
    } else {
      s = { ends: [], window: MIN_WINDOW, reads: 0 };
    }
    this.seen.set(key, s);
    if (this.seen.size > KEYS_KEPT) this.seen.delete(this.seen.keys().next().value!);
    return s;
  }

  private remember(s: Seen, end: number): void {
    if (s.ends.includes(end)) return;
    s.ends.push(end);
    if (s.ends.length > ENDS_KEPT) s.ends.shift();
  }

  private near(key: string, s: Seen, offset: number): boolean {
    const close = (e: number) => offset >= e - NEAR_BYTES && offset <= e + NEAR_BYTES;
    return s.ends.some(close) || this.windows.some((w) => w.key === key && close(w.end));
  }

  /** The window after `w`, unless it is held (or on its way) already or the object ends first. */
  private ahead(key: string, s: Seen, w: Window, fetch: FetchRange): void {
    if (s.size !== undefined && w.end >= s.size) return;
    if (w.bytes && w.bytes.byteLength < w.end - w.start) return;
    if (this.windows.some((x) => x.key === key && x.start <= w.end && w.end < x.end)) return;
    const size = Math.max(s.window, w.end - w.start);
    s.window = Math.min(size * 2, MAX_WINDOW);
    this.open(key, s, w.end, w.end + Math.min(size, MAX_WINDOW), fetch).data.catch(() => {});
  }

  private open(key: string, s: Seen, start: number, end: number, fetch: FetchRange): Window {
    const w: Window = { key, start, end, data: this.fetchSized(s, fetch, start, end - start) };
    w.data.then((b) => { w.bytes = b; }, () => this.drop(w));
    this.add(w);
    return w;
  }

  private async fetchSized(s: Seen, fetch: FetchRange, offset: number, length: number): Promise<Buffer> {
    const got = await fetch(offset, length);
    if (got.size !== undefined) s.size = got.size;
    return got.data;
  }

  private add(w: Window): void {
    this.windows.push(w);
    this.held += w.end - w.start;
    while (this.held > this.budget && this.windows.length > 1) this.drop(this.windows[0]!);
  }

  private drop(w: Window): void {
    const i = this.windows.indexOf(w);
    if (i < 0) return;
    this.windows.splice(i, 1);
    this.held -= w.end - w.start;
  }

  /** Most recently used last (dropped last). */
  private touch(w: Window): void {
    const i = this.windows.indexOf(w);
    if (i >= 0 && i !== this.windows.length - 1) {
      this.windows.splice(i, 1);
      this.windows.push(w);
    }
  }
}
