/** Foxing's header and footer (lib/fxar/foxing-v2/foxing-header.ts): the two modes, the additive footer checksum. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFooter, decodeHeader, footerChecksum, isFoxingMagic } from '../../../lib/fxar/foxing-v2/foxing-header.js';
import { footerSum } from '../../../fixtures/foxing-v2/build-foxing.js';
import { edited, errorOf, fixture } from './helpers.js';

test('seekable and streamed headers', () => {
  const h = decodeHeader(fixture('lz4.fxar').subarray(0, 64), 'a');
  assert.equal([h.codec, h.chunkMin, h.chunkMax, h.chunkAvg, h.manifestOffset, h.streamed], ['lz4', 2048, 2097152, 65536, 64, false]);
  const s = decodeHeader(fixture('lz4-streamed.fxar').subarray(0, 64), 'a');
  assert.equal([s.indexOffset, s.indexSize, s.manifestOffset, s.manifestSize, s.chunkCount, s.streamed], [0, 0, 0, 0, h.chunkCount, true]);
  assert.ok(isFoxingMagic(Buffer.from('FXAR')));
  assert.not.ok(isFoxingMagic(Buffer.from('FXA')));
});

test('the footer checksum adds the magic and both halves of each u64 (wrapping), as the reference does', () => {
  assert.is(footerChecksum(0, 0, 0), 293);
  assert.is(footerChecksum(64, 1000, 7), 293 + 64 + 1000 + 7);
  // High halves count: 2^32 + 5 adds 1 + 5, where an XOR of the bytes would give something else.
  assert.is(footerChecksum(2 ** 32 + 5, 0, 0), 293 + 1 + 5);
  assert.is(footerChecksum(0xffffffff, 0xffffffff, 0), (293 + 2 * 0xffffffff) >>> 0, 'wraps at 2^32');
  // The fixture builder computes it independently.
  assert.is(footerChecksum(64, 123456789012, 99), footerSum(64, 123456789012, 99));
  const s = fixture('gzip-streamed.fxar');
  const f = decodeFooter(s.subarray(s.length - 32));
  assert.ok(f);
  assert.is(f!.manifestOffset, 64);
  assert.is(decodeFooter(edited(s.subarray(s.length - 32), (c) => { c[0] = 0x46; c[3] = 0x58; })), null, 'not FXAF');
  assert.is(decodeFooter(edited(s.subarray(s.length - 32), (c) => { c[28] ^= 1; })), null, 'bad checksum');
});

test('header errors: short, bad magic, u64 beyond 2^53', async () => {
  const h = fixture('none.fxar').subarray(0, 64);
  assert.is((await errorOf(() => decodeHeader(h.subarray(0, 63), 'a'))).code, 'TRUNCATED');
  assert.is((await errorOf(() => decodeHeader(edited(h, (c) => { c[0] = 0; }), 'a'))).code, 'NOT_AN_ARCHIVE');
  const e = await errorOf(() => decodeHeader(edited(h, (c) => c.writeBigUInt64LE(1n << 60n, 56)), 'a'));
  assert.is(e.code, 'FORMAT');
  assert.match(e.message, /chunk_count/);
});

test.run();
