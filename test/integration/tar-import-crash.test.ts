/**
 * Crash safety of tar import on worker threads: `kill -9` at seeded moments of
 * `fxcp snap import FILE.tar[.zst]` (while the workers chunk and pack, while packs are sealed and
 * indexed, while trees are saved) leaves a store that checks clean and lists no snapshot
 * unless it restores; the next import then succeeds with the same tree as an import that
 * was never interrupted.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Compressor } from 'zstd-napi';
import { Store } from '../../lib/store/chunk-store.js';
import { directoryLocation } from '../../lib/store/store-location.js';
import { importTar } from '../../lib/tar/tar-import.js';
import { fxcp, fxcpAsync, fxcpJson, tempDir } from '../helpers/run-cli.js';
import { mulberry32 } from '../helpers/seeded.js';
import { seededTar } from '../tar/seeded-tar.js';

async function killAfter(args: string[], ms: number): Promise<number | null> {
  const child = fxcpAsync(args);
  child.stderr.resume();
  child.stdout.resume();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code) => { clearTimeout(timer); resolve(code); });
  });
}

async function treeOf(file: string, bytes: Buffer, storePath: string): Promise<string> {
  const store = await Store.open(directoryLocation(storePath), { create: true });
  try {
    const r = await importTar((async function* () { yield bytes; })(), store, { source: file, workers: 0, onWarn: () => {} });
    return r.record.tree;
  } finally {
    await store.close();
  }
}

for (const kind of ['tar', 'tar.zst'] as const) {
  test(`kill -9 during snap import of a .${kind} leaves a clean store and the next import works`, async () => {
    const t = tempDir();
    try {
      const tar = await seededTar(7, 3);
      let bytes = tar;
      if (kind === 'tar.zst') {
        const c = new Compressor();
        c.setParameters({ compressionLevel: 1 });
        bytes = c.compress(tar);
      }
      const file = join(t.path, `in.${kind}`), store = join(t.path, 'store');
      writeFileSync(file, bytes);
      const expected = await treeOf(file, tar, join(t.path, 'reference'));
      // The store exists first: the kills are to land in the import, not in creating a store.
      await (await Store.open(directoryLocation(store), { create: true })).close();
      const r = mulberry32(kind === 'tar' ? 21 : 22);
      for (let round = 0; round < 5; round++) {
        const delay = 80 + Math.floor(r() * 800);
        const code = await killAfter(['snap', 'import', file, store], delay);
        const check = fxcp(['store', 'check', store]);
        assert.is(check.code, 0, `round ${round} (killed after ${delay} ms, exit ${code}): ${check.stdout}${check.stderr}`);
        const listed = fxcpJson(['snap', 'list', store]).snapshots as Array<{ id: string; tree: string }>;
        // A record is written last: one listed now is complete (the kill came while closing).
        for (const s of listed) assert.is(s.tree, expected, `round ${round}: listed snapshot ${s.id} has another tree`);
      }
      const done = fxcp(['snap', 'import', file, store]);
      assert.is(done.code, 1, done.stderr); // one member is skipped by design: partial
      const check = fxcp(['store', 'check', store, '--read-data']);
      assert.is(check.code, 0, check.stdout + check.stderr);
      const trees = (fxcpJson(['snap', 'list', store]).snapshots as Array<{ tree: string }>).map((s) => s.tree);
      assert.ok(trees.length >= 1 && trees.every((x) => x === expected), trees.join(' '));
      // The killed runs' temporary packs are gone (the last import cleans them up).
      assert.equal(readdirSync(join(store, 'tmp')), []);
    } finally {
      t.cleanup();
    }
  });
}

test.run();
