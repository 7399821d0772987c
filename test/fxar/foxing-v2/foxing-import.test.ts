/**
 * Importing a Foxing archive into a real store (lib/fxar/foxing-v2/foxing-import.ts): one
 * snapshot per Foxing snapshot, in order and with their times; files re-chunked by the store's
 * chunker, restorable byte for byte; the dedup figure against the store; a second import adds
 * nothing; a damaged file is left out with a warning while its snapshot is still recorded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { importFoxing } from '../../../lib/fxar/foxing-v2/foxing-import.js';
import { listSnapshots } from '../../../lib/snapshot/snapshot-catalogue.js';
import { restore } from '../../../lib/snapshot/restorer.js';
import { Store } from '../../../lib/store/chunk-store.js';
import { directoryLocation } from '../../../lib/store/store-location.js';
import { SNAP_A, SNAP_B } from '../../../fixtures/foxing-v2/foxing-spec.js';
import { tempDir } from '../../helpers/run-cli.js';
import { edited, expectedContent, fixture, open } from './helpers.js';

test('each Foxing snapshot becomes one snapshot, in order, with its time; files restore byte for byte', async () => {
  const t = tempDir();
  const store = await Store.open(directoryLocation(join(t.path, 'store')), { create: true });
  try {
    const warnings: string[] = [];
    const r = await importFoxing(await open(fixture('xz-labelled-zstd-streamed.fxar')), store, { source: 'a.fxar', onWarn: (c, m) => warnings.push(`${c} ${m}`) });
    assert.equal(warnings, []);
    assert.equal(r.snapshots.map((s) => [s.name, s.time, s.added, s.files]), [[SNAP_A, '2026-03-12T08:45:00.000Z', true, 5], [SNAP_B, '2026-03-13T09:00:00.000Z', true, 4]]);
    const listed = listSnapshots(store);
    assert.equal(listed.map((s) => s.id), r.snapshots.map((s) => s.id));
    assert.equal(listed[0].record.tags, ['foxing']);
    assert.is(listed[0].record.source, 'a.fxar');
    const want = expectedContent();
    for (const [i, name] of [SNAP_A, SNAP_B].entries()) {
      const out = join(t.path, `r${i}`);
      const res = await restore(store, listed[i].record, { target: out, onWarn: () => {} });
      assert.equal(res.problems, []);
      for (const [path, data] of want) {
        if (!path.startsWith(`${name}/`)) continue;
        assert.ok(readFileSync(join(out, path.slice(name.length + 6))).equals(data), path);
      }
    }
    // The second snapshot's readme is the first's: all of it deduplicated, within the import.
    assert.is(r.bytes, [...want.values()].reduce((n, d) => n + d.length, 0));
    assert.is(r.dedupBytes, r.bytes - r.newBytes);
    assert.ok(r.dedupBytes >= 16200 && r.dedupBytes < r.bytes, `dedup ${r.dedupBytes}`);
  } finally {
    await store.close();
    t.cleanup();
  }
});

test('a second import (another codec, same files) stores nothing new; the same archive is not recorded twice', async () => {
  const t = tempDir();
  const store = await Store.open(directoryLocation(join(t.path, 'store')), { create: true });
  try {
    const a = await importFoxing(await open(fixture('gzip.fxar')), store, { source: 'g.fxar', onWarn: () => {} });
    assert.ok(a.newBytes > 0);
    const b = await importFoxing(await open(fixture('lz4.fxar')), store, { source: 'l.fxar', onWarn: () => {} });
    assert.is(b.newBytes, 0);
    assert.is(b.dedupBytes, b.bytes, 'every byte deduplicated against the store');
    assert.equal(b.snapshots.map((s) => s.added), [true, true], 'another source: new snapshots');
    const c = await importFoxing(await open(fixture('gzip.fxar')), store, { source: 'g.fxar', onWarn: () => {} });
    assert.equal(c.snapshots.map((s) => s.added), [false, false]);
    assert.equal(c.snapshots.map((s) => s.id), a.snapshots.map((s) => s.id));
    assert.is(listSnapshots(store).length, 4);
  } finally {
    await store.close();
    t.cleanup();
  }
});

test('a damaged file is left out with FOXING_DAMAGED_FILE; refused paths with FOXING_PATH; the rest is recorded', async () => {
  const t = tempDir();
  const store = await Store.open(directoryLocation(join(t.path, 'store')), { create: true });
  try {
    const b = fixture('none.fxar');
    const r0 = await open(b);
    const f = r0.manifest.files.find((x) => x.path === `${SNAP_B}/tree/deep/a/b/c.txt`)!;
    const bad = edited(b, (c) => { c[r0.entry(f.chunks[0]).offset] ^= 1; });
    const warnings: string[] = [];
    const r = await importFoxing(await open(bad, 'bad.fxar'), store, { source: 'bad.fxar', onWarn: (c) => warnings.push(c) });
    assert.equal(warnings, ['FOXING_DAMAGED_FILE']);
    assert.is(r.skipped, 1);
    assert.equal(r.snapshots.map((s) => s.files), [5, 3]);
    const u: string[] = [];
    const r2 = await importFoxing(await open(fixture('unsafe-paths.fxar')), store, { source: 'u.fxar', onWarn: (c) => u.push(c) });
    assert.equal(u, ['FOXING_PATH', 'FOXING_PATH', 'FOXING_PATH', 'FOXING_PATH']);
    assert.equal(r2.snapshots.map((s) => s.files), [1]);
  } finally {
    await store.close();
    t.cleanup();
  }
});

test.run();
