/**
 * `store check`'s packs-against-the-index pass (pack-check.ts): a pack that agrees with the
 * index is passed on its digest (pack-digest.ts); one index entry that disagrees with its pack's
 * trailer in one field must still be found and named (INDEX_MISMATCH), whatever the field.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lmdb } from '../../lib/index/load-lmdb.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

/** Rewrites the index entry of the first chunk in key order with `field`'s bytes changed (offsets in formats/store.md §10). */
async function damageFirstEntry(store: string, at: number): Promise<void> {
  const env = lmdb().open({ path: join(store, 'index', 'index.mdb'), maxDbs: 8 });
  try {
    const chunks = env.openDB<Buffer, Buffer>({ name: 'chunks', keyEncoding: 'binary', encoding: 'binary' });
    for (const { key, value } of chunks.getRange({ limit: 1 })) {
      const v = Buffer.from(value);
      v[at] ^= 1;
      await chunks.put(Buffer.from(key), v);
    }
  } finally {
    await env.close();
  }
}

for (const [field, at] of [['offset', 4], ['stored length', 8], ['raw length', 12], ['codec', 16]] as const) {
  test(`an index entry whose ${field} disagrees with the pack trailer is reported`, async () => {
    const t = tempDir('pack-check-');
    try {
      const src = join(t.path, 'src');
      mkdirSync(src);
      for (let i = 0; i < 8; i++) writeFileSync(join(src, `f${i}.bin`), seededBytes(5000 + i, i + 1));
      const store = join(t.path, 'store');
      assert.is(fxcp(['snap', 'create', src, store]).code, 0);
      assert.is(fxcp(['store', 'check', store]).code, 0);
      await damageFirstEntry(store, at);
      const r = fxcp(['store', 'check', store]);
      assert.is(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /disagrees with the pack trailer/);
    } finally {
      t.cleanup();
    }
  });
}

test.run();
