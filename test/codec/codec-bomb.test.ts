/**
 * Issue 18, D2: a chunk record declares its raw length, and decoding it never produces more,
 * whatever the stored bytes expand to: 256 MiB of zeros stored as a "64 KiB" chunk is refused
 * while decoding, for every codec, and the process's peak RSS barely moves. Before the fix
 * gzip (gunzipSync) and xz (lzma-native's decompress) decoded the whole bomb and compared the
 * length only afterwards.
 */
import { createRequire } from 'node:module';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkCodec, CODEC_IDS } from '../../lib/codec/codec.js';
import { FormatError } from '../../lib/errors/index.js';
import { bomb, cannotMake, zeroPieces } from '../helpers/bomb-kit.js';
import { MiB } from '../helpers/peak-rss.js';

const ZEROS = 256 * MiB;
const RAW = 64 << 10;
const require = createRequire(import.meta.url);

const peakRss = () => process.resourceUsage().maxRSS * 1024;

/** The stored bytes of a bomb chunk: as the codec stores chunks (lz4: one block with its size in front). */
async function storedBomb(kind: 'zstd' | 'lz4' | 'gzip' | 'xz'): Promise<Buffer> {
  if (kind !== 'lz4') return bomb(kind, zeroPieces(ZEROS));
  // An lz4 block is at most what its size prefix says; a forged prefix must not be trusted either.
  const block = (require('lz4-napi') as { compressSync(b: Buffer): Buffer }).compressSync(Buffer.alloc(16 * MiB));
  block.writeUInt32LE(RAW, 0);
  return block;
}

for (const kind of ['zstd', 'lz4', 'gzip', 'xz'] as const) {
  test(`${kind}: a "${RAW >> 10} KiB" chunk holding ${ZEROS / MiB} MiB is refused while decoding`, async () => {
    const why = cannotMake(kind);
    if (why) { console.log(`  skipped: ${why}`); return; }
    const stored = await storedBomb(kind);
    const before = peakRss();
    const err = await new ChunkCodec().decompress(CODEC_IDS[kind], stored, RAW).then(() => null, (e: unknown) => e);
    const grew = peakRss() - before;
    assert.instance(err, FormatError, String(err));
    // Refused because it would pass RAW bytes, not after making all of them.
    assert.not.match((err as Error).message, /decompressed to \d+ bytes/);
    assert.ok(grew < 32 * MiB, `peak RSS grew by ${(grew / MiB).toFixed(0)} MiB decoding a ${stored.length}-byte chunk: ${(err as Error).message}`);
  });
}

test('gzip and xz: an honest chunk still decodes to exactly its raw length; one a byte short is refused', async () => {
  const c = new ChunkCodec();
  const raw = Buffer.from('foxing '.repeat(20_000));
  for (const spec of [{ name: 'gzip' as const, level: 6 }, { name: 'xz' as const, level: 1 }]) {
    const stored = (await c.compress(spec, raw))!;
    assert.ok(Buffer.from(await c.decompress(CODEC_IDS[spec.name], stored, raw.length)).equals(raw), spec.name);
    const short = await c.decompress(CODEC_IDS[spec.name], stored, raw.length - 1).then(() => null, (e: unknown) => e);
    assert.instance(short, FormatError, `${spec.name}: ${String(short)}`);
    const long = await c.decompress(CODEC_IDS[spec.name], stored, raw.length + 1).then(() => null, (e: unknown) => e);
    assert.instance(long, FormatError, `${spec.name}: ${String(long)}`);
  }
});

test.run();
