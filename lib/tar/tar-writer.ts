/**
 * A streaming tar writer: POSIX ustar headers, with a pax extended header ('x') in front of a
 * member whenever ustar cannot say something exactly:
 *   - a path or link target longer than ustar's fields (name 100 + prefix 155, link 100),
 *     or with non-ASCII bytes (non-UTF-8 ones travel with hdrcharset=BINARY);
 *   - a size ≥ 8 GiB, a uid/gid ≥ 2^21 (the header then also holds GNU base-256);
 *   - an mtime with a sub-second part (then atime too), and every xattr (SCHILY.xattr.NAME).
 * The archive ends with two zero blocks, padded to a 10 KiB record as GNU tar does.
 *
 * Output goes to an async sink in pieces of about OUT_BYTES (small headers are coalesced;
 * large data chunks are passed through without a copy). Calls must not overlap (await each).
 * A writer whose sink failed is broken: every later call throws the first error.
 */
import { FormatError } from '../errors/index.js';
import { encodePax, isUtf8, paxTime } from './pax-records.js';
import type { ByteSink } from '../util/byte-sink.js';
import { BLOCK, encodeHeader, octalMax, splitUstarPath, TYPE } from './tar-header.js';

export type TarMemberType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev' | 'blockdev' | 'fifo';

export interface TarMember {
  /** Path inside the archive, without a trailing '/' (added for directories). */
  path: Buffer;
  type: TarMemberType;
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** Data bytes that follow (regular files only). */
  size: number;
  mtimeNs: bigint;
  atimeNs?: bigint;
  /** Symlink target, or the earlier member a hard link points to. */
  linkpath?: Buffer;
  devmajor?: number;
  devminor?: number;
  xattrs?: Array<[string, Buffer]>;
}

const OUT_BYTES = 1 << 20;
const PASS_THROUGH = 256 << 10;
const RECORD = 10240;
const ZEROS = Buffer.alloc(64 << 10);

const TYPEFLAGS: Record<TarMemberType, number> = {
  file: TYPE.file, dir: TYPE.dir, symlink: TYPE.symlink, hardlink: TYPE.hardlink,
  chardev: TYPE.chardev, blockdev: TYPE.blockdev, fifo: TYPE.fifo,
};

function ascii(b: Buffer): boolean {
  for (const c of b) if (c >= 0x80) return false;
  return true;
}

export class TarWriter {
  private readonly buf = Buffer.allocUnsafe(OUT_BYTES);
  private used = 0;
  private left = 0;
  private padding = 0;
  private broken: unknown = null;
  /** Bytes written so far (before any compression). */
  written = 0;

  constructor(private readonly sink: ByteSink) {}

  private async out(chunk: Uint8Array): Promise<void> {
    if (this.broken) throw this.broken;
    try {
      if (chunk.length >= PASS_THROUGH) {
        await this.flush();
        await this.sink.write(chunk);
      } else {
        if (this.used + chunk.length > this.buf.length) await this.flush();
        this.buf.set(chunk, this.used);
        this.used += chunk.length;
      }
      this.written += chunk.length;
    } catch (err) {
      this.broken = err;
      throw err;
    }
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    const full = this.buf.subarray(0, this.used);
    this.used = 0;
    // The sink is done with the bytes once it resolves (ByteSink), so the one buffer is refilled:
    // a fresh 1 MiB per flush cost its page faults every time.
    await this.sink.write(full);
  }

  /** Writes a member's header(s); for a file, `data` must then supply exactly `size` bytes. */
  async add(m: TarMember): Promise<void> {
    if (this.left > 0) throw new Error(`tar writer: previous member still expects ${this.left} bytes`);
    const path = m.type === 'dir' ? Buffer.concat([m.path, Buffer.from('/')]) : m.path;
    const link = m.linkpath ?? Buffer.alloc(0);
    const pax: Array<[string, Buffer | string]> = [];
    let split = ascii(path) ? splitUstarPath(path) : null;
    if (!split) {
      pax.push(['path', path]);
      split = { prefix: Buffer.alloc(0), name: asciiFallback(path, 100) };
    }
    let linkField = link;
    if (link.length > 100 || !ascii(link)) {
      pax.push(['linkpath', link]);
      linkField = asciiFallback(link, 100);
    }
    if (!isUtf8(path) || !isUtf8(link)) pax.unshift(['hdrcharset', 'BINARY']);
    const size = m.type === 'file' ? m.size : 0;
    if (size > octalMax(12)) pax.push(['size', String(size)]);
    if (m.uid > octalMax(8)) pax.push(['uid', String(m.uid)]);
    if (m.gid > octalMax(8)) pax.push(['gid', String(m.gid)]);
    const sec = m.mtimeNs / 1_000_000_000n - (m.mtimeNs < 0n && m.mtimeNs % 1_000_000_000n !== 0n ? 1n : 0n);
    if (m.mtimeNs % 1_000_000_000n !== 0n || sec > BigInt(octalMax(12)) || sec < 0n) {
      pax.push(['mtime', paxTime(m.mtimeNs)]);
      if (m.atimeNs !== undefined) pax.push(['atime', paxTime(m.atimeNs)]);
    }
    for (const [k, v] of m.xattrs ?? []) pax.push([`SCHILY.xattr.${k}`, v]);
    if (pax.length > 0) {
      const body = encodePax(pax);
      await this.out(encodeHeader({
        name: Buffer.concat([Buffer.from('PaxHeaders/'), asciiFallback(m.path.subarray(m.path.lastIndexOf(0x2f) + 1), 80)]),
        mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: Number(sec), typeflag: TYPE.pax,
      }));
      await this.out(body);
      await this.out(ZEROS.subarray(0, padTo(body.length)));
    }
    await this.out(encodeHeader({
      name: split.name, prefix: split.prefix, mode: m.mode, uid: m.uid, gid: m.gid, size, mtime: Number(sec),
      typeflag: TYPEFLAGS[m.type], linkname: linkField, uname: m.uname, gname: m.gname,
      devmajor: m.devmajor, devminor: m.devminor,
    }));
    this.left = size;
    this.padding = padTo(size);
    if (size === 0) this.padding = 0;
  }

  /** Member data, in order. */
  async data(chunk: Uint8Array): Promise<void> {
    if (chunk.length > this.left) throw new FormatError(`tar writer: member data is longer than its size (${chunk.length} > ${this.left} left)`);
    this.left -= chunk.length;
    await this.out(chunk);
    if (this.left === 0 && this.padding > 0) {
      await this.out(ZEROS.subarray(0, this.padding));
      this.padding = 0;
    }
  }

  /** `n` zero bytes of member data (a hole of a sparse file). */
  async zeros(n: number): Promise<void> {
    while (n > 0) {
      const k = Math.min(n, ZEROS.length);
      await this.data(ZEROS.subarray(0, k));
      n -= k;
    }
  }

  /** Ends the archive: two zero blocks, padded to a whole 10 KiB record. */
  async finish(): Promise<void> {
    if (this.left > 0) throw new Error(`tar writer: last member still expects ${this.left} bytes`);
    const end = this.written + 2 * BLOCK;
    await this.out(Buffer.alloc(2 * BLOCK + (RECORD - (end % RECORD)) % RECORD));
    await this.flush();
  }
}

function padTo(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

/** A ustar-field stand-in for a name carried by pax: its ASCII bytes, cut to `max`. */
function asciiFallback(b: Buffer, max: number): Buffer {
  const out = Buffer.from(b.subarray(0, max));
  for (let i = 0; i < out.length; i++) if (out[i] >= 0x80) out[i] = 0x5f; // '_'
  return out;
}
