/**
 * Errors across the worker boundary: a worker sends what it threw as JSON (errorToJSON) and the
 * pool rebuilds it once (errorFromJSON), with its class, code, message and data; a real worker
 * pool is driven to fail a job.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AbortedError, ERROR_CLASSES, errorFromJSON, errorToJSON, FormatError, FsError, IntegrityError, NotFoundError, ToolkitError,
} from '../../lib/errors/index.js';
import { WorkerPool, workerReport } from '../../lib/util/worker-pool.js';
import type { VerifyJob } from '../../lib/fxar/verify-worker.js';

test('every class survives toJSON and errorFromJSON: class, code, message, data', () => {
  const samples: ToolkitError[] = [
    new FormatError('p: truncated', { path: 'p', offset: 7 }, 'TRUNCATED'),
    new NotFoundError('s: no such store', { path: 's' }, 'NO_STORE'),
    new IntegrityError('c: bad hash', { chunk: 'ab' }),
    new FsError('cannot open f: denied', { path: 'f', errno: 'EACCES', syscall: 'open' }),
    new AbortedError(),
    new ToolkitError('NO_SPACE', 'full', { need: 10 }),
  ];
  for (const e of samples) {
    const back = errorFromJSON(structuredClone(errorToJSON(e))) as ToolkitError;
    assert.is(back.constructor, e.constructor, e.code);
    assert.instance(back, ERROR_CLASSES[e.code]);
    assert.is(back.code, e.code);
    assert.is(back.message, e.message);
    assert.equal(back.data, e.data);
    assert.is(back.name, e.name);
  }
});

test('an error that was no ToolkitError comes back as Node\'s shape: a plain Error with its code', () => {
  const node = Object.assign(new Error("EACCES: permission denied, open '/x'"), { code: 'EACCES', path: '/x' });
  const back = errorFromJSON(errorToJSON(node)) as NodeJS.ErrnoException;
  assert.not.instance(back, ToolkitError);
  assert.is(back.code, 'EACCES');
  assert.is(back.path, '/x');
  assert.is(back.message, node.message);
  // A library's numeric code is no stable code: INTERNAL, the number kept in errno.
  assert.equal(errorToJSON(Object.assign(new Error('MDB_CORRUPTED'), { code: -30796 })), { error: 'Error', code: 'INTERNAL', errno: -30796, message: 'MDB_CORRUPTED' });
});

test('a worker\'s failed job rejects with the class the worker threw, marked as its report', async () => {
  const pool = new WorkerPool('fxar/verify-worker.js', {}, 1);
  try {
    const stored = new Uint8Array(Buffer.from('not the chunk'));
    const job: VerifyJob = { where: 'a.fxar', items: [{ id: new Uint8Array(32), type: 0, offset: 64, codec: 0, rawLength: stored.length, storedLength: stored.length }], stored, bundle: false };
    const err = await pool.run(job).then(() => null, (e: unknown) => e);
    assert.instance(err, IntegrityError, String(err));
    assert.is((err as ToolkitError).code, 'INTEGRITY');
    assert.match((err as Error).message, /a\.fxar/);
    assert.equal(workerReport(err), { fatal: false });
    assert.is(workerReport(new IntegrityError('here')), undefined, 'an error of this thread is no report');
  } finally {
    await pool.close();
  }
});

test.run();
