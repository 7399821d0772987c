/** Assertions the blob-storage tests share (test/conformance/blob-storage.test.ts, test/store/fs-storage.test.ts). */
import * as assert from 'uvu/assert';
import { NotFoundError } from '../../lib/errors/index.js';

/** Awaits `p`, expecting it to reject; `check` looks at what it rejected with. */
export async function rejects(p: Promise<unknown>, check: (e: unknown) => void): Promise<void> {
  try {
    await p;
  } catch (e) {
    check(e);
    return;
  }
  assert.unreachable('expected a rejection');
}

/** What every backend throws for a blob that is not there. */
export const isMissing = (e: unknown): void => {
  assert.instance(e, NotFoundError, `expected NotFoundError, got ${String(e)}`);
  assert.is((e as NotFoundError).code, 'MISSING_BLOB');
};
