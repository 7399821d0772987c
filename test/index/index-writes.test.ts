// IndexWrites.committed (lib/index/index-writes.ts): how a failed write of the index reaches the
// command. lmdb-js rejects a failed commit's writes with a bare "Commit failed (see commitError
// for details)" and rejects `commitError` with the cause a moment later; the command must see the
// cause as IO naming the index, whichever comes first (a CI run once saw INTERNAL).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ToolkitError } from '../../lib/errors/index.js';
import { IndexWrites } from '../../lib/index/index-writes.js';
import { tempDir } from '../helpers/run-cli.js';

/** A write rejected as lmdb-js rejects a failed commit; its commitError settles with `cause` after `ms` (never when null). */
function failedCommit(cause: Error | null, ms = 5): Promise<never> {
  const commitError = new Promise<never>((_, reject) => { if (cause) setTimeout(() => reject(cause), ms); });
  return Promise.reject(Object.assign(new Error('Commit failed (see commitError for details)'), { commitError }));
}

function eio(): Error {
  return Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

function withIndex(body: (w: IndexWrites, file: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const t = tempDir('fx-index-writes-');
    const file = join(t.path, 'store', 'index', 'index.mdb');
    mkdirSync(join(t.path, 'store', 'index'), { recursive: true });
    const w = new IndexWrites(file);
    try {
      await body(w, file);
    } finally {
      w.close();
      t.cleanup();
    }
  };
}

test('a failed commit whose cause comes after the bare rejection fails as IO with that cause, naming the index', withIndex(async (w, file) => {
  const err = await rejection(w.committed(failedCommit(eio(), 20), 1));
  assert.instance(err, ToolkitError);
  assert.is((err as ToolkitError).code, 'IO');
  assert.match((err as Error).message, file);
  assert.match((err as Error).message, /EIO/);
  assert.is(w.broken, true);
}));

test('a failed commit whose cause never comes still fails as IO naming the index (after the wait)', withIndex(async (w, file) => {
  const err = await rejection(w.committed(failedCommit(null), 1));
  assert.is((err as ToolkitError).code, 'IO');
  assert.match((err as Error).message, file);
  assert.match((err as Error).message, /Commit failed/);
}));

test('any other failure of a write is passed on as it was', withIndex(async (w) => {
  const other = new Error('something else');
  assert.is(await rejection(w.committed(Promise.reject(other), 1)), other);
}));

test.run();
