/**
 * The one base error of the toolkit. Every error a user can see carries a stable `code`
 * (documented in docs/errors.md), a one-line message that names the path and the problem,
 * and structured `data`. The CLI maps codes to exit codes in one place (lib/cli/exit-codes.ts).
 * Each code belongs to one class (error-codes.ts); the constructors accept only their own codes.
 */
import type { ErrorCode, FormatCode, NotFoundCode, TransportCode } from './error-codes.js';

export class ToolkitError extends Error {
  /**
   * The class's name as `name` and `--json`'s `error` show it. Written out rather than taken
   * from new.target.name: the CLI bundle is minified without keeping function names (keeping
   * them cost every command a few ms of start-up, docs/BENCHMARKS.md), so class names there are
   * single letters.
   */
  static readonly errorName: string = 'ToolkitError';
  readonly code: ErrorCode;
  readonly data: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, data: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = (new.target as typeof ToolkitError).errorName;
    this.code = code;
    this.data = data;
  }

  /** What `--json` prints, and what crosses a worker boundary (fromJSON, error-codes.ts). */
  toJSON(): Record<string, unknown> {
    return { error: this.name, code: this.code, message: this.message, ...this.data };
  }
}

/** Bad command line or bad option value. */
export class UsageError extends ToolkitError {
  static override readonly errorName = 'UsageError';
  constructor(message: string, data: Record<string, unknown> = {}) { super('USAGE', message, data); }
}

/** A path, store, snapshot or file that does not exist. */
export class NotFoundError extends ToolkitError {
  static override readonly errorName = 'NotFoundError';
  constructor(message: string, data: Record<string, unknown> = {}, code: NotFoundCode = 'NOT_FOUND') { super(code, message, data); }
}

/** The store is locked by another process in a way that conflicts with this operation. */
export class LockedError extends ToolkitError {
  static override readonly errorName = 'LockedError';
  constructor(message: string, data: Record<string, unknown> = {}) { super('LOCKED', message, data); }
}

/** Bytes that are not what a format says they must be: bad magic, newer version, truncation. */
export class FormatError extends ToolkitError {
  static override readonly errorName = 'FormatError';
  constructor(message: string, data: Record<string, unknown> = {}, code: FormatCode = 'FORMAT') { super(code, message, data); }
}

/** Bytes that do not hash to their id, or a checksum that does not match. */
export class IntegrityError extends ToolkitError {
  static override readonly errorName = 'IntegrityError';
  constructor(message: string, data: Record<string, unknown> = {}) { super('INTEGRITY', message, data); }
}

/** A native call failed in a way the caller cannot recover from. */
export class NativeError extends ToolkitError {
  static override readonly errorName = 'NativeError';
  constructor(message: string, data: Record<string, unknown> = {}) { super('NATIVE', message, data); }
}

/** An operation was cancelled through its AbortSignal (SIGINT, SIGTERM): abort.ts raises it. */
export class AbortedError extends ToolkitError {
  static override readonly errorName = 'AbortedError';
  constructor(message = 'interrupted') { super('ABORTED', message); }
}

/**
 * A file system call failed (not a missing path): data carries `path`, `syscall` and `errno`
 * (lib/fs/fs-error.ts builds it, and re-exports it).
 */
export class FsError extends ToolkitError {
  static override readonly errorName = 'FsError';
  constructor(message: string, data: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('FS', message, data, options);
  }
}

/**
 * The pipe to another fxcp (an SSH connection, a child ssh) failed, or the peer broke the wire
 * protocol (formats/wire.md): refused host keys and logins, a version mismatch, a dropped
 * connection, a malformed frame, an error the peer reported with a code this side does not know.
 */
export class TransportError extends ToolkitError {
  static override readonly errorName = 'TransportError';
  constructor(message: string, data: Record<string, unknown> = {}, code: TransportCode = 'TRANSPORT') { super(code, message, data); }
}
