/** What inspect reports (lib/fxar/foxing-v2/foxing-inspect.ts): summary figures, the real chunk codec, verification. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { summarizeFoxing, verifyFoxing } from '../../../lib/fxar/foxing-v2/foxing-inspect.js';
import { groupSnapshots } from '../../../lib/fxar/foxing-v2/foxing-paths.js';
import { foxingFiles, SNAP_B } from '../../../fixtures/foxing-v2/foxing-spec.js';
import { edited, fixture, open } from './helpers.js';

const logical = foxingFiles().reduce((n, f) => n + f.data.length, 0);

test('summary: form, codec (and the chunks\' real one), sizes, snapshots', async () => {
  const r = await open(fixture('xz-labelled-zstd-streamed.fxar'), 'x.fxar');
  const { snapshots, problems } = groupSnapshots(r.manifest);
  const s = summarizeFoxing(r, snapshots, problems);
  assert.is(s.form, 'streamed');
  assert.ok(s.footer);
  assert.match(s.codec, /^xz \(zstd data/);
  assert.equal(s.chunkCodecs, { zstd: 13 });
  assert.is(s.logicalBytes, logical);
  assert.is(s.files, 9);
  assert.equal(s.snapshots.map((x) => x.files), [5, 4]);
  const z = await open(fixture('zstd.fxar'));
  const zs = summarizeFoxing(z, groupSnapshots(z.manifest).snapshots, []);
  assert.equal(zs.chunkCodecs, { none: 1, zstd: 12 }, 'the raw-stored chunk seen as such');
  assert.is(zs.codec, 'zstd');
  const n = await open(fixture('none.fxar'));
  const ns = summarizeFoxing(n, [], []);
  assert.is(ns.uniqueBytes, ns.storedBytes);
});

test('verify: intact, then a damaged chunk and a file whose manifest hash is wrong, each named', async () => {
  const good = await verifyFoxing(await open(fixture('lz4.fxar')));
  assert.equal([good.chunks, good.files, good.damagedChunks, good.damagedFiles], [13, 9, [], []]);
  const b = fixture('none.fxar');
  const r0 = await open(b);
  const f = r0.manifest.files.find((x) => x.path === `${SNAP_B}/tree/data/new file ü.txt`)!;
  const m = Number(b.readBigUInt64LE(64));
  const hex = f.blake3.toString('hex');
  const json = b.subarray(80, 80 + m).toString('latin1').replace(hex, hex.slice(0, 63) + (hex[63] === '0' ? '1' : '0'));
  const bad = edited(Buffer.concat([b.subarray(0, 80), Buffer.from(json, 'latin1'), b.subarray(80 + m)]), (c) => { c[r0.entry(0).offset] ^= 4; });
  const v = await verifyFoxing(await open(bad, 'bad.fxar'));
  assert.equal(v.damagedChunks.map((d) => d.chunk), [0]);
  const paths = v.damagedFiles.map((d) => d.path);
  assert.ok(paths.includes(f.path), 'the file with the wrong hash');
  assert.ok(v.damagedFiles.find((d) => d.path === f.path)!.message.includes('whole-file BLAKE3'));
  assert.ok(v.damagedFiles.some((d) => /needs damaged chunk 0/.test(d.message)), 'the files of the damaged chunk');
});

test.run();
