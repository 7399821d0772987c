/**
 * output.ts's number formats: formatCount must print what toLocaleString('en-US') prints for
 * whole numbers (the --stats lines read like rsync's), without loading ICU.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatBytes, formatCount } from '../../lib/cli/output.js';

test('formatCount groups digits by three, as en-US does', () => {
  const samples = [0, 1, 12, 123, 999, 1000, 1001, 12345, 123456, 1234567, 1_000_000, 522_704_714, Number.MAX_SAFE_INTEGER, -1, -1234, -999_999];
  let seed = 7;
  for (let i = 0; i < 200; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    samples.push(seed % 10 ** (1 + (i % 15)));
  }
  for (const n of samples) assert.is(formatCount(n), n.toLocaleString('en-US'), String(n));
});

test('formatBytes: bytes below 1 KiB exact, larger ones in binary units', () => {
  assert.is(formatBytes(1023), '1023 B');
  assert.is(formatBytes(6_965_734), '6.64 MiB');
});

test.run();
