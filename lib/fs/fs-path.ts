/**
 * Paths as raw bytes. On Linux a file name is any byte string without '/' and NUL; it need not
 * be UTF-8. Everything in lib/fs therefore takes and returns `Buffer` paths, and only turns them
 * into strings for messages (lossily, through `displayPath`). A string path is converted to bytes
 * as UTF-8, which is what Node itself does with string paths.
 *
 * Limits: these helpers do no normalisation beyond what is stated (no '..' resolution, no
 * symlink resolution, no collapsing of '//' inside a path); they are byte concatenation and
 * byte comparison, kept cheap because a walk calls `joinPath` once per entry.
 */

const SLASH = 0x2f;

/** A string path as its UTF-8 bytes; a Buffer is returned as is (not copied). */
export function toBuffer(p: string | Buffer): Buffer {
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

/**
 * `dir` + '/' + `name`, as bytes. No separator is added when `dir` already ends in '/'
 * (so joining onto '/' gives '/name', not '//name'), and an empty `dir` gives `name` alone.
 * `name` is one path component and is not checked for '/' (callers pass names from readdir).
 */
export function joinPath(dir: Buffer, name: Buffer): Buffer {
  if (dir.length === 0) return name;
  if (dir[dir.length - 1] === SLASH) return Buffer.concat([dir, name], dir.length + name.length);
  const out = Buffer.allocUnsafe(dir.length + 1 + name.length);
  // (TypedArray's set: Buffer's copy checks its arguments in JavaScript first, ~1 us a call;
  // a copy joins a path per directory and per file written from this thread.)
  out.set(dir, 0);
  out[dir.length] = SLASH;
  out.set(name, dir.length + 1);
  return out;
}

/**
 * A path for humans: UTF-8 decoded, with invalid sequences shown as U+FFFD. Lossy, so never
 * use the result to reach the file again; use it only in messages, logs and error text.
 */
export function displayPath(p: Buffer | string): string {
  return typeof p === 'string' ? p : p.toString('utf8');
}

/** True when the bytes decode as UTF-8 and encode back to the same bytes (a string can carry them). */
export function isUtf8Path(p: Buffer): boolean {
  return Buffer.from(p.toString('utf8'), 'utf8').equals(p);
}

/**
 * The part of `path` below `root`, as bytes: '' when they are equal, `null` when `path` is not
 * `root` itself or below it. Comparison is bytewise on whole components ('/a/bc' is not
 * below '/a/b'); a trailing '/' on `root` is allowed.
 */
export function relPath(root: Buffer | string, path: Buffer | string): Buffer | null {
  let r = toBuffer(root);
  const p = toBuffer(path);
  while (r.length > 1 && r[r.length - 1] === SLASH) r = r.subarray(0, r.length - 1);
  if (r.length === 1 && r[0] === SLASH) {
    if (p.length === 0 || p[0] !== SLASH) return null;
    return p.subarray(1);
  }
  if (p.length < r.length || r.compare(p, 0, r.length) !== 0) return null;
  if (p.length === r.length) return Buffer.alloc(0);
  if (p[r.length] !== SLASH) return null;
  return p.subarray(r.length + 1);
}

/**
 * `path` relative to `root`, for messages: '.' for the root itself, the full display path when
 * `path` is not below `root`. Lossy like `displayPath`.
 */
export function relPathString(root: Buffer | string, path: Buffer | string): string {
  const rel = relPath(root, path);
  if (rel === null) return displayPath(path);
  return rel.length === 0 ? '.' : displayPath(rel);
}

/** The parent directory and last component of a path (bytes). '/x' → ['/', 'x']; 'x' → ['.', 'x']. */
export function splitPath(p: Buffer): [Buffer, Buffer] {
  let end = p.length;
  while (end > 1 && p[end - 1] === SLASH) end--;
  const i = p.lastIndexOf(SLASH, end - 1);
  if (i < 0) return [Buffer.from('.'), p.subarray(0, end)];
  return [i === 0 ? p.subarray(0, 1) : p.subarray(0, i), p.subarray(i + 1, end)];
}
