/**
 * `fxcp snap stats` and `fxcp snap diff` through the real binary: text and JSON output, snapshot
 * selection, exit codes, and a store that lost a pack (stats names the missing chunks and exits
 * 1; diff, which reads no file data, still works).
 */
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listSnapshots } from '../../lib/snapshot/snapshot-catalogue.js';
import { loadTree } from '../../lib/snapshot/tree-store.js';
import { withStore } from '../../lib/store/open-store.js';
import { fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

function twoSnapshots(root: string): { src: string; store: string; a: string; b: string } {
  const src = join(root, 'src'), store = join(root, 'store');
  mkdirSync(join(src, 'docs'), { recursive: true });
  writeFileSync(join(src, 'docs/guide.txt'), 'guide\n'.repeat(500));
  writeFileSync(join(src, 'data.bin'), seededBytes(300_000, 5));
  writeFileSync(join(src, 'old.txt'), 'old');
  const a = fxcpJson(['snap', 'create', src, store]).snapshot.id as string;
  writeFileSync(join(src, 'docs/guide.txt'), 'guide v2\n'.repeat(500));
  rmSync(join(src, 'old.txt'));
  mkdirSync(join(src, 'new'));
  writeFileSync(join(src, 'new/n.txt'), 'n');
  const b = fxcpJson(['snap', 'create', src, store]).snapshot.id as string;
  return { src, store, a, b };
}

test('snap diff: text lines, JSON Lines with a summary, latest and id prefixes', () => {
  const t = tempDir();
  try {
    const { store, a, b } = twoSnapshots(t.path);
    const r = fxcp(['snap', 'diff', store, a.slice(0, 8), 'latest']);
    assert.is(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.slice(0, -1), [
      'M . (mtime)',
      'M docs/guide.txt (content, mtime)',
      '+ new/',
      '+ new/n.txt',
      '- old.txt',
    ]);
    assert.match(lines[lines.length - 1], new RegExp(`^${a.slice(0, 12)} → ${b.slice(0, 12)}: 2 added \\(1 B\\), 1 removed \\(3 B\\), 2 modified$`));

    const j = fxcp(['snap', 'diff', store, a, b, '--json']);
    assert.is(j.code, 0, j.stderr);
    const docs = j.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(docs[1], { path: 'docs/guide.txt', kind: 'modified', type: 'file', what: ['content', 'mtime'], size: 4500 });
    assert.equal(docs[docs.length - 1], { summary: { from: a, to: b, added: 2, removed: 1, modified: 2, addedBytes: 1, removedBytes: 3 } });

    const same = fxcp(['snap', 'diff', store, b, 'latest']);
    assert.is(same.code, 0);
    assert.match(same.stdout, /0 added \(0 B\), 0 removed \(0 B\), 0 modified/);
  } finally { t.cleanup(); }
});

test('snap diff: unknown snapshot and missing arguments fail with exit 2', () => {
  const t = tempDir();
  try {
    const { store, a } = twoSnapshots(t.path);
    const r = fxcp(['snap', 'diff', store, a, 'ffffffffffff', '--json']);
    assert.is(r.code, 2);
    assert.is(JSON.parse(r.stderr).code, 'NO_SNAPSHOT');
    assert.match(r.stderr, /no snapshot with id 'ffffffffffff'/);
    const u = fxcp(['snap', 'diff', store, a]);
    assert.is(u.code, 2);
    assert.match(u.stderr, /missing B/);
    const none = fxcp(['snap', 'diff', join(t.path, 'nowhere'), a, a]);
    assert.is(none.code, 2);
  } finally { t.cleanup(); }
});

test('snap stats: JSON document and table', () => {
  const t = tempDir();
  try {
    const { store, a, b } = twoSnapshots(t.path);
    const doc = fxcpJson(['snap', 'stats', store]);
    assert.equal(doc.snapshots.map((s: any) => s.id), [a, b]);
    const [sa, sb] = doc.snapshots;
    assert.is(sa.files, 3);
    assert.is(sa.apparentBytes, 3000 + 300_000 + 3);
    // data.bin is in both: neither snapshot frees it alone; old guide.txt and old.txt are a's alone.
    assert.ok(sa.unique.rawBytes >= 3003 && sa.unique.rawBytes < 300_000, JSON.stringify(sa.unique));
    assert.ok(sb.unique.rawBytes >= 4501 && sb.unique.rawBytes < 300_000, JSON.stringify(sb.unique));
    assert.ok(doc.total.referenced.rawBytes < sa.referenced.rawBytes + sb.referenced.rawBytes, 'shared chunks counted once in total');
    assert.is(doc.total.missingChunks, 0);
    assert.equal(doc.total.unreferenced, { chunks: 0, rawBytes: 0, storedBytes: 0 });
    const storeStats = fxcpJson(['store', 'stats', store]);
    assert.is(doc.total.referenced.chunks, storeStats.chunks, 'every chunk in the store is referenced');

    const r = fxcp(['snap', 'stats', store]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ID\s+TIME\s+FILES\s+APPARENT\s+REFERENCED\s+STORED\s+SAVED\s+UNIQUE STORED$/m);
    assert.match(r.stdout, new RegExp(`^${a.slice(0, 12)} `, 'm'));
    assert.match(r.stdout, /^total\s+2 snapshots/m);
    assert.match(r.stdout, /^data chunk sizes \(raw\):$/m);
  } finally { t.cleanup(); }
});

test('a lost data pack: stats names the missing chunks and exits 1, diff still works', async () => {
  const t = tempDir();
  try {
    const { store, a, b } = twoSnapshots(t.path);
    // The pack holding data.bin's first chunk (data packs hold file data only; trees go elsewhere).
    const packPath = await withStore(store, { lock: 'none', command: 'test' }, async (s) => {
      const [root] = await loadTree(s, Buffer.from(listSnapshots(s)[0].record.tree, 'hex'));
      const data = (await loadTree(s, root.subtree!)).find((e) => e.name.toString() === 'data.bin')!;
      return s.storage.describe('pack', s.locate(data.chunks![0].id).packId);
    });
    unlinkSync(packPath);
    const rebuilt = fxcp(['store', 'rebuild-index', store]);
    assert.is(rebuilt.code, 0, rebuilt.stderr);
    const r = fxcp(['snap', 'stats', store, '--json']);
    assert.is(r.code, 1, r.stderr);
    const warnings = r.stderr.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.ok(warnings.length > 0 && warnings.every((w) => w.warning === 'CHUNK_MISSING' && /\(file data\)/.test(w.message)), r.stderr);
    assert.is(JSON.parse(r.stdout).total.missingChunks, warnings.length);
    const d = fxcp(['snap', 'diff', store, a, b]);
    assert.is(d.code, 0, d.stderr);
  } finally { t.cleanup(); }
});

test('help lists both commands', () => {
  const r = fxcp(['snap', '--help']);
  assert.match(r.stdout, /snap stats/);
  assert.match(r.stdout, /snap diff/);
});

test.run();
