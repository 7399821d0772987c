/**
 * How lib/fs reports problems: thrown errors for what stops an operation, and warnings (through
 * a caller's `onWarn`) for what is lost but lets it go on (an xattr not restored, a fallback in
 * use). lib/fs never prints; the CLI decides how warnings look.
 *
 * Thrown errors are ToolkitErrors whose message names the path (display form) and whose data
 * carries `path` (display form), `syscall` and `errno` (Node's code, e.g. 'ENOENT'), so callers
 * test `errnoOf(e) === 'ENOENT'` whether or not the error was wrapped. A missing path becomes a
 * NotFoundError (code NOT_FOUND); other failures an FsError (code FS).
 */
import { FsError, NotFoundError, ToolkitError, type Warn } from '../errors/index.js';
import { displayPath } from './fs-path.js';

/** Warning codes emitted by lib/fs (stable, like error codes). */
export const FsWarnCode = {
  /** The native addon is not loaded and a weaker fallback is used; data.feature says which. */
  NATIVE_FALLBACK: 'NATIVE_FALLBACK',
  /** An extended attribute could not be read or written; data.attr names it. */
  XATTR: 'XATTR',
  /** Ownership could not be restored; setuid/setgid bits were then dropped. */
  OWNER: 'OWNER',
  /** setuid/setgid bits were not applied because the owner/group is not the recorded one. */
  SETID_DROPPED: 'SETID_DROPPED',
} as const;

/** A file system call failed (not a missing path): one class per code, all in lib/errors. */
export { FsError };

/** Node's errno code of an error, wrapped or raw ('ENOENT', ...), or undefined. */
export function errnoOf(e: unknown): string | undefined {
  if (e instanceof ToolkitError) {
    const v = e.data.errno;
    return typeof v === 'string' ? v : undefined;
  }
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

const MISSING = new Set(['ENOENT', 'ENOTDIR']);

/**
 * Wraps a failed Node or native call on `path` into a ToolkitError whose message reads
 * "cannot <what> <path>: <reason>". ToolkitErrors pass through unchanged.
 */
export function fsError(e: unknown, what: string, path: Buffer | string, syscall?: string): ToolkitError {
  if (e instanceof ToolkitError) return e;
  const err = e as NodeJS.ErrnoException;
  const errno = typeof err?.code === 'string' ? err.code : undefined;
  // Node messages look like "ENOENT: no such file or directory, lstat '/p'"; keep the reason only.
  const m = typeof err?.message === 'string' ? /^[A-Z0-9_]+: ([^,]+)/.exec(err.message) : null;
  const reason = m ? m[1] : (err?.message ?? String(e));
  const shown = displayPath(path);
  const data: Record<string, unknown> = { path: shown, syscall: syscall ?? err?.syscall, errno };
  const message = `cannot ${what} ${shown}: ${reason}${errno && !reason.includes(errno) ? ` (${errno})` : ''}`;
  if (errno && MISSING.has(errno)) {
    const nf = new NotFoundError(message, data);
    (nf as { cause?: unknown }).cause = e;
    return nf;
  }
  return new FsError(message, data, { cause: e });
}

/**
 * The keys each warning sink has heard. Kept per sink (the onWarn a command passes down), not
 * per process: two commands in one process (a daemon, a test) each hear a fallback once, and
 * the record goes with the sink.
 */
const heard = new WeakMap<Warn, Set<string>>();

/**
 * Emits a warning once per warning sink for `key` (a fallback is a property of the process, not
 * of one file: a million-file walk must not print a million times). Nothing is recorded when no
 * `onWarn` is given, so the first caller that listens still hears it.
 */
export function warnOnce(key: string, onWarn: Warn | undefined, code: string, message: string,
  data: Record<string, unknown> = {}): void {
  if (!onWarn) return;
  let keys = heard.get(onWarn);
  if (!keys) heard.set(onWarn, (keys = new Set()));
  if (keys.has(key)) return;
  keys.add(key);
  onWarn(code, message, data);
}

/** The one-time warning that the native addon is missing and `feature` uses a fallback. */
export function warnFallback(onWarn: Warn | undefined, feature: string, consequence: string,
  loadError: string | null): void {
  warnOnce(`fallback:${feature}`, onWarn, FsWarnCode.NATIVE_FALLBACK,
    `native addon not loaded; ${consequence}`, { feature, loadError });
}
