/**
 * A store that lost a pack is healed by the next snapshot (issue 18, D1): the rule is that no
 * snapshot is recorded unless every chunk it references is in the store. The next snapshot
 * checks the chunk lists it reuses from its parent (taken before the loss) and reads again
 * every file whose chunks are gone, so it restores exactly; the one after it is fast again.
 * Both ways of losing a pack are covered: with the index rebuilt after the loss (the chunks are
 * not indexed) and with a stale index (indexed, but their pack is gone), with and without
 * --force-rehash.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seededBytes } from '../helpers/seeded.js';
import { compareTrees } from '../helpers/tree-compare.js';
import { fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';

function packs(store: string): string[] {
  const out: string[] = [];
  for (const fan of readdirSync(join(store, 'packs'))) for (const f of readdirSync(join(store, 'packs', fan))) out.push(join(store, 'packs', fan, f));
  return out;
}

/** Files in nested directories (so unchanged directories could be skipped on their memos). */
function makeSource(root: string): string {
  const src = join(root, 'src');
  for (let d = 0; d < 4; d++) {
    mkdirSync(join(src, `d${d}`, 'deep'), { recursive: true });
    for (let i = 0; i < 5; i++) writeFileSync(join(src, `d${d}`, 'deep', `f${i}.bin`), seededBytes(150_000 + i * 1000, d * 10 + i + 1));
    writeFileSync(join(src, `d${d}`, 'note.txt'), `directory ${d}\n`);
  }
  return src;
}

/** Removes the largest data pack, as a lost disk sector or a careless `rm` would. */
function losePack(store: string): void {
  const biggest = packs(store).sort((a, b) => statSync(b).size - statSync(a).size)[0];
  rmSync(biggest);
}

function snapshot(src: string, store: string, extra: string[] = []): { id: string; stats: Record<string, number>; stderr: string } {
  const r = fxcp(['snap', 'create', src, store, '--json', ...extra]);
  assert.is(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  return { id: doc.snapshot.id, stats: doc.snapshot.stats, stderr: r.stderr };
}

function restoresExactly(src: string, store: string, out: string): void {
  const r = fxcp(['snap', 'restore', store, '--latest', '-o', out]);
  assert.is(r.code, 0, `restore after the healing snapshot: ${r.stderr}`);
  assert.equal(compareTrees(src, join(out)), [], 'restored tree equals the source');
}

for (const variant of ['rebuilt index', 'stale index', 'stale index, --force-rehash'] as const) {
  test(`after a lost pack (${variant}) the next snapshot stores the lost chunks again and restores exactly`, () => {
    const t = tempDir();
    try {
      const src = makeSource(t.path);
      const store = join(t.path, 'store');
      snapshot(src, store);
      losePack(store);
      if (variant === 'rebuilt index') assert.is(fxcp(['store', 'rebuild-index', store]).code, 0);
      const healed = snapshot(src, store, variant.endsWith('--force-rehash') ? ['--force-rehash'] : []);
      assert.ok(healed.stats.readBytes > 0, 'the files whose chunks were lost are read again');
      if (variant !== 'rebuilt index') assert.match(healed.stderr, /pack is missing/);
      restoresExactly(src, store, join(t.path, 'out'));
      const check = fxcp(['store', 'check', store, '--read-data']);
      // The first snapshot still lacks nothing: its chunks were stored again with the same ids.
      assert.is(check.code, 0, check.stdout + check.stderr);
      // Back in step: the next unchanged snapshot reads nothing and skips on memos again.
      const next = snapshot(src, store);
      assert.is(next.stats.readBytes, 0);
      assert.is(next.stats.reusedFiles, next.stats.files);
    } finally {
      t.cleanup();
    }
  });
}

test('a snapshot of an unchanged source with no loss reads nothing and checks no chunk list', () => {
  const t = tempDir();
  try {
    const src = makeSource(t.path);
    const store = join(t.path, 'store');
    snapshot(src, store);
    const again = snapshot(src, store);
    assert.is(again.stats.readBytes, 0);
    assert.not.match(again.stderr, /read again/);
  } finally {
    t.cleanup();
  }
});

test('a tar import into a store with a stale index stores chunks whose pack is gone', () => {
  const t = tempDir();
  try {
    const src = makeSource(t.path);
    const store = join(t.path, 'store');
    snapshot(src, store);
    const tarFile = join(t.path, 'src.tar');
    assert.is(fxcp(['snap', 'export', store, '--latest', '-o', tarFile]).code, 0);
    losePack(store);
    const imp = fxcp(['snap', 'import', tarFile, store]);
    assert.is(imp.code, 0, imp.stderr);
    restoresExactly(src, store, join(t.path, 'out'));
  } finally {
    t.cleanup();
  }
});

test('an FXAR import into a store with a stale index stores chunks whose pack is gone', () => {
  const t = tempDir();
  try {
    const src = makeSource(t.path);
    const store = join(t.path, 'store');
    const other = join(t.path, 'other');
    snapshot(src, store);
    const archive = join(t.path, 'all.fxar');
    assert.is(fxcp(['snap', 'export', store, '-o', archive]).code, 0);
    // The same data in a second store, which then loses a pack; the archive brings it back.
    assert.is(fxcp(['snap', 'import', archive, other]).code, 0);
    losePack(other);
    const imp = fxcpJson(['snap', 'import', archive, other]);
    assert.ok(imp.newChunks > 0, 'chunks of the lost pack are stored again, not skipped as present');
    restoresExactly(src, other, join(t.path, 'out'));
  } finally {
    t.cleanup();
  }
});

test.run();
