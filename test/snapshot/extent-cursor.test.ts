import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExtentCursor } from '../../lib/snapshot/extent-cursor.js';
import { FormatError } from '../../lib/errors/index.js';

test('content maps onto extents in order, skipping the holes between them', () => {
  const c = new ExtentCursor([[0, 10], [100, 5], [1000, 20]]);
  assert.equal(c.take(4), [[0, 4]]);
  assert.equal(c.take(8), [[4, 6], [100, 2]]);
  assert.equal(c.take(23), [[102, 3], [1000, 20]]);
  assert.throws(() => c.take(1), (e: unknown) => e instanceof FormatError);
});

test('one extent covering the file is a plain sequential write', () => {
  const c = new ExtentCursor([[0, 1 << 20]]);
  assert.equal(c.take(65536), [[0, 65536]]);
  assert.equal(c.take(65536), [[65536, 65536]]);
});

test('zero-length extents are stepped over', () => {
  const c = new ExtentCursor([[0, 0], [50, 3]]);
  assert.equal(c.take(3), [[50, 3]]);
});

test.run();
