/**
 * Member paths of an imported tar: normalisation and the safety rules (docs/tar.md §Safety).
 * Pure. A path is a list of components (raw bytes): "./a//b/" is [a, b], "./" is [] (the root).
 * Refused with a FormatError naming the member: absolute paths and any '..' component (GNU
 * tar strips a leading '/' and skips '..' members with a warning; an importer that turns the
 * archive into a snapshot refuses them, so nothing is silently moved).
 */
import { FormatError } from '../errors/index.js';
import { MAX_KEY_BYTES } from '../index/entry-spill.js';

const SLASH = 0x2f;

export function splitMemberPath(path: Buffer, what: string, at: number): Buffer[] {
  const text = path.toString('utf8');
  if (path[0] === SLASH) {
    throw new FormatError(`offset ${at}: ${what} '${text}' is an absolute path; refused`, { offset: at, path: text }, 'TAR_UNSAFE_PATH');
  }
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i < path.length && path[i] !== SLASH) continue;
    const c = path.subarray(start, i);
    start = i + 1;
    if (c.length === 0 || (c.length === 1 && c[0] === 0x2e)) continue;
    if (c.length === 2 && c[0] === 0x2e && c[1] === 0x2e) {
      throw new FormatError(`offset ${at}: ${what} '${text}' contains '..'; refused`, { offset: at, path: text }, 'TAR_UNSAFE_PATH');
    }
    parts.push(c);
  }
  return parts;
}

/**
 * The spill key of a path: components joined by NUL. NUL sorts below every name byte, so in
 * key order a directory comes right before its contents, and siblings come in name-byte
 * order, which is exactly tree order (a depth-first walk).
 */
export function pathKey(parts: readonly Buffer[], at: number): Buffer {
  const key = Buffer.alloc(parts.reduce((n, p) => n + p.length + 1, 0) - (parts.length ? 1 : 0));
  let o = 0;
  parts.forEach((p, i) => { if (i) key[o++] = 0; o += p.copy(key, o); });
  if (key.length > MAX_KEY_BYTES) {
    throw new FormatError(`offset ${at}: member path '${parts.map(String).join('/').slice(0, 80)}…' is longer than ${MAX_KEY_BYTES} bytes; not importable`,
      { offset: at }, 'TAR_PATH_TOO_LONG');
  }
  return key;
}

export function splitKey(key: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let s = 0;
  for (let i = 0; i <= key.length; i++) {
    if (i === key.length || key[i] === 0) { parts.push(Buffer.from(key.subarray(s, i))); s = i + 1; }
  }
  return parts;
}

export function printable(parts: readonly Buffer[]): string {
  return parts.map((p) => p.toString('utf8')).join('/');
}
