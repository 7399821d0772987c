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
 * positions are kept for the last KEYS_KEPT objects. `read` copies a record out of its window,
 * so what a caller keeps never holds a window; `view` does not (for a restore's workers).
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
/** Ranges already read remembered per object. */
const SERVED_KEPT = 64;

interface Window {
  key: string;
  start: number;
  /** The end asked for (the bytes may stop earlier, at the object's end). */
  end: number;
  data: Promise<Buffer>;
  /** The bytes, once fetched (sync readers take them: peek). */
  bytes?: Buffer;
}

/**
 * What is known of an object: recent read ends, the next window's size, its size, how often it
 * was read, and the ranges already read (merged, at most SERVED_KEPT): a window never reaches
 * into bytes read before, which a restore does not read again (a pack read in two orders, its
 * streams one after the other, fetched every byte twice when windows ran into the part read).
 */
interface Seen { ends: number[]; window: number; size?: number; reads: number; served: Array<[number, number]> }

export class ReadAhead {
  private windows: Window[] = [];
  private held = 0;
  private readonly seen = new Map<string, Seen>();
  /** Sizes of small objects as a listing gave them (the most recent LISTED_KEPT). */
  private readonly listedSmall = new Map<string, number>();

  constructor(private readonly budget = BUDGET_BYTES) {}

  /**
   * `length` bytes at `offset` of `key` (fewer only when the object ends before: the caller
   * names that truncation), in a buffer of their own. `fetch` reads a range of that object.
   */
  async read(key: string, offset: number, length: number, fetch: FetchRange): Promise<Buffer> {
    const { bytes, own } = await this.take(key, offset, length, fetch);
    return own ? bytes : Buffer.from(bytes);
  }

  /**
   * Like read, but the bytes are usually a view of a window, not a copy. The view holds its
   * whole window (up to MAX_WINDOW) for as long as it is kept, beyond the budget: for callers
   * that copy what they keep, soon (a restore's batches: BatchWriter.finish).
   */
  async view(key: string, offset: number, length: number, fetch: FetchRange): Promise<Buffer> {
    return (await this.take(key, offset, length, fetch)).bytes;
  }

  /** The bytes of a read: a view of a window (`own` false) or a buffer of their own. */
  private async take(key: string, offset: number, length: number, fetch: FetchRange): Promise<{ bytes: Buffer; own: boolean }> {
    const end = offset + length;
    const s = this.state(key);
    s.reads++;
    const held = this.covering(key, offset, end) ?? this.extend(key, s, offset, end, fetch);
    if (held) {
      for (const w of held) this.touch(w);
      const parts = await Promise.all(held.map((w) => w.data.catch(() => null)));
      // A window cut short by the object's end serves what it holds; anything else reads on its own.
      const first = held[0]!, last = held[held.length - 1]!, lastData = parts[parts.length - 1];
      const whole = held.length === 1 || parts[0]?.byteLength === first.end - first.start;
      if (whole && lastData && lastData.byteLength >= end - last.start) {
        this.remember(s, end);
        this.served(s, offset, end);
        if (end > last.start + (last.end - last.start) / 2) this.ahead(key, s, last, fetch);
        if (held.length === 1) return { bytes: lastData.subarray(offset - last.start, end - last.start), own: false };
        // A record across two windows: its two pieces.
        const out = Buffer.allocUnsafe(length);
        parts[0]!.copy(out, 0, offset - first.start);
        lastData.copy(out, first.end - offset, 0, end - last.start);
        return { bytes: out, own: true };
      }
    }
    let want = length, from = offset, whole = true;
    const listed = s.reads === 1 ? this.listedSmall.get(key) : undefined;
    if (listed !== undefined && end <= listed) {
      from = 0;
      want = listed;
    } else if (s.size !== undefined && s.size <= WHOLE_BELOW && s.reads > 1) {
      from = 0;
      want = s.size;
    } else {
      whole = false;
      if (this.near(key, s, offset)) {
        want = Math.max(length, s.window);
        s.window = Math.min(s.window * 2, MAX_WINDOW);
      }
    }
    // Up to the next window of the object at most (held, or on its way for another reader), and
    // short of what was read before; a small object fetched whole (read in no order) is not cut there.
    want = Math.max(length, this.limit(key, whole ? null : s, end, from + want) - from);
    this.remember(s, end);
    this.served(s, offset, end);
    if (want === length && from === offset) return { bytes: await this.fetchSized(s, fetch, offset, length), own: true };
    const win = this.open(key, s, from, from + want, fetch);
    const data = await win.data;
    return { bytes: data.subarray(offset - from, Math.min(end - from, data.byteLength)), own: false };
  }

  /**
   * A read that starts in a window (held or on its way) and ends past it, with no window after
   * it: the next window is opened at that window's end and the read served from both, so the
   * bytes already asked for are not fetched a second time.
   */
  private extend(key: string, s: Seen, offset: number, end: number, fetch: FetchRange): Window[] | null {
    const x = this.windows.find((w) => w.key === key && w.start <= offset && offset < w.end);
    if (!x || (x.bytes && x.bytes.byteLength < x.end - x.start)) return null;
    if (this.windows.some((w) => w.key === key && w.start > x.end - 1 && w.start < end)) return null;
    const next = this.limit(key, s, end, x.end + Math.max(s.window, end - x.end));
    s.window = Math.min(s.window * 2, MAX_WINDOW);
    return [x, this.open(key, s, x.end, next, fetch)];
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
      s = { ends: [], window: MIN_WINDOW, reads: 0, served: [] };
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

  /**
   * Where a window wanted up to `upTo` must end so that it fetches nothing held (or on its way)
   * nor read before after `end` (the end of what it must hold): readers a little apart in one
   * pack fetch the gaps between them, not the same bytes twice.
   */
  private limit(key: string, s: Seen | null, end: number, upTo: number): number {
    let n = upTo;
    for (const x of this.windows) if (x.key === key && x.start >= end && x.start < n) n = x.start;
    for (const [a, b] of s?.served ?? []) if (b > end && a < n) n = Math.max(a, end);
    return Math.max(n, end);
  }

  /** Notes [offset, end) as read: merged with the ranges it touches; the oldest dropped past SERVED_KEPT. */
  private served(s: Seen, offset: number, end: number): void {
    const r = s.served;
    for (let i = r.length - 1; i >= 0; i--) {
      const x = r[i]!;
      if (offset <= x[1] && end >= x[0]) {
        x[0] = Math.min(x[0], offset);
        x[1] = Math.max(x[1], end);
        // The grown range may now touch others: folded into it.
        for (let j = r.length - 1; j >= 0; j--) {
          const y = r[j]!;
          if (j !== i && y[0] <= x[1] && y[1] >= x[0]) {
            x[0] = Math.min(x[0], y[0]);
            x[1] = Math.max(x[1], y[1]);
            r.splice(j, 1);
            if (j < i) i--;
          }
        }
        return;
      }
    }
    r.push([offset, end]);
    if (r.length > SERVED_KEPT) r.shift();
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
    // Nothing when the bytes after `w` were read already.
    const until = this.limit(key, s, w.end, w.end + Math.min(size, MAX_WINDOW));
    if (until <= w.end) return;
    s.window = Math.min(size * 2, MAX_WINDOW);
    this.open(key, s, w.end, until, fetch).data.catch(() => {});
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
