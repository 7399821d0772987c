/**
 * The bytes of a restore batch (restore-batch.ts) as it crosses from the main thread to a
 * restore worker: one ArrayBuffer, transferred (not copied), plus the batch's table of pack
 * paths. It replaced structured clone of an object per entry (each with its BigInt times, its
 * name, path and link target as byte arrays, and every chunk's place with its pack's full path
 * as a string): on a full restore of the real set (29,655 files) that clone cost the main
 * thread ~15 % of its busy time in postMessage, the workers as much again to rebuild the
 * objects, and both heaps the garbage (issue 25).
 *
 * Layout, little-endian, entries back to back:
 *   u8 type (0 file, 1 symlink; plus 0x80 when fresh: BatchEntry.fresh) · u32 mode · u32 uid · u32 gid · f64 size ·
 *   i64 atimeNs · i64 mtimeNs ·
 *   u32 path length · path bytes · u32 link target length · bytes (0 for a file) ·
 *   u32 segments (0: the whole file is data) · per segment f64 offset, f64 length ·
 *   u32 xattrs · per xattr u32 name length, UTF-8 name, u32 value length, value ·
 *   u32 chunks · per chunk u32 pack (index into the path table) · f64 offset · u32 stored
 *   length · u32 raw length · u8 codec · u8 layout (0 pack, 1 fxar) · u32 record (0: read
 *   from the pack file; n: the n-th of the batch's fetched records, StoredPlace.record, which
 *   cross beside the bytes: record-buffers.ts) · 32-byte id.
 * The name is the path's last component. ctime, dev and ino are not carried (a batched entry
 * is no hard-link member, and ctime is never set).
 *
 * Trust: both ends are this process's own threads, so a reader here checks bounds (a slice past
 * the end throws RangeError) but the bytes are not untrusted input; every chunk is still
 * verified against its id before a byte of it is written (restore-worker.ts).
 */
import type { EntryMeta } from '../fs/materialize.js';
import type { RestoreChunk } from './restore-worker.js';

/** One entry of a batch, as the worker rebuilds it. */
export interface BatchEntry {
  path: Buffer;
  meta: EntryMeta & { segments?: Array<[number, number]> };
  /** Regular files: their chunks, located. */
  chunks: RestoreChunk[];
  /** Symlinks: their target. */
  linkTarget?: Buffer;
  /** In a directory the restore made under a temporary name, or inside one (Materializer's FileHow.fresh). */
  fresh: boolean;
}

/** What a batch writer adds per entry (a tree entry's fields, by their names). */
export type BatchMeta = Pick<EntryMeta, 'type' | 'mode' | 'uid' | 'gid' | 'size' | 'atimeNs' | 'mtimeNs' | 'xattrs'> & {
  segments?: Array<[number, number]>;
  linkTarget?: Uint8Array;
};

const ID_BYTES = 32;
const FRESH = 0x80;
const SLASH = 0x2f;

/** Builds one batch; `finish` hands over its bytes and pack table and starts the next. */
export class BatchWriter {
  private buf = Buffer.allocUnsafe(1 << 14);
  private at = 0;
  private packs: string[] = [];
  private packIndex = new Map<string, number>();
  private records: Uint8Array[] = [];

  add(path: Uint8Array, meta: BatchMeta, chunks: readonly RestoreChunk[], fresh = false): void {
    this.room(64 + path.byteLength + (meta.linkTarget?.byteLength ?? 0) + 16 * (meta.segments?.length ?? 0) + chunks.length * (ID_BYTES + 30));
    this.u8((meta.type === 'symlink' ? 1 : 0) | (fresh ? FRESH : 0));
    this.u32(meta.mode);
    this.u32(meta.uid);
    this.u32(meta.gid);
    this.f64(meta.size);
    this.at = this.buf.writeBigInt64LE(meta.atimeNs, this.at);
    this.at = this.buf.writeBigInt64LE(meta.mtimeNs, this.at);
    this.bytes(path);
    this.bytes(meta.linkTarget ?? EMPTY);
    const segments = meta.segments ?? [];
    this.u32(segments.length);
    for (const [pos, len] of segments) { this.f64(pos); this.f64(len); }
    const xattrs = meta.xattrs ?? [];
    this.u32(xattrs.length);
    for (const [k, v] of xattrs) {
      const key = Buffer.from(k, 'utf8');
      this.room(8 + key.length + v.byteLength);
      this.bytes(key);
      this.bytes(v);
    }
    this.u32(chunks.length);
    for (const c of chunks) {
      let p = this.packIndex.get(c.path);
      if (p === undefined) {
        p = this.packs.push(c.path) - 1;
        this.packIndex.set(c.path, p);
      }
      this.u32(p);
      this.f64(c.offset);
      this.u32(c.storedLength);
      this.u32(c.rawLength);
      this.u8(c.codec);
      this.u8(c.layout === 'fxar' ? 1 : 0);
      this.u32(c.record ? this.records.push(c.record) : 0);
      this.buf.set(c.id, this.at);
      this.at += ID_BYTES;
    }
  }

  /** The batch so far (its own ArrayBuffer, for transfer), its pack table and fetched records; the writer is empty again. */
  finish(): { bytes: ArrayBuffer; packs: string[]; records: Uint8Array[] } {
    const bytes = this.buf.buffer.slice(this.buf.byteOffset, this.buf.byteOffset + this.at) as ArrayBuffer;
    const { packs, records } = this;
    this.at = 0;
    this.packs = [];
    this.packIndex = new Map();
    this.records = [];
    return { bytes, packs, records };
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  private u8(v: number): void { this.buf[this.at++] = v; }
  private u32(v: number): void { this.at = this.buf.writeUInt32LE(v, this.at); }
  private f64(v: number): void { this.at = this.buf.writeDoubleLE(v, this.at); }
  private bytes(b: Uint8Array): void {
    this.room(4 + b.byteLength);
    this.u32(b.byteLength);
    this.buf.set(b, this.at);
    this.at += b.byteLength;
  }
}

const EMPTY = new Uint8Array(0);

/** The entries of a batch, in order. Byte arrays are views of `bytes` (valid while it is). */
export function* readBatch(bytes: ArrayBuffer, packs: readonly string[], records: readonly Uint8Array[] = []): Generator<BatchEntry> {
  const b = Buffer.from(bytes);
  let at = 0;
  const u32 = () => { const v = b.readUInt32LE(at); at += 4; return v; };
  const f64 = () => { const v = b.readDoubleLE(at); at += 8; return v; };
  const slice = () => {
    const n = u32();
    if (at + n > b.length) throw new RangeError(`restore batch: ${n} bytes wanted at ${at} of ${b.length}`);
    at += n;
    return b.subarray(at - n, at);
  };
  while (at < b.length) {
    const fresh = (b[at] & FRESH) !== 0;
    const type = (b[at++] & ~FRESH) === 1 ? 'symlink' as const : 'file' as const;
    const mode = u32(), uid = u32(), gid = u32(), size = f64();
    const atimeNs = b.readBigInt64LE(at), mtimeNs = b.readBigInt64LE(at + 8);
    at += 16;
    const path = slice();
    const link = slice();
    const nSegments = u32();
    let segments: Array<[number, number]> | undefined;
    if (nSegments > 0) {
      segments = [];
      for (let i = 0; i < nSegments; i++) segments.push([f64(), f64()]);
    }
    const nXattrs = u32();
    let xattrs: Array<[string, Buffer]> | undefined;
    if (nXattrs > 0) {
      xattrs = [];
      for (let i = 0; i < nXattrs; i++) xattrs.push([slice().toString('utf8'), slice()]);
    }
    const nChunks = u32();
    const chunks: RestoreChunk[] = [];
    for (let i = 0; i < nChunks; i++) {
      const pack = packs[u32()];
      if (pack === undefined) throw new RangeError(`restore batch: no pack path for chunk ${i} of ${path.toString()}`);
      const offset = f64(), storedLength = u32(), rawLength = u32(), codec = b[at], layout = b[at + 1] === 1 ? 'fxar' as const : 'pack' as const;
      at += 2;
      const r = u32();
      const record = r === 0 ? undefined : records[r - 1];
      if (r !== 0 && record === undefined) throw new RangeError(`restore batch: no record ${r} for chunk ${i} of ${path.toString()}`);
      at += ID_BYTES;
      if (at > b.length) throw new RangeError(`restore batch: chunk ${i} of ${path.toString()} ends past the batch`);
      chunks.push({ path: pack, offset, storedLength, rawLength, codec, layout, id: b.subarray(at - ID_BYTES, at), ...(record ? { record } : {}) });
    }
    const meta: BatchEntry['meta'] = {
      name: path.subarray(path.lastIndexOf(SLASH) + 1), type, mode, uid, gid, size, atimeNs, mtimeNs,
      ctimeNs: 0n, dev: 0n, ino: 0n, nlink: 1, rdev: 0, segments, xattrs,
    };
    yield { path, meta, chunks, linkTarget: type === 'symlink' ? link : undefined, fresh };
  }
}
