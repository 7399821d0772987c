/**
 * POSIX pax extended header records (IEEE 1003.1 pax, "x" and "g" members). Pure.
 *
 *   record := length SP key '=' value LF      length: decimal, counts the whole record
 *
 * Values are raw bytes: a path that is not UTF-8 travels with `hdrcharset=BINARY`, and a
 * SCHILY.xattr.* value is the attribute's bytes. Keys used here:
 *   path linkpath size uid gid uname gname mtime atime ctime hdrcharset
 *   SCHILY.xattr.NAME (the xattr NAME, including POSIX ACLs as system.posix_acl_*)
 *   GNU.sparse.*     (recognised only to refuse the member: sparse tars are not imported)
 */
import { FormatError } from '../errors/index.js';

export type PaxRecords = Map<string, Buffer>;

/** Largest pax header the reader accepts: xattrs are at most 64 KiB each on Linux. */
export const PAX_MAX_BYTES = 8 << 20;

export function decodePax(buf: Buffer, where: string): PaxRecords {
  const out: PaxRecords = new Map();
  let o = 0;
  while (o < buf.length) {
    // Some writers pad the data with NULs after the last record.
    if (buf[o] === 0) {
      for (let i = o; i < buf.length; i++) if (buf[i] !== 0) throw new FormatError(`${where}: pax header has bytes after its padding`);
      break;
    }
    const sp = buf.indexOf(0x20, o);
    if (sp < 0 || sp - o > 12 || sp === o) throw new FormatError(`${where}: pax record without a length`);
    const lenText = buf.toString('latin1', o, sp);
    if (!/^[0-9]+$/.test(lenText)) throw new FormatError(`${where}: pax record length is not a number`);
    const len = Number(lenText);
    if (len < sp - o + 4 || o + len > buf.length) throw new FormatError(`${where}: pax record length ${len} is out of range`);
    if (buf[o + len - 1] !== 0x0a) throw new FormatError(`${where}: pax record does not end with a newline`);
    const eq = buf.indexOf(0x3d, sp + 1);
    if (eq < 0 || eq >= o + len - 1 || eq === sp + 1) throw new FormatError(`${where}: pax record without a key`);
    const key = buf.toString('utf8', sp + 1, eq);
    out.set(key, Buffer.from(buf.subarray(eq + 1, o + len - 1)));
    o += len;
  }
  return out;
}

function record(key: string, value: Buffer): Buffer {
  const body = Buffer.byteLength(key) + value.length + 3; // ' ' '=' '\n'
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`, 'utf8'), value, Buffer.from('\n')]);
}

export function encodePax(records: Array<[string, Buffer | string]>): Buffer {
  return Buffer.concat(records.map(([k, v]) => record(k, typeof v === 'string' ? Buffer.from(v, 'utf8') : v)));
}

/** Formats a ns timestamp as pax decimal seconds ("1700000000.123456789"). */
export function paxTime(ns: bigint): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  const s = a / 1_000_000_000n, f = a % 1_000_000_000n;
  const text = f === 0n ? `${s}` : `${s}.${f.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return neg ? `-${text}` : text;
}

/** Parses pax decimal seconds to ns (extra fraction digits are cut, as GNU tar does). */
export function parsePaxTime(v: Buffer, where: string): bigint {
  const t = v.toString('latin1');
  const m = /^(-?)([0-9]{1,15})(?:\.([0-9]*))?$/.exec(t);
  if (!m) throw new FormatError(`${where}: pax time '${t.slice(0, 40)}' is not a number`);
  const ns = BigInt(m[2]) * 1_000_000_000n + BigInt((m[3] ?? '').slice(0, 9).padEnd(9, '0') || '0');
  return m[1] ? -ns : ns;
}

/** Parses a pax decimal integer (size, uid, gid) with a sanity bound. */
export function parsePaxInt(v: Buffer, key: string, where: string): number {
  const t = v.toString('latin1');
  if (!/^[0-9]{1,16}$/.test(t) || Number(t) > Number.MAX_SAFE_INTEGER) {
    throw new FormatError(`${where}: pax ${key} '${t.slice(0, 40)}' is not a valid number`);
  }
  return Number(t);
}

/** True when a string round-trips through UTF-8 (a pax path can then be written without hdrcharset). */
export function isUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}
