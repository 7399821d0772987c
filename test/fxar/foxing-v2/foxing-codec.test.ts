/**
 * The codec quirks (lib/fxar/foxing-v2/foxing-codec.ts): which codec a piece is really in, and
 * decoding with the output bounded. lz4 pieces come from the fixture builder's own block encoder
 * (fixtures/foxing-v2/build-foxing.ts), written from the LZ4 block format, not from lib/codec.
 */
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkCodec, CODEC_IDS, xzCompress } from '../../../lib/codec/codec.js';
import { decodePiece, effectiveCodec } from '../../../lib/fxar/foxing-v2/foxing-codec.js';
import { lz4Block } from '../../../fixtures/foxing-v2/build-foxing.js';
import { errorOf } from './helpers.js';

const text = Buffer.from('the quick brown fox jumps over the lazy dog, again and again. '.repeat(50));
const zstdFrame = async (b: Buffer) => Buffer.from((await new ChunkCodec().compress({ name: 'zstd', level: 3 }, b))!);

test('which codec a piece is really in', async () => {
  const z = await zstdFrame(text);
  const x = await xzCompress(text, 1);
  assert.is(effectiveCodec('xz', z, z.length, text.length), CODEC_IDS.zstd, 'flag 4 on zstd bytes');
  assert.is(effectiveCodec('xz', x, x.length, text.length), CODEC_IDS.xz, 'a real xz stream');
  assert.is(effectiveCodec('zstd', text, text.length, text.length), CODEC_IDS.none, 'raw under zstd after a failed compression');
  assert.is(effectiveCodec('zstd', text.subarray(1), text.subarray(1).length, text.length), CODEC_IDS.zstd, 'not raw: a length that differs');
  assert.is(effectiveCodec('lz4', text, text.length, text.length), CODEC_IDS.lz4);
  assert.is(effectiveCodec('gzip', gzipSync(text), gzipSync(text).length, text.length), CODEC_IDS.gzip);
  assert.is(effectiveCodec('none', text, text.length, text.length), CODEC_IDS.none);
});

test('every codec decodes, the xz-labelled zstd and raw-under-zstd too', async () => {
  const c = new ChunkCodec();
  const pieces: Array<[Parameters<typeof decodePiece>[1], Buffer]> = [
    ['none', text], ['zstd', await zstdFrame(text)], ['zstd', text], ['lz4', lz4Block(text)], ['gzip', gzipSync(text)],
    ['xz', await zstdFrame(text)], ['xz', await xzCompress(text, 1)],
  ];
  for (const [codec, stored] of pieces) assert.ok(Buffer.from(await decodePiece(c, codec, stored, text.length, 'p')).equals(text), codec);
  const incompressible = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7919) & 0xff));
  assert.ok(Buffer.from(await decodePiece(c, 'lz4', lz4Block(incompressible), 300, 'p')).equals(incompressible), 'lz4 literals only');
  assert.ok(Buffer.from(await decodePiece(c, 'lz4', lz4Block(Buffer.alloc(0)), 0, 'p')).equals(Buffer.alloc(0)), 'lz4 empty');
});

test('a piece that decodes to another length, or does not decode, is FORMAT naming it', async () => {
  const c = new ChunkCodec();
  const cases: Array<[Parameters<typeof decodePiece>[1], Buffer, number]> = [
    ['none', text, text.length + 1],
    ['zstd', await zstdFrame(text), 100],
    ['lz4', lz4Block(text), text.length - 1],
    ['lz4', Buffer.concat([lz4Block(text).subarray(0, 4), Buffer.from([0xff, 0xff, 0xff])]), text.length],
    ['gzip', gzipSync(Buffer.alloc(1 << 20)), 1000],
    ['xz', Buffer.from('not a codec at all'), 5],
  ];
  for (const [codec, stored, raw] of cases) {
    const e = await errorOf(() => decodePiece(c, codec, stored, raw, 'chunk 7'));
    assert.is(e.code, 'FORMAT', `${codec}: ${e.message}`);
    assert.ok(e.message.startsWith('chunk 7: '), e.message);
  }
});

test.run();
