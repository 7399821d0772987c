/**
 * The one table from outcomes to exit codes (docs/errors.md), as in the reference:
 *   0  success
 *   1  partial: the command finished, but some items failed (each was named on stderr)
 *   2  complete failure: bad usage, no store, locked, damaged data, nothing done
 *   130 interrupted (SIGINT/SIGTERM); nothing half-done is visible
 */
import { AbortedError, errorToJSON, isAbortError, ToolkitError } from '../errors/index.js';

export const EXIT = { OK: 0, PARTIAL: 1, FAILURE: 2, INTERRUPTED: 130 } as const;

export function exitCodeFor(err: unknown): number {
  // A DOMException AbortError (a platform API stopped by the same signal) is an interrupt too:
  // lib code raises AbortedError (lib/errors/abort.ts), this catches what slips past it.
  if (isAbortError(err)) return EXIT.INTERRUPTED;
  return EXIT.FAILURE;
}

/** The one-line message and the JSON form of an error. */
export function describeError(err: unknown): { line: string; json: Record<string, unknown> } {
  if (!(err instanceof ToolkitError) && isAbortError(err)) err = new AbortedError();
  const json = errorToJSON(err);
  return { line: err instanceof ToolkitError ? err.message : json.message as string, json };
}
