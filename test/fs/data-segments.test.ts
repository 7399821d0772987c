// dataSegments: holes of a sparse file, fast path for a dense file, the fallback.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native, nativeLoadError } from '../../lib/native/load.js';
import {
  captureMeta, dataSegments, isLikelySparse, joinSegments, isZeroBlock, segmentsBytes,
} from '../../lib/fs/index.js';
import type { Warn } from '../../lib/errors/index.js';

let dir = '';
const skip = (name: string, why: string) => console.log(`  skip (${name}): ${why}`);
const MiB = 1024 * 1024;

test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-sparse-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

test('sparse file: two data segments covering the written blocks', async () => {
  const p = join(dir, 'sparse');
  const fd = openSync(p, 'w+');
  try {
    ftruncateSync(fd, 64 * MiB);
    const block = Buffer.alloc(4096, 0xab);
    writeSync(fd, block, 0, block.length, 16 * MiB);
    writeSync(fd, block, 0, block.length, 40 * MiB);
    const meta = await captureMeta(Buffer.from(p), Buffer.from('sparse'), { xattrs: false });
    assert.is(meta.size, 64 * MiB);
    const warnings: string[] = [];
    const onWarn: Warn = (code) => warnings.push(code);
    const segs = dataSegments(fd, meta.size, onWarn);
    if (!native) {
      assert.equal(segs, [[0, 64 * MiB]]);
      dataSegments(fd, meta.size, onWarn);
      assert.equal(warnings, ['NATIVE_FALLBACK'], 'warned once');
      return skip('sparse map', `native addon not loaded (${nativeLoadError})`);
    }
    if (!isLikelySparse(meta)) return skip('sparse map', `${tmpdir()} does not keep holes (blocks ${meta.blocks})`);
    if (segs.length === 1 && segs[0][0] === 0 && segs[0][1] === meta.size) {
      return skip('sparse map', `${tmpdir()} file system does not report holes (SEEK_HOLE)`);
    }
    assert.is(segs.length, 2, JSON.stringify(segs));
    const covers = ([off, len]: [number, number], at: number) => off <= at && off + len >= at + 4096;
    assert.ok(covers(segs[0], 16 * MiB), `first segment covers 16 MiB: ${segs[0]}`);
    assert.ok(covers(segs[1], 40 * MiB), `second segment covers 40 MiB: ${segs[1]}`);
    assert.ok(segmentsBytes(segs) <= 2 * MiB, `segments small: ${segmentsBytes(segs)}`);
    // A window (one section of a large file) maps only its own range, cut at its edges.
    const later = dataSegments(fd, 64 * MiB, onWarn, 30 * MiB);
    assert.is(later.length, 1, JSON.stringify(later));
    assert.ok(covers(later[0], 40 * MiB) && later[0][0] >= 30 * MiB, `${later}`);
    assert.equal(dataSegments(fd, 30 * MiB, onWarn, 20 * MiB), [], 'a window all hole');
    const inside = dataSegments(fd, 16 * MiB + 2048, onWarn, 16 * MiB + 1024);
    assert.equal(inside, [[16 * MiB + 1024, 1024]], 'a window inside one data range');
    assert.equal(warnings, []);
  } finally {
    closeSync(fd);
  }
});

test('dense file: one segment; empty file: none; all-hole file: none', () => {
  const dense = join(dir, 'dense');
  writeFileSync(dense, Buffer.alloc(100_000, 1));
  const hole = join(dir, 'hole');
  writeFileSync(hole, '');
  const fd = openSync(dense, 'r');
  const fh = openSync(hole, 'r+');
  try {
    assert.equal(dataSegments(fd, 100_000), [[0, 100_000]]);
    assert.equal(dataSegments(fd, 0), []);
    // A size smaller than the file (file grew after stat): the map stops at size.
    assert.equal(dataSegments(fd, 5000), [[0, 5000]]);
    ftruncateSync(fh, 8 * MiB);
    const segs = dataSegments(fh, 8 * MiB);
    if (native) assert.equal(segs, [], 'all hole');
    else assert.equal(segs, [[0, 8 * MiB]]);
  } finally {
    closeSync(fd);
    closeSync(fh);
  }
});

test('joinSegments: the extents of a file mapped in sections are whole again', () => {
  const segs: Array<[number, number]> = [[0, 10], [20, 30], [60, 5]];
  // Any cut into windows joins back to the original extents.
  for (const step of [1, 3, 7, 25, 64]) {
    const pieces: Array<[number, number]> = [];
    for (let from = 0; from < 70; from += step) {
      for (const [off, len] of segs) {
        const a = Math.max(off, from), b = Math.min(off + len, from + step);
        if (b > a) pieces.push([a, b - a]);
      }
    }
    assert.equal(joinSegments(pieces), segs, `windows of ${step}`);
  }
  assert.equal(joinSegments([[0, 4], [4, 0], [4, 4], [9, 1]]), [[0, 8], [9, 1]]);
});

test('isLikelySparse and isZeroBlock', () => {
  assert.ok(isLikelySparse({ blocks: 8, size: 64 * MiB }));
  assert.not.ok(isLikelySparse({ blocks: 8, size: 4096 }));
  assert.ok(isZeroBlock(new Uint8Array(200_000)));
  const b = new Uint8Array(200_000);
  b[150_000] = 1;
  assert.not.ok(isZeroBlock(b));
  assert.ok(isZeroBlock(new Uint8Array(0)));
});

test.run();
