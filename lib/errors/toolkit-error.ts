/**
 * The one base error of the toolkit. Every error a user can see carries a stable `code`
 * (documented in docs/errors.md), a one-line message that names the path and the problem,
 * and structured `data`. The CLI maps codes to exit codes in one place (lib/cli/exit-codes.ts).
 * Each code belongs to one class (error-codes.ts); the constructors accept only their own codes.
 */
import type { ErrorCode, FormatCode, NotFoundCode } from './error-codes.js';

export class ToolkitError extends Error {
  readonly code: ErrorCode;
  readonly data: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, data: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
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
  constructor(message: string, data: Record<string, unknown> = {}) { super('USAGE', message, data); }
}

/** A path, store, snapshot or file that does not exist. */
export class NotFoundError extends ToolkitError {
  constructor(message: string, data: Record<string, unknown> = {}, code: NotFoundCode = 'NOT_FOUND') { super(code, message, data); }
}

/** The store is locked by another process in a way that conflicts with this operation. */
export class LockedError extends ToolkitError {
  constructor(message: string, data: Record<string, unknown> = {}) { super('LOCKED', message, data); }
}

/** Bytes that are not what a format says they must be: bad magic, newer version, truncation. */
export class FormatError extends ToolkitError {
  constructor(message: string, data: Record<string, unknown> = {}, code: FormatCode = 'FORMAT') { super(code, message, data); }
}

/** Bytes that do not hash to their id, or a checksum that does not match. */
export class IntegrityError extends ToolkitError {
  constructor(message: string, data: Record<string, unknown> = {}) { super('INTEGRITY', message, data); }
}

/** A native call failed in a way the caller cannot recover from. */
export class NativeError extends ToolkitError {
  constructor(message: string, data: Record<string, unknown> = {}) { super('NATIVE', message, data); }
}

/** An operation was cancelled through its AbortSignal (SIGINT, SIGTERM): abort.ts raises it. */
export class AbortedError extends ToolkitError {
  constructor(message = 'interrupted') { super('ABORTED', message); }
}

/**
 * A file system call failed (not a missing path): data carries `path`, `syscall` and `errno`
 * (lib/fs/fs-error.ts builds it, and re-exports it).
 */
export class FsError extends ToolkitError {
  constructor(message: string, data: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('FS', message, data, options);
  }
}
