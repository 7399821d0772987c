/**
 * Every stable error code and the one class that carries it, as docs/errors.md lists them
 * (test/errors/errors-doc.test.ts holds the two together). A code is thrown only through its
 * class: the constructors' code parameters are typed by family, so `new FormatError(m, d,
 * 'INTEGRITY')` does not compile. Warning and `store check` problem codes are not errors and
 * are not here.
 *
 * errorFromJSON rebuilds an error from its toJSON() form (the worker pool's one use): the class of
 * its code, or, for an error that was no ToolkitError (a Node error with an errno code), a plain
 * Error with that code, as the main thread would have met it.
 */
import { AbortedError, FormatError, FsError, IntegrityError, LockedError, NativeError, NotFoundError, ToolkitError, TransportError, UsageError } from './toolkit-error.js';

const FORMAT_CODES = [
  'FORMAT', 'NOT_A_STORE', 'NEWER_VERSION', 'TRUNCATED', 'INDEX_DAMAGED', 'NOT_AN_ARCHIVE', 'FOXING_ARCHIVE',
  'NOT_FXAR', 'TRAILING_BYTES', 'TAR_NOT_TAR', 'TAR_COMPRESSION', 'TAR_TRUNCATED', 'TAR_UNSAFE_PATH',
  'TAR_SYMLINK_ESCAPE', 'TAR_PATH_TOO_LONG', 'FOXING_TOO_LARGE',
] as const;
const NOT_FOUND_CODES = ['NOT_FOUND', 'NO_STORE', 'MISSING_BLOB', 'NO_SNAPSHOT', 'NO_MATCH', 'NO_INDEX', 'NO_BUCKET'] as const;
/** Codes of the base class itself: failures of the environment, or of the command's inputs as a whole. */
const PLAIN_CODES = [
  'SOURCE', 'IO', 'READ_ONLY', 'NO_SPACE', 'QUARANTINED_SNAPSHOTS', 'CHUNKS_LOST', 'ARCHIVE_TOO_LARGE',
  'BROKEN_PIPE', 'SNAPSHOT_MISMATCH', 'UNSUPPORTED', 'NOT_PERMITTED', 'UNSUPPORTED_TYPE', 'PACK_BROKEN', 'INTERNAL',
  'SKIPPED_DIR', 'CHANGED', 'VERIFY', 'PATH_REFUSED', 'APPEND_ONLY', 'S3_AUTH', 'S3_UNREACHABLE', 'S3_ERROR', 'S3_NO_CREDENTIALS',
] as const;
/** The pipe to another fxcp and the wire protocol (formats/wire.md). */
const TRANSPORT_CODES = [
  'TRANSPORT', 'PROTOCOL', 'PROTOCOL_VERSION', 'REMOTE_ERROR', 'HOST_KEY_UNKNOWN', 'HOST_KEY_CHANGED', 'AUTH_FAILED',
] as const;

export type FormatCode = typeof FORMAT_CODES[number];
export type NotFoundCode = typeof NOT_FOUND_CODES[number];
export type TransportCode = typeof TRANSPORT_CODES[number];
export type ErrorCode = FormatCode | NotFoundCode | TransportCode | typeof PLAIN_CODES[number]
  | 'USAGE' | 'LOCKED' | 'INTEGRITY' | 'NATIVE' | 'ABORTED' | 'FS';

type ErrorClass = typeof ToolkitError;

/** Code -> the class that carries it. */
export const ERROR_CLASSES: Readonly<Record<ErrorCode, ErrorClass>> = Object.freeze({
  ...Object.fromEntries(FORMAT_CODES.map((c) => [c, FormatError])),
  ...Object.fromEntries(NOT_FOUND_CODES.map((c) => [c, NotFoundError])),
  ...Object.fromEntries(PLAIN_CODES.map((c) => [c, ToolkitError])),
  ...Object.fromEntries(TRANSPORT_CODES.map((c) => [c, TransportError])),
  USAGE: UsageError as unknown as ErrorClass,
  LOCKED: LockedError as unknown as ErrorClass,
  INTEGRITY: IntegrityError as unknown as ErrorClass,
  NATIVE: NativeError as unknown as ErrorClass,
  ABORTED: AbortedError as unknown as ErrorClass,
  FS: FsError as unknown as ErrorClass,
} as Record<ErrorCode, ErrorClass>);

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CLASSES, code);
}

/**
 * An error's JSON form, whatever was thrown: a ToolkitError's toJSON(); for anything else
 * `{error: 'Error', code, message, path?}`, where a library's numeric code (LMDB's return codes)
 * is no stable code: the code is INTERNAL and the number goes in `errno`. What `--json` prints
 * (lib/cli/exit-codes.ts) and what a worker sends (lib/util/worker-job.ts).
 */
export function errorToJSON(err: unknown): Record<string, unknown> {
  if (err instanceof ToolkitError) return err.toJSON();
  const e = err as NodeJS.ErrnoException | null | undefined;
  const message = e?.message ?? String(err);
  const code: unknown = e?.code;
  const stable = typeof code === 'string' ? { code } : { code: 'INTERNAL', ...(code !== undefined ? { errno: code } : {}) };
  return { error: 'Error', ...stable, message, ...(e?.path ? { path: e.path } : {}) };
}

/**
 * The error `json` (a toJSON() form: `{error, code, message, ...data}`) describes: an instance
 * of its code's class with the same code, message and data; or a plain Error with `code` (and
 * `errno`, `syscall`, `path` when given) when the code is none of ours.
 */
export function errorFromJSON(json: Record<string, unknown>): Error {
  const { error: _name, code, message, ...data } = json;
  const text = typeof message === 'string' ? message : String(message);
  if (isErrorCode(code)) {
    // The base constructor with the class as new.target: each subclass's own constructor
    // takes a different argument list, and this one keeps the code and data as sent.
    return Reflect.construct(ToolkitError, [code, text, data], ERROR_CLASSES[code]) as ToolkitError;
  }
  return Object.assign(new Error(text), data, code === undefined ? {} : { code });
}

/**
 * `err` with another message and data: the same class and code. For a layer that puts the
 * path it knows in front of an error from below, without turning an INTEGRITY or an IO into
 * a FormatError.
 */
export function rewordError(err: ToolkitError, message: string, data: Record<string, unknown>): ToolkitError {
  return Reflect.construct(ToolkitError, [err.code, message, data], err.constructor) as ToolkitError;
}
