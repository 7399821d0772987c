/**
 * Golden tests of the Foxing (Rust) FXAR v2 reader over fixtures/foxing-v2/. The fixtures are
 * derived from the published layout (fixtures/foxing-v2/build-foxing.ts), not produced by the
 * reference: these tests show the reader follows the spec and the quirks the source study
 * found (the team's study of Foxing's source, §1), not that it reads a real release's output.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blake3 } from '../../../lib/hash/blake3.js';
import { sniffArchiveKind } from '../../../lib/fxar/archive-kind.js';
import { buildFoxing } from '../../../fixtures/foxing-v2/build-foxing.js';
import { foxingFixtures, SNAP_A, SNAP_B } from '../../../fixtures/foxing-v2/foxing-spec.js';
import { edited, errorOf, expectedContent, fixture, open, readAll } from './helpers.js';

const specs = foxingFixtures();
const READABLE = Object.keys(specs).filter((n) => n !== 'unsafe-paths.fxar');

test('the builder still writes every fixture byte for byte', async () => {
  for (const [name, spec] of Object.entries(specs)) {
    assert.ok((await buildFoxing(spec)).equals(fixture(name)), `${name} differs from what fixtures/gen-foxing-v2-fixtures.ts writes (regenerate it)`);
  }
});

test('the fixtures have the published layout: header fields, manifest prefix, index entries, footer', () => {
  const b = fixture('zstd.fxar');
  assert.is(b.toString('latin1', 0, 4), 'FXAR');
  assert.is(b.readUInt32LE(4), 2);
  assert.is(b.readUInt32LE(8), 1);
  assert.equal([b.readUInt32LE(12), b.readUInt32LE(16), b.readUInt32LE(20)], [2048, 2097152, 65536]);
  const m = Number(b.readBigUInt64LE(64));
  assert.is(Number(b.readBigUInt64LE(40)), 64, 'manifest_offset');
  assert.is(Number(b.readBigUInt64LE(48)), m, 'manifest_size');
  assert.is(Number(b.readBigUInt64LE(24)), 80 + m, 'index_offset');
  const n = Number(b.readBigUInt64LE(56));
  assert.is(Number(b.readBigUInt64LE(32)), 48 * n, 'index_size');
  assert.is(Number(b.readBigUInt64LE(80 + m + 36)), 80 + m + 48 * n, 'entry 0 offset');
  assert.is(sniffArchiveKind(b), 'foxing-fxar');
  const s = fixture('zstd-streamed.fxar');
  assert.ok(s.subarray(24, 56).equals(Buffer.alloc(32)), 'streamed: placeholder offsets and sizes');
  assert.is(Number(s.readBigUInt64LE(56)), n, 'streamed: chunk_count set');
  const f = s.subarray(s.length - 32);
  assert.is(f.toString('latin1', 0, 4), 'FXAF');
  // The additive checksum: 293 + 64 + (80 + M) + N (all below 2^32), not an XOR.
  assert.is(f.readUInt32LE(28), 293 + 64 + 80 + m + n);
});

for (const name of READABLE) {
  test(`${name}: every file reads back, verified chunk by chunk and whole`, async () => {
    const r = await open(fixture(name), name);
    const want = expectedContent();
    assert.is(r.manifest.files.length, want.size);
    for (const [path, data] of want) assert.ok((await readAll(r, path)).equals(data), `${name}: ${path}`);
    assert.is(r.header.streamed, name.includes('streamed'));
    assert.is(r.footer !== null, name.includes('streamed'));
  });
}

test('the quirks: xz flag on zstd data, lz4 raw blocks, a raw chunk under the zstd flag', async () => {
  const xz = await open(fixture('xz-labelled-zstd.fxar'));
  assert.is(xz.header.codec, 'xz');
  const first = xz.entry(0);
  assert.equal([...fixture('xz-labelled-zstd.fxar').subarray(first.offset, first.offset + 4)], [0x28, 0xb5, 0x2f, 0xfd], 'zstd bytes under flag 4');
  const lz = fixture('lz4.fxar');
  const r = await open(lz);
  for (let i = 0; i < r.chunkCount; i++) {
    const e = r.entry(i);
    assert.is(lz.readUInt32LE(e.offset), e.rawSize, 'a 4-byte decoded length first');
    assert.not.equal(lz.readUInt32LE(e.offset + 4), 0x184d2204, 'no LZ4 frame magic');
  }
  const z = await open(fixture('zstd.fxar'));
  const raw = z.entry(1);
  assert.is(raw.storedSize, raw.rawSize, 'chunk 1 stored raw');
  assert.ok(blake3().hash(await z.chunk(1)).equals(raw.id));
});

test('snapshots: from the list, or from the paths when the manifest has none', async () => {
  const { groupSnapshots } = await import('../../../lib/fxar/foxing-v2/foxing-paths.js');
  for (const name of ['zstd.fxar', 'no-snapshot-list.fxar']) {
    const { snapshots, problems } = groupSnapshots((await open(fixture(name))).manifest);
    assert.equal(snapshots.map((s) => s.name), [SNAP_A, SNAP_B], name);
    assert.equal(snapshots.map((s) => s.time), ['2026-03-12T08:45:00.000Z', '2026-03-13T09:00:00.000Z']);
    assert.equal(problems, []);
  }
});

test('a streamed header with no chunk count and no footer: the count comes from entry 0', async () => {
  const s = fixture('none-streamed.fxar');
  const cut = edited(s.subarray(0, s.length - 32), (c) => c.fill(0, 56, 64));
  const r = await open(cut);
  assert.is(r.chunkCount, (await open(s)).chunkCount);
  assert.ok((await readAll(r, `${SNAP_B}/tree/deep/a/b/c.txt`)).equals(Buffer.from('deep\n')));
});

test('header and footer are checked against what was parsed', async () => {
  const b = fixture('gzip.fxar');
  const s = fixture('gzip-streamed.fxar');
  const cases: Array<[string, Buffer, string, RegExp]> = [
    ['index_offset off by one', edited(b, (c) => c.writeBigUInt64LE(c.readBigUInt64LE(24) + 1n, 24)), 'FORMAT', /header puts the index/],
    ['manifest_size wrong', edited(b, (c) => c.writeBigUInt64LE(3n, 48)), 'FORMAT', /header puts the manifest/],
    ['footer index_offset wrong (checksum fixed up)', edited(s, (c) => { const f = c.length - 32; c.writeBigUInt64LE(c.readBigUInt64LE(f + 12) + 1n, f + 12); c.writeUInt32LE(c.readUInt32LE(f + 28) + 1, f + 28); }), 'FORMAT', /footer says/],
    ['footer checksum wrong', edited(s, (c) => { c[c.length - 1] ^= 1; }), 'FORMAT', /no FXAF footer/],
    ['version 3', edited(b, (c) => c.writeUInt32LE(3, 4)), 'NEWER_VERSION', /version 3/],
    ['version 1', edited(b, (c) => c.writeUInt32LE(1, 4)), 'FORMAT', /version 1/],
    ['codec 9', edited(b, (c) => c.writeUInt32LE(9, 8)), 'FORMAT', /unknown codec 9/],
    ['cut in the data', b.subarray(0, b.length - 100), 'TRUNCATED', /truncated/],
    ['cut in the header', b.subarray(0, 40), 'TRUNCATED', /truncated/],
    ['cut in the index', b.subarray(0, 80 + Number(b.readBigUInt64LE(64)) + 10), 'TRUNCATED', /truncated/],
    ['trailing bytes', Buffer.concat([b, Buffer.from('junk')]), 'FORMAT', /no FXAF footer/],
    ['manifest over 64 MiB', edited(b, (c) => c.writeBigUInt64LE(65n << 20n, 72)), 'FOXING_TOO_LARGE', /at most/],
    ['chunk count over the bound', edited(b, (c) => { c.writeBigUInt64LE(1n << 23n, 56); c.writeBigUInt64LE(48n << 23n, 32); }), 'FOXING_TOO_LARGE', /at most 4194304/],
  ];
  for (const [what, bytes, code, message] of cases) {
    const e = await errorOf(() => open(bytes, 'x.fxar'));
    assert.is(e.code, code, `${what}: ${e.message}`);
    assert.match(e.message, message, what);
    assert.ok(e.message.startsWith('x.fxar: '), `${what}: names the archive: ${e.message}`);
  }
});

test('a damaged chunk fails the chunk (INTEGRITY) and the files that need it; others still read', async () => {
  const b = fixture('none.fxar');
  const r0 = await open(b);
  const zeros = r0.manifest.files.find((f) => f.path.endsWith('zeros.bin'))!;
  const e = r0.entry(zeros.chunks[0]);
  const r = await open(edited(b, (c) => { c[e.offset + 5] ^= 0xff; }), 'd.fxar');
  const err = await errorOf(() => readAll(r, `${SNAP_A}/tree/data/zeros.bin`));
  assert.is(err.code, 'INTEGRITY');
  assert.match(err.message, /^d\.fxar: chunk \d+ \(/);
  assert.ok((await readAll(r, `${SNAP_A}/tree/bin/tool.sh`)).equals(Buffer.from('#!/bin/sh\necho foxing\n')));
});

test.run();
