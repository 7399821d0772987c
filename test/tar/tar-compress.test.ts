/** Whole-stream compression: frames written by compressingSink decode with our decoder (and the CLIs in other tests). */
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compressingSink, decompress, type TarCompression } from '../../lib/tar/tar-compress.js';
import { haveCommand } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

async function compressAll(data: Buffer, kind: TarCompression): Promise<Buffer> {
  const out: Buffer[] = [];
  const s = compressingSink({ write: async (c) => { out.push(Buffer.from(c)); } }, kind);
  for (let o = 0; o < data.length; o += 300_001) await s.write(data.subarray(o, o + 300_001));
  await s.end();
  return Buffer.concat(out);
}

async function decompressAll(data: Buffer, kind: TarCompression, piece = 65_537): Promise<Buffer> {
  const out: Buffer[] = [];
  async function* src() { for (let o = 0; o < data.length; o += piece) yield data.subarray(o, o + piece); }
  for await (const c of decompress(src(), kind)) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

// Half compressible, half not; over 2 frames.
const DATA = Buffer.concat([Buffer.alloc(5 << 20, 'tar tar tar '), seededBytes(2 << 20, 3)]);

for (const kind of ['zstd', 'gzip', 'xz', 'lz4'] as const) {
  test(`${kind}: multi-frame output decodes to the input`, async () => {
    const packed = await compressAll(DATA, kind);
    assert.ok(packed.length < DATA.length);
    assert.ok((await decompressAll(packed, kind)).equals(DATA));
  });
}

test('lz4 from the CLI decodes block by block; linked blocks are refused', async () => {
  if (!haveCommand('lz4')) { console.log('  skipped: no lz4 command'); return; }
  const plain = spawnSync('lz4', ['-q', '-c'], { input: DATA, maxBuffer: 1 << 28 }).stdout;
  assert.ok((await decompressAll(plain, 'lz4', 1000)).equals(DATA));
  const linked = spawnSync('lz4', ['-q', '-c', '-BD'], { input: DATA, maxBuffer: 1 << 28 }).stdout;
  try {
    await decompressAll(linked, 'lz4');
    assert.unreachable('linked blocks decoded');
  } catch (err) {
    assert.match((err as Error).message, /linked blocks/);
  }
});

test('a truncated stream of each kind is a FormatError', async () => {
  for (const kind of ['zstd', 'gzip', 'xz', 'lz4'] as const) {
    const packed = await compressAll(DATA.subarray(0, 1 << 20), kind);
    try {
      await decompressAll(packed.subarray(0, packed.length - 7), kind);
      assert.unreachable(`${kind}: truncation not noticed`);
    } catch (err) {
      assert.is((err as { code?: string }).code, 'TAR_COMPRESSION', `${kind}: ${(err as Error).message}`);
    }
  }
});

test.run();
