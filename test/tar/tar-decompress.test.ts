/**
 * zstd, gzip and xz decoding on a worker thread (lib/tar/tar-decompress.ts) gives exactly the
 * bytes that decoding on the calling thread gives, for one frame or many, fed in uneven pieces; damage and
 * truncation are clean FormatErrors; a reader that stops early leaves no worker running (the
 * test process would not exit); output pieces handed back return to the worker.
 */
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Compressor } from 'zstd-napi';
import { FormatError } from '../../lib/errors/index.js';
import { decompress } from '../../lib/tar/tar-compress.js';
import { decompressForImport } from '../../lib/tar/tar-decompress.js';
import { mulberry32, seededBytes } from '../helpers/seeded.js';

const require = createRequire(import.meta.url);

function zstd(data: Uint8Array, level = 3): Buffer {
  const c = new Compressor();
  c.setParameters({ compressionLevel: level });
  return c.compress(data);
}

/** Half random, half repetitive: some parts compress, some do not. */
function sample(len: number, seed: number): Buffer {
  const b = seededBytes(len, seed);
  for (let o = 0; o < len; o += 1 << 16) if ((o >> 16) % 2) b.fill(o & 0xff, o, Math.min(len, o + (1 << 16)));
  return b;
}

async function* pieces(b: Buffer, seed: number, max = 300_000): AsyncGenerator<Uint8Array> {
  const r = mulberry32(seed);
  for (let o = 0; o < b.length;) {
    const n = 1 + Math.floor(r() * max);
    yield b.subarray(o, o + n);
    o += n;
  }
}

async function collect(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const p of src) out.push(Buffer.from(p));
  return Buffer.concat(out);
}

test('one frame and many frames decode to the same bytes on the worker as on this thread', async () => {
  const data = sample(9 << 20, 1);
  const one = zstd(data);
  const many = Buffer.concat([zstd(data.subarray(0, 3 << 20)), zstd(data.subarray(3 << 20, 5 << 20), 1), zstd(data.subarray(5 << 20))]);
  for (const [name, z] of [['one frame', one], ['three frames', many]] as const) {
    for (const seed of [1, 2]) {
      const here = await collect(decompress(pieces(z, seed), 'zstd'));
      const there = await collect(decompressForImport(pieces(z, seed), 'zstd', 0));
      assert.ok(here.equals(data), `${name}: this thread`);
      assert.ok(there.equals(data), `${name} seed ${seed}: worker gives ${there.length} bytes`);
    }
  }
});

test('gzip and xz, one member or several, decode to the same bytes on the worker', async () => {
  const data = sample(6 << 20, 12);
  const gz = Buffer.concat([gzipSync(data.subarray(0, 2 << 20), { level: 1 }), gzipSync(data.subarray(2 << 20), { level: 1 })]);
  const lzma = createRequire(import.meta.url)('lzma-native') as { compress(b: Buffer, o: object): Promise<Buffer> };
  const xz = await lzma.compress(data, { preset: 0 });
  for (const [kind, z] of [['gzip', gz], ['xz', xz]] as const) {
    const there = await collect(decompressForImport(pieces(z, 13), kind, 0));
    assert.ok(there.equals(data), `${kind}: worker gives ${there.length} bytes`);
    const cut = await collect(decompressForImport(pieces(z.subarray(0, z.length - 3000), 14), kind, 0)).catch((e) => e);
    assert.instance(cut, FormatError, `${kind}: ${cut}`);
    assert.match((cut as Error).message, new RegExp(`^${kind} stream is damaged or truncated`));
  }
});

test('output that expands a thousandfold comes in bounded pieces', async () => {
  const zeros = Buffer.alloc(64 << 20);
  for (const [kind, z] of [['zstd', zstd(zeros, 1)], ['gzip', gzipSync(zeros, { level: 9 })]] as const) {
    assert.ok(z.length < 128 << 10, `${kind}: ${z.length}`);
    let total = 0;
    let largest = 0;
    for await (const p of decompressForImport(pieces(z, 3, 4096), kind, 0)) {
      total += p.length;
      largest = Math.max(largest, p.length);
      if (p.some((x) => x !== 0)) assert.unreachable('non-zero byte');
    }
    assert.is(total, zeros.length, kind);
    assert.ok(largest <= 1 << 20, `${kind}: largest piece ${largest}`);
  }
});

test('truncated and damaged streams are FormatErrors on the worker path', async () => {
  const data = sample(6 << 20, 4);
  const z = zstd(data);
  const cut = await collect(decompressForImport(pieces(z.subarray(0, z.length - 1000), 5), 'zstd', 0)).catch((e) => e);
  assert.instance(cut, FormatError);
  assert.is((cut as FormatError).code, 'TAR_COMPRESSION');
  assert.match((cut as Error).message, /zstd stream is damaged or truncated/);
  const r = mulberry32(6);
  for (let i = 0; i < 6; i++) {
    const bad = Buffer.from(z);
    const at = 64 + Math.floor(r() * (bad.length - 64));
    bad[at] ^= 0x5a;
    bad[(at + 777) % bad.length] ^= 0xa5;
    // Either the decoder notices (FormatError) or, where zstd cannot tell, the bytes differ:
    // the tar parser and the chunk hashes downstream judge those.
    const got = await collect(decompressForImport(pieces(bad, 7 + i), 'zstd', 0)).catch((e) => e);
    if (got instanceof Error) assert.instance(got, FormatError, String(got));
  }
});

test('a reader that stops early shuts the worker down', async () => {
  const data = sample(8 << 20, 8);
  const z = zstd(data);
  let n = 0;
  for await (const p of decompressForImport(pieces(z, 9), 'zstd', 0)) {
    n += p.length;
    if (n > 2 << 20) break;
  }
  assert.ok(n > 2 << 20);
});

test('pieces handed back go back to the worker (foreign buffers do not), and the bytes stay right', async () => {
  const data = sample(24 << 20, 15);
  const returned: Uint8Array[] = [];
  const ours: Uint8Array[] = [];
  const foreign: Uint8Array[] = [];
  const out: Buffer[] = [];
  for await (const p of decompressForImport(pieces(zstd(data, 1), 16), 'zstd', 0, returned)) {
    out.push(Buffer.from(p));
    ours.push(p);
    foreign.push(new Uint8Array(1 << 20));
    returned.push(p, foreign[foreign.length - 1]);
  }
  assert.ok(Buffer.concat(out).equals(data));
  // A piece sent back is transferred to the worker: detached here. Not all are (the last ones
  // come back after the last job), but most must be.
  const sent = ours.filter((p) => p.buffer.byteLength === 0).length;
  assert.ok(sent >= ours.length / 2, `${sent} of ${ours.length} pieces went back`);
  assert.ok(foreign.every((f) => f.byteLength === 1 << 20), 'buffers the worker did not make stay here');
});

test('a zstd frame that needs a window over 128 MiB is refused as such, on this thread and on the worker', async () => {
  // Streamed with its size unknown, so the frame header asks for the whole 1 GiB window.
  const z = require('zstd-napi/binding.js') as typeof import('zstd-napi/binding.js');
  const c = new z.CCtx();
  c.setParameter(z.CParameter.windowLog, 30);
  const out = Buffer.alloc(1 << 16);
  const [, n1] = c.compressStream2(out, sample(100_000, 20), z.EndDirective.continue);
  const [, n2] = c.compressStream2(out.subarray(n1), Buffer.alloc(0), z.EndDirective.end);
  const frame = Buffer.from(out.subarray(0, n1 + n2));
  for (const [where, run] of [['this thread', () => decompress(pieces(frame, 21), 'zstd')], ['worker', () => decompressForImport(pieces(frame, 22), 'zstd', 0)]] as const) {
    const err = await collect(run()).catch((e) => e);
    assert.instance(err, FormatError, `${where}: ${String(err)}`);
    assert.is((err as FormatError).code, 'TAR_COMPRESSION');
    assert.match((err as Error).message, /^zstd stream needs a window over 128 MiB to decode/, where);
  }
});

test('a small input is decoded on this thread (no worker to start)', async () => {
  const data = sample(200_000, 10);
  const got = await collect(decompressForImport(pieces(zstd(data), 11), 'zstd'));
  assert.ok(got.equals(data));
});

test.run();
