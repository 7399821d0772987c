/**
 * The one abort helper (lib/errors/abort.ts) and the CLI's mapping of interrupts to exit 130,
 * including a platform DOMException AbortError that slipped past the helper.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AbortedError, abortPoint, isAbortError, throwIfAborted, ToolkitError } from '../../lib/errors/index.js';
import { describeError, EXIT, exitCodeFor } from '../../lib/cli/exit-codes.js';

test('throwIfAborted throws AbortedError (code ABORTED), never the signal\'s DOMException', () => {
  throwIfAborted(undefined);
  const ac = new AbortController();
  throwIfAborted(ac.signal);
  ac.abort();
  try {
    throwIfAborted(ac.signal);
    assert.unreachable('did not throw');
  } catch (err) {
    assert.instance(err, AbortedError);
    assert.is((err as ToolkitError).code, 'ABORTED');
    assert.is(exitCodeFor(err), EXIT.INTERRUPTED);
  }
});

test('abortPoint lets the event loop turn (a pending signal is seen there), then checks again', async () => {
  assert.is(abortPoint(undefined), undefined);
  const ac = new AbortController();
  // A "signal" handled on the loop's next turn (queued first, as libuv's poll phase comes
  // before setImmediate callbacks): the point's promise rejects with AbortedError.
  setImmediate(() => ac.abort());
  const turn = abortPoint(ac.signal);
  assert.instance(turn, Promise, 'the first point of a signal turns the loop');
  assert.is(abortPoint(ac.signal), undefined, 'the next one within 50 ms does not');
  await turn!.then(() => assert.unreachable('not aborted'), (err) => assert.instance(err, AbortedError));
  assert.throws(() => abortPoint(ac.signal), (err: unknown) => err instanceof AbortedError);
});

test('a stray DOMException AbortError maps to exit 130 and code ABORTED, not INTERNAL code 20', () => {
  const ac = new AbortController();
  ac.abort();
  let dom: unknown;
  try { ac.signal.throwIfAborted(); } catch (err) { dom = err; }
  assert.ok(isAbortError(dom));
  assert.is(exitCodeFor(dom), EXIT.INTERRUPTED);
  assert.is(describeError(dom).json.code, 'ABORTED');
  // A stream's AbortError (code ABORT_ERR) too; other errors stay failures.
  const streamAbort = Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
  assert.is(exitCodeFor(streamAbort), EXIT.INTERRUPTED);
  assert.is(exitCodeFor(new Error('x')), EXIT.FAILURE);
  assert.is(exitCodeFor(new ToolkitError('FORMAT', 'x')), EXIT.FAILURE);
});

test.run();
