/** EntrySpill: a real temporary LMDB; puts visible at once, later puts win, key order, cleanup. */
import { existsSync, readdirSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EntrySpill } from '../../lib/index/entry-spill.js';
import { mulberry32 } from '../helpers/seeded.js';
import { tempDir } from '../helpers/run-cli.js';

test('puts across batch boundaries read back sorted, later values win, the directory goes on close', async () => {
  const t = tempDir();
  try {
    const spill = EntrySpill.open(t.path);
    const rnd = mulberry32(5);
    const keys = Array.from({ length: 10_000 }, (_, i) => Buffer.from(`k${String(i).padStart(5, '0')}`));
    for (let i = keys.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [keys[i], keys[j]] = [keys[j], keys[i]]; }
    for (const k of keys) {
      spill.put(k, Buffer.from('v1'));
      assert.is(spill.get(k)?.toString(), 'v1');
    }
    spill.put(Buffer.from('k00042'), Buffer.from('v2'));
    assert.is(spill.get(Buffer.from('k00042'))?.toString(), 'v2');
    assert.is(spill.get(Buffer.from('nope')), undefined);
    let prev: Buffer | null = null;
    let n = 0;
    for (const [k, v] of spill.entries()) {
      if (prev) assert.ok(Buffer.compare(prev, k) < 0);
      prev = Buffer.from(k);
      assert.is(v.toString(), k.toString() === 'k00042' ? 'v2' : 'v1');
      n++;
    }
    assert.is(n, 10_000);
    assert.is(readdirSync(t.path).length, 1);
    await spill.close();
    assert.equal(readdirSync(t.path), []);
    assert.ok(existsSync(t.path));
  } finally {
    t.cleanup();
  }
});

test.run();
