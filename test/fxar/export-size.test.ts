/**
 * The export's two pre-flight figures against the archive it writes: exportSize's walk is a
 * floor (bundled small chunks count their share of a bundle, and the archive holds them
 * compressed one by one), exportSizeBound needs no walk and is never less than the archive.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exportSize, exportSizeBound } from '../../lib/fxar/export-archive.js';
import { listSnapshots } from '../../lib/snapshot/snapshot-catalogue.js';
import { withStore } from '../../lib/store/index.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir('fxar-size-');
test.after(() => t.cleanup());

test('floor ≤ archive ≤ bound, on small text files (bundled), random bytes and a second snapshot', () => {
  const src = join(t.path, 'src'), store = join(t.path, 'store'), archive = join(t.path, 'a.fxar');
  mkdirSync(join(src, 'text'), { recursive: true });
  for (let i = 0; i < 400; i++) writeFileSync(join(src, 'text', `f${i}.txt`), `line ${i} of a small text file\n`.repeat(10 + (i % 60)));
  writeFileSync(join(src, 'random.bin'), seededBytes(300_000, 5));
  assert.is(fxcp(['snap', 'create', src, store]).code, 0);
  writeFileSync(join(src, 'text', 'new.txt'), 'another\n'.repeat(100));
  assert.is(fxcp(['snap', 'create', src, store]).code, 0);
  const e = fxcp(['snap', 'export', store, '-o', archive]);
  assert.is(e.code, 0, e.stderr);
  const actual = statSync(archive).size;
  return withStore(store, { lock: 'shared', access: 'read', command: 'test' }, async (s) => {
    const snaps = listSnapshots(s);
    const floor = (await exportSize(s, snaps)).bytes;
    const bound = exportSizeBound(s, snaps);
    assert.ok(floor <= actual, `floor ${floor} ≤ archive ${actual}`);
    assert.ok(actual <= bound, `archive ${actual} ≤ bound ${bound}`);
    assert.ok(floor > actual / 2, `the floor is near: ${floor} for ${actual}`);
  });
});

test.run();
