/**
 * A streaming tar parser: an async generator of members whose data is itself streamed. Reads
 * POSIX ustar, pax (x and g headers), GNU (long names 'L', long links 'K', base-256 numbers)
 * and V7 archives.
 *
 * Memory: one header block, the pax/long-name data of the current member (bounded by
 * PAX_MAX_BYTES and LONG_NAME_MAX), and one input chunk. Member data is never buffered: the
 * caller pulls it through `entry.data()`; what it does not read is skipped when it asks for
 * the next member.
 *
 * Strict: a bad checksum, a truncated header or body, a size beyond 2^53, a pax record that
 * does not parse, or an archive that ends without its end-of-archive block is a FormatError
 * naming the archive offset. Unknown pax keys are ignored (as pax allows), except that an
 * unknown `hdrcharset` is refused (every name would be misread) and GNU.sparse.* keys mark the
 * member unsupported (its data is a sparse map, not the file). Members this toolkit cannot represent (GNU sparse, multi-volume,
 * unknown types) come out as type 'unsupported' with a reason: the caller decides.
 */
import { FormatError, throwIfAborted } from '../errors/index.js';
import { StreamReader } from '../util/stream-reader.js';
import { decodePax, PAX_MAX_BYTES, parsePaxInt, parsePaxTime, type PaxRecords } from './pax-records.js';
import { BLOCK, dataBlocks, decodeHeader, isZeroBlock, TYPE } from './tar-header.js';

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev' | 'blockdev' | 'fifo' | 'unsupported';

export interface TarEntry {
  /** Archive offset of the member's first header (its pax or long-name header if any). */
  offset: number;
  type: TarEntryType;
  /** Why a member is 'unsupported'. */
  reason?: string;
  path: Buffer;
  /** Hard link: the earlier member's path; symlink: the target. */
  linkpath: Buffer;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Bytes of data in the archive. */
  size: number;
  mtimeNs: bigint;
  atimeNs?: bigint;
  devmajor: number;
  devminor: number;
  /** SCHILY.xattr.* records, sorted by name. */
  xattrs: Array<[string, Buffer]>;
  /** The member's data, streamed (views into the input: copy what you keep). Call once. */
  data(): AsyncIterable<Uint8Array>;
}

/** GNU long names and links: PATH_MAX is 4096; anything near this is damage. */
const LONG_NAME_MAX = 64 * 1024;
const READ_PIECE = 1 << 20;

export interface ReadTarOptions {
  signal?: AbortSignal;
  /** Receives each input chunk the reader is done with (see lib/util/stream-reader.ts): member data views are then valid only until the next piece is taken. */
  release?: (chunk: Uint8Array) => void;
}

export async function* readTar(source: AsyncIterable<Uint8Array>, opts: ReadTarOptions = {}): AsyncGenerator<TarEntry> {
  const src = new StreamReader(source, opts.release);
  const globals: PaxRecords = new Map();
  try {
    for (;;) {
      const entry = await nextEntry(src, globals, opts.signal);
      if (!entry) return;
      let left = entry.size;
      let used = false;
      entry.data = () => {
        if (used) throw new Error('tar member data read twice');
        used = true;
        return (async function* () {
          while (left > 0) {
            const piece = await src.readSome(Math.min(left, READ_PIECE));
            if (piece.length === 0) throw truncated(src, 'member data', entry.path);
            left -= piece.length;
            yield piece;
          }
        })();
      };
      yield entry;
      // Skip what the caller did not read, then the padding to the block boundary.
      while (left > 0) {
        const piece = await src.readSome(Math.min(left, READ_PIECE));
        if (piece.length === 0) throw truncated(src, 'member data', entry.path);
        left -= piece.length;
      }
      await skip(src, dataBlocks(entry.size) * BLOCK - entry.size, entry.path);
    }
  } finally {
    await src.close();
  }
}

function truncated(src: StreamReader, what: string, path?: Buffer): FormatError {
  const member = path ? ` of '${path.toString('utf8')}'` : '';
  return new FormatError(`offset ${src.offset}: archive is truncated (in ${what}${member})`, { offset: src.offset }, 'TAR_TRUNCATED');
}

async function skip(src: StreamReader, n: number, path: Buffer): Promise<void> {
  while (n > 0) {
    const p = await src.readSome(n);
    if (p.length === 0) throw truncated(src, 'padding', path);
    n -= p.length;
  }
}

async function readBody(src: StreamReader, size: number, max: number, what: string, at: number): Promise<Buffer> {
  if (size > max) throw new FormatError(`offset ${at}: ${what} of ${size} bytes is larger than the limit ${max}`, { offset: at });
  const body = await src.read(size);
  if (body.length < size) throw truncated(src, what);
  const pad = dataBlocks(size) * BLOCK - size;
  if ((await src.read(pad)).length < pad) throw truncated(src, what);
  return Buffer.from(body);
}

function nulTerminated(b: Buffer): Buffer {
  const z = b.indexOf(0);
  return z < 0 ? b : b.subarray(0, z);
}

async function nextEntry(src: StreamReader, globals: PaxRecords, signal?: AbortSignal): Promise<TarEntry | null> {
  let pax: PaxRecords | null = null;
  let longName: Buffer | null = null;
  let longLink: Buffer | null = null;
  let first = -1;
  for (;;) {
    throwIfAborted(signal);
    const at = src.offset;
    const block = await src.read(BLOCK);
    if (block.length === 0 && first < 0) {
      throw new FormatError(`offset ${at}: archive ends without an end-of-archive block (truncated?)`, { offset: at }, 'TAR_TRUNCATED');
    }
    if (block.length < BLOCK) throw truncated(src, 'a header');
    if (isZeroBlock(block)) {
      if (first >= 0) throw new FormatError(`offset ${at}: end of archive right after an extended header`, { offset: at }, 'TAR_TRUNCATED');
      return null;
    }
    if (first < 0) first = at;
    const where = `offset ${at}`;
    const h = decodeHeader(block, where);
    if (!Number.isSafeInteger(h.size)) throw new FormatError(`${where}: absurd member size`, { offset: at });
    switch (h.typeflag) {
      case TYPE.pax: {
        const recs = decodePax(await readBody(src, h.size, PAX_MAX_BYTES, 'pax header', at), where);
        pax = pax ? new Map([...pax, ...recs]) : recs;
        continue;
      }
      case TYPE.paxGlobal: {
        for (const [k, v] of decodePax(await readBody(src, h.size, PAX_MAX_BYTES, 'pax global header', at), where)) globals.set(k, v);
        continue;
      }
      case TYPE.gnuLongName:
        longName = nulTerminated(await readBody(src, h.size, LONG_NAME_MAX, 'GNU long name', at));
        continue;
      case TYPE.gnuLongLink:
        longLink = nulTerminated(await readBody(src, h.size, LONG_NAME_MAX, 'GNU long link name', at));
        continue;
    }
    const recs: PaxRecords = new Map(globals);
    // A global header's path/size would apply to every member; no writer means that.
    for (const k of ['path', 'linkpath', 'size']) recs.delete(k);
    if (pax) for (const [k, v] of pax) recs.set(k, v);
    const e: TarEntry = {
      offset: first, type: 'unsupported', path: longName ?? h.name, linkpath: longLink ?? h.linkname,
      mode: h.mode, uid: h.uid, gid: h.gid, uname: h.uname, gname: h.gname, size: h.size,
      mtimeNs: BigInt(h.mtime) * 1_000_000_000n, devmajor: h.devmajor, devminor: h.devminor, xattrs: [],
      data: () => { throw new Error('unreachable'); },
    };
    applyPax(e, recs, where);
    if (e.path.length === 0) throw new FormatError(`${where}: member has an empty name`, { offset: at });
    if (e.path.includes(0) || e.linkpath.includes(0)) throw new FormatError(`${where}: member name contains a NUL byte`, { offset: at });
    classify(e, h.typeflag, recs);
    return e;
  }
}

function applyPax(e: TarEntry, recs: PaxRecords, where: string): void {
  for (const [k, v] of recs) {
    switch (k) {
      case 'path': e.path = v; break;
      case 'linkpath': e.linkpath = v; break;
      case 'size': e.size = parsePaxInt(v, k, where); break;
      case 'uid': e.uid = parsePaxInt(v, k, where); break;
      case 'gid': e.gid = parsePaxInt(v, k, where); break;
      case 'uname': e.uname = v.toString('utf8'); break;
      case 'gname': e.gname = v.toString('utf8'); break;
      case 'mtime': e.mtimeNs = parsePaxTime(v, where); break;
      case 'atime': e.atimeNs = parsePaxTime(v, where); break;
      case 'hdrcharset': {
        // Names are kept as raw bytes either way; a charset we do not know would mean
        // misreading every name, so it is refused rather than guessed.
        const cs = v.toString('latin1');
        if (cs !== 'BINARY' && cs !== 'ISO-IR 10646 2000 UTF-8') throw new FormatError(`${where}: pax hdrcharset '${cs.slice(0, 40)}' is not supported`);
        break;
      }
      default:
        if (k.startsWith('SCHILY.xattr.')) {
          const name = k.slice('SCHILY.xattr.'.length);
          if (name.length === 0 || name.length > 255) throw new FormatError(`${where}: pax xattr name is empty or too long`);
          e.xattrs.push([name, v]);
        }
    }
  }
  e.xattrs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function classify(e: TarEntry, typeflag: number, recs: PaxRecords): void {
  const path = e.path;
  if ([...recs.keys()].some((k) => k.startsWith('GNU.sparse.'))) {
    e.reason = 'GNU sparse member (pax GNU.sparse.*)';
    return;
  }
  switch (typeflag) {
    case TYPE.file: case TYPE.contiguous: e.type = 'file'; break;
    case TYPE.oldFile: e.type = path[path.length - 1] === 0x2f ? 'dir' : 'file'; break;
    case TYPE.hardlink: e.type = 'hardlink'; break;
    case TYPE.symlink: e.type = 'symlink'; break;
    case TYPE.chardev: e.type = 'chardev'; break;
    case TYPE.blockdev: e.type = 'blockdev'; break;
    case TYPE.dir: case TYPE.gnuDumpDir: e.type = 'dir'; break;
    case TYPE.fifo: e.type = 'fifo'; break;
    case TYPE.gnuSparse: e.reason = 'GNU sparse member (type S)'; break;
    case TYPE.gnuMultiVol: e.reason = 'GNU multi-volume continuation (type M)'; break;
    case TYPE.gnuVolume: e.reason = 'volume label (type V)'; break;
    default: e.reason = `unknown member type '${String.fromCharCode(typeflag)}' (0x${typeflag.toString(16)})`;
  }
}
