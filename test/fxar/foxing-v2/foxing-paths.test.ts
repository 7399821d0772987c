/** Manifest paths to safe snapshots (lib/fxar/foxing-v2/foxing-paths.ts): refusals, order, times. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FoxingFile } from '../../../lib/fxar/foxing-v2/foxing-manifest.js';
import { groupSnapshots, snapshotTime, splitManifestPath } from '../../../lib/fxar/foxing-v2/foxing-paths.js';

const f = (path: string, size = 1): FoxingFile => ({ path, size, mode: 0o100644, mtime: 0, uid: 0, gid: 0, blake3: Buffer.alloc(32), chunks: [], xattrs: [] });

test('paths that could escape, or are not <snapshot>/tree/<path>, are refused with the reason', () => {
  const refused: Array<[string, RegExp]> = [
    ['/etc/passwd', /absolute/],
    ['s/tree/../../x', /'\.\.'/],
    ['s/tree/a/../../../x', /'\.\.'/],
    ['../s/tree/x', /'\.\.'/],
    ['s/tree/./x', /'\.'/],
    ['s/tree//x', /empty component/],
    ['s/tree/x/', /empty component/],
    ['s/tree/a\0b', /NUL/],
    [`s/tree/${'x'.repeat(256)}`, /longer than 255 bytes/],
    ['s/files/x', /not of the form/],
    ['s/tree', /not of the form/],
    ['x', /not of the form/],
  ];
  for (const [p, why] of refused) {
    const r = splitManifestPath(p);
    assert.ok('why' in r, p);
    assert.match((r as { why: string }).why, why, p);
  }
  assert.equal(splitManifestPath('s/tree/a b/ü..x/.hidden'), { snapshot: 's', parts: ['a b', 'ü..x', '.hidden'] });
});

test('grouping: snapshots in list order then by first path; entries in byte order; refusals reported', () => {
  const m = {
    version: 2, created: '2026-05-01T10:00:00+00:00', snapshots: ['2026-03-12T084500', 'empty-one'],
    files: [f('later/tree/z'), f('2026-03-12T084500/tree/b/c'), f('2026-03-12T084500/tree/B'), f('/abs'), f('2026-03-12T084500/tree/a')],
  };
  const { snapshots, problems } = groupSnapshots(m);
  assert.equal(snapshots.map((s) => s.name), ['2026-03-12T084500', 'empty-one', 'later']);
  assert.equal(snapshots[0].entries.map((e) => e.rel), ['B', 'a', 'b/c']);
  assert.is(snapshots[0].time, '2026-03-12T08:45:00.000Z');
  assert.is(snapshots[2].time, '2026-05-01T10:00:00.000Z', 'from created when the name is no time');
  assert.equal(problems.map((p) => p.path), ['/abs']);
});

test('listed snapshot names that are no valid directory name are ignored, reported', () => {
  const { snapshots, problems } = groupSnapshots({ version: 2, created: '', snapshots: ['a/b', '..', '', 'ok'], files: [f('ok/tree/x')] });
  assert.equal(snapshots.map((s) => s.name), ['ok']);
  assert.equal(problems.map((p) => p.path), ['a/b', '..', '']);
});

test('a path listed twice keeps the later entry; a file that is also a directory is left out', () => {
  const a = f('s/tree/dup', 1), b = f('s/tree/dup', 2);
  const { snapshots, problems } = groupSnapshots({ version: 2, created: '', snapshots: [], files: [a, f('s/tree/d'), f('s/tree/d/inner'), b, f('s/tree/d.txt')] });
  assert.equal(snapshots[0].entries.map((e) => [e.rel, e.file.size]), [['d/inner', 1], ['d.txt', 1], ['dup', 2]]);
  assert.equal(problems.map((p) => [p.path, /later entry|also a directory/.test(p.why)]), [['s/tree/d', true], ['s/tree/dup', true]]);
});

test('snapshot times: names read as UTC; impossible dates fall back to created, then the epoch', () => {
  assert.is(snapshotTime('2026-03-12T084500', ''), '2026-03-12T08:45:00.000Z');
  assert.is(snapshotTime('2026-02-30T084500', '2026-01-01T00:00:00+02:00'), '2025-12-31T22:00:00.000Z');
  assert.is(snapshotTime('whatever', 'nonsense'), '1970-01-01T00:00:00.000Z');
});

test.run();
