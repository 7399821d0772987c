import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { alignedBuffer, DIRECT_ALIGN, isDirectAligned } from '../../lib/fs/direct-io.js';
import { native } from '../../lib/native/load.js';

test('alignedBuffer: the first byte sits on a DIRECT_ALIGN boundary, at the asked size', () => {
  if (!native) { console.log('  skipped: no native addon (buffers cannot be aligned; packs are written buffered)'); return; }
  for (const size of [DIRECT_ALIGN, 1 << 20, 3 * DIRECT_ALIGN]) {
    const b = alignedBuffer(size);
    assert.is(b.length, size);
    assert.is(native.addressOffset(b, DIRECT_ALIGN), 0);
    assert.ok(isDirectAligned(b, 0));
  }
});

test('isDirectAligned refuses a misaligned address, length or file offset, and empty writes', () => {
  if (!native) { console.log('  skipped: no native addon'); return; }
  const b = alignedBuffer(4 * DIRECT_ALIGN);
  assert.ok(isDirectAligned(b, 8 * DIRECT_ALIGN));
  assert.not.ok(isDirectAligned(b.subarray(1, 1 + DIRECT_ALIGN), 0), 'address');
  assert.not.ok(isDirectAligned(b.subarray(0, DIRECT_ALIGN + 1), 0), 'length');
  assert.not.ok(isDirectAligned(b, 512), 'file offset');
  assert.not.ok(isDirectAligned(b.subarray(0, 0), 0), 'empty');
});

test('addressOffset checks its arguments', () => {
  if (!native) { console.log('  skipped: no native addon'); return; }
  const b = Buffer.alloc(16);
  assert.throws(() => native!.addressOffset(b, 3), /power of two/);
  assert.throws(() => native!.addressOffset('x' as unknown as Uint8Array, 4096), /Uint8Array/);
  assert.is(native.addressOffset(b.subarray(1), 1), 0);
});

test.run();
