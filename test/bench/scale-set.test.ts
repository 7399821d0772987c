// The scale set (lib/bench/scale-set.ts): seeded, sized as the issue says, no two files equal,
// and a kept tree is extended, cut back and put back after its 1 % change, file for file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyScaleChange, SCALE_DIRS, scaleFileBytes, scaleFileRel, scaleTree } from '../../lib/bench/scale-set.js';

test('files are 100 to 4,000 bytes, seeded, each unlike the others, spread over the directories', () => {
  const heads = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const b = scaleFileBytes(i);
    assert.ok(b.length >= 100 && b.length <= 4000, `file ${i}: ${b.length} bytes`);
    assert.ok(b.equals(scaleFileBytes(i)), 'the same bytes every time');
    heads.add(b.toString('latin1'));
  }
  assert.is(heads.size, 2000);
  assert.is.not(scaleFileRel(0).split('/').slice(0, 2).join('/'), scaleFileRel(1).split('/').slice(0, 2).join('/'));
  assert.is(scaleFileRel(0).split('/').slice(0, 2).join('/'), scaleFileRel(SCALE_DIRS).split('/').slice(0, 2).join('/'));
});

test('a kept tree is extended, cut back, and put back after its change', () => {
  // 10,000 directories and 12,000 files: in memory where there is a tmpfs, not on the disk.
  const root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'fx-scale-'));
  try {
    const count = () => readdirSync(root, { recursive: true }).filter((p) => String(p).endsWith('.txt')).length;
    scaleTree(root, 10_500, () => {});
    assert.is(count(), 10_500);
    const changed = applyScaleChange(root, 10_500);
    assert.ok(changed > 0);
    assert.not.ok(readFileSync(join(root, scaleFileRel(3))).equals(scaleFileBytes(3)), 'file 3 changed');
    scaleTree(root, 12_000, () => {});
    assert.is(count(), 12_000);
    assert.ok(readFileSync(join(root, scaleFileRel(3))).equals(scaleFileBytes(3)), 'file 3 put back');
    applyScaleChange(root, 12_000);
    scaleTree(root, 10_000, () => {});
    assert.is(count(), 10_000);
    for (const i of [0, 50, 119, 9_999]) assert.ok(readFileSync(join(root, scaleFileRel(i))).equals(scaleFileBytes(i)), `file ${i} as made`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
