/**
 * The one way to stop on an AbortSignal (SIGINT, SIGTERM). `signal.throwIfAborted()` throws the
 * signal's reason, a DOMException with the numeric code 20, which the CLI took for a failure
 * (exit 2, code 20); every check goes through here instead, so an interrupt is always an
 * AbortedError (code ABORTED, exit 130).
 *
 * The check is one property read on the hot loops that call it (per tree, per entry, per pack);
 * the test-only pause below costs one comparison with a constant when it is not set.
 */
import { abortCheckHook } from '../util/kill-point.js';
import { AbortedError, ToolkitError } from './toolkit-error.js';

/** The error an interrupted operation ends with. */
export function abortedError(): AbortedError {
  return new AbortedError();
}

/** Throws AbortedError once `signal` has fired; does nothing without a signal. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (abortCheckHook !== null && signal && abortCheckHook()) turnDue.delete(signal);
  if (signal?.aborted) throw new AbortedError();
}

/**
 * A SIGINT reaches the AbortSignal only on a turn of the event loop. Tree reads are synchronous
 * (pack-reader.ts), so a walk of cached trees is all promise callbacks and never gives the loop
 * a turn: stats, diff, a gc's mark or a restore's plan ran to the end through a Ctrl-C. An abort
 * point is a check that also lets the loop turn, at most once per TURN_EVERY_MS per signal.
 */
const TURN_EVERY_MS = 50;
// (process.uptime, monotonic: the global `performance` loads perf_hooks, ~2 ms of every command's start.)
/** Per signal (so per command run): when the next turn is due. */
const turnDue = new WeakMap<AbortSignal, number>();

/**
 * Throws AbortedError once `signal` has fired; returns a promise to await when the event loop is
 * due a turn (a pending SIGINT is seen there), else undefined. In a hot loop, test the result
 * instead of awaiting undefined: `const turn = abortPoint(signal); if (turn) await turn;`.
 */
export function abortPoint(signal: AbortSignal | undefined): Promise<void> | undefined {
  throwIfAborted(signal);
  if (!signal) return undefined;
  const now = process.uptime() * 1000;
  const due = turnDue.get(signal);
  if (due !== undefined && now < due) return undefined;
  turnDue.set(signal, now + TURN_EVERY_MS);
  return new Promise<void>((resolve) => setImmediate(resolve)).then(() => throwIfAborted(signal));
}

/**
 * Whether `err` is an interruption: our AbortedError, or a DOMException AbortError that a
 * platform API (a stream, fetch, `signal.throwIfAborted()`) raised from the same signal.
 */
export function isAbortError(err: unknown): boolean {
  if (err instanceof ToolkitError) return err.code === 'ABORTED';
  const e = err as { name?: unknown; code?: unknown } | null;
  return e !== null && typeof e === 'object' && (e.name === 'AbortError' || e.code === 'ABORT_ERR');
}
