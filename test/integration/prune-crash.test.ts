/**
 * kill -9 of prune and gc at every named step (FOXING_TEST_KILL_AT, a test-only hook: see
 * lib/util/kill-point.ts): afterwards `store check` passes, every kept snapshot is listed and
 * restores exactly, and a rerun of prune completes with a store that checks clean with
 * --read-data.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seededBytes } from '../helpers/seeded.js';
import { compareTrees } from '../helpers/tree-compare.js';
import { fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';

const POINTS = ['prune:after-first-record', 'prune:after-forget', 'gc:after-mark', 'gc:after-repack-write', 'gc:after-index', 'gc:after-delete'];
const PRUNE = ['--keep-last', '2', '--repack-threshold', '0%'];

test('kill -9 of prune at each step leaves a store that checks and restores', () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), base = join(t.path, 'base');
    mkdirSync(join(src, 'd'), { recursive: true });
    writeFileSync(join(src, 'shared.bin'), seededBytes(600_000, 1));
    const ids: string[] = [], golden: string[] = [];
    for (let i = 0; i < 4; i++) {
      // Small files share packs with the next snapshot's: removing old snapshots leaves packs
      // partly garbage, so gc repacks (and every kill point is reached).
      for (let j = 0; j < 8; j++) writeFileSync(join(src, 'd', `f${j}`), seededBytes(5_000 + j * 1000, i * 10 + j + (j < 4 ? 0 : 1000 * i)));
      writeFileSync(join(src, `gen.bin`), seededBytes(400_000, 50 + i));
      ids.push(fxcpJson(['snap', 'create', src, base]).snapshot.id);
      const g = join(t.path, `golden${i}`);
      spawnSync('cp', ['-a', src, g]);
      golden.push(g);
    }
    const kept = [2, 3];
    for (const point of POINTS) {
      const store = join(t.path, `store-${point.replace(':', '-')}`);
      spawnSync('cp', ['-a', base, store]);
      const killed = fxcp(['snap', 'prune', store, ...PRUNE], { env: { FOXING_TEST_KILL_AT: point } });
      assert.is(killed.code, -1, `${point}: prune was not killed (exit ${killed.code}): ${killed.stderr}`);
      const check = fxcp(['store', 'check', store, '--read-data']);
      assert.is(check.code, 0, `${point}: check after the kill: ${check.stdout}${check.stderr}`);
      const listed = fxcpJson(['snap', 'list', store]).snapshots.map((s: { id: string }) => s.id);
      for (const k of kept) {
        assert.ok(listed.includes(ids[k]), `${point}: kept snapshot ${k} lost`);
        const out = join(t.path, `out-${k}`);
        const r = fxcp(['snap', 'restore', store, '-o', out, '--snapshot', ids[k]]);
        assert.is(r.code, 0, `${point}: restore ${k}: ${r.stderr}`);
        assert.equal(compareTrees(golden[k], out, { rootMeta: false }), [], `${point}: snapshot ${k} differs`);
        spawnSync('rm', ['-rf', out]);
      }
      const rerun = fxcp(['snap', 'prune', store, ...PRUNE, '--json']);
      assert.is(rerun.code, 0, `${point}: rerun: ${rerun.stderr}`);
      assert.equal(fxcpJson(['snap', 'list', store]).snapshots.map((s: { id: string }) => s.id).sort(), kept.map((k) => ids[k]).sort());
      const after = fxcp(['store', 'check', store, '--read-data', '--json']);
      assert.is(after.code, 0, `${point}: check after rerun: ${after.stdout}`);
      assert.is(JSON.parse(after.stdout).unindexedPacks, 0, `${point}: rerun left unindexed packs`);
      spawnSync('rm', ['-rf', store]);
    }
  } finally {
    t.cleanup();
  }
});

test.run();
