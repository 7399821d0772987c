/**
 * Listing one directory: the entry names as raw bytes, sorted by byte order.
 *
 * Why bytes: names need not be UTF-8, and a name decoded to a string and encoded again can come
 * back different (invalid sequences become U+FFFD), so a snapshot taken through strings could
 * not restore such a file. Why byte order (Buffer.compare, i.e. memcmp): it is total and
 * locale-free, so the same directory always yields the same tree bytes and the same tree id,
 * on any machine, whatever LANG says. It is also the order restic and git use.
 *
 * Limits: readdir returns the whole directory at once (Node has no streaming readdir with
 * Buffer names and a sort needs them all anyway), so a directory with millions of entries costs
 * memory proportional to its size. '.' and '..' are never returned. Entry types are not
 * returned: callers lstat each entry anyway to capture metadata (captureMeta), and d_type is
 * unreliable on some file systems.
 */
import { promises as fsp, readdirSync } from 'node:fs';
import { fsError } from './fs-error.js';

/** Sort comparator for raw names (byte order). */
export function compareNames(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

/**
 * The names in directory `path`, sorted by raw byte order. Throws a NotFoundError when the
 * directory is gone (a walk may treat that as "vanished") and an FsError otherwise; both name
 * the path and carry `data.errno`.
 */
export async function listDir(path: Buffer): Promise<Buffer[]> {
  let names: Buffer[];
  try {
    names = await fsp.readdir(path, { encoding: 'buffer' });
  } catch (e) {
    throw fsError(e, 'list directory', path, 'scandir');
  }
  names.sort(Buffer.compare);
  return names;
}

/** listDir with a synchronous readdir (see captureMetaSync for why a walk wants this). */
export function listDirSync(path: Buffer): Buffer[] {
  let names: Buffer[];
  try {
    names = readdirSync(path, { encoding: 'buffer' });
  } catch (e) {
    throw fsError(e, 'list directory', path, 'scandir');
  }
  names.sort(Buffer.compare);
  return names;
}
