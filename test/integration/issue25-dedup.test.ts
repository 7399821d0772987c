/**
 * Issue 25: a chunk is stored once per store, whatever the concurrency. A tree of many
 * identical files (and identical chunks shared across different files), snapshotted by the real
 * CLI with more chunk workers than cores so that they race on the same new chunks, must leave
 * exactly one pack record per chunk id. Counted from the pack trailers themselves, not the
 * index (which keeps one entry per id whatever the packs hold).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withStore } from '../../lib/store/open-store.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

/** Pack records per chunk id (hex), over every pack file in the store. */
export async function recordsPerId(store: string): Promise<Map<string, number>> {
  return withStore(store, { lock: 'shared', command: 'test' }, async (s) => {
    const counts = new Map<string, number>();
    for await (const packId of s.storage.list('pack')) {
      for (const e of await s.packEntries(packId)) {
        const k = e.id.toString('hex');
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
    }
    return counts;
  });
}

/**
 * 12 distinct contents of 2 KiB to 400 KiB (one to several chunks), each copied 40 times over
 * 20 directories, plus files made of two contents back to back (their chunks are met in other
 * files too). Random bytes: every chunk is distinct unless the content repeats.
 */
export function identicalTree(root: string): void {
  const contents = Array.from({ length: 12 }, (_, i) => seededBytes(2048 + i * 35_000, 100 + i));
  for (let d = 0; d < 20; d++) {
    const dir = join(root, `d${d}`);
    mkdirSync(dir, { recursive: true });
    contents.forEach((c, i) => {
      writeFileSync(join(dir, `copy-${i}-a.bin`), c);
      writeFileSync(join(dir, `copy-${i}-b.bin`), c);
    });
    writeFileSync(join(dir, 'pair.bin'), Buffer.concat([contents[d % 12], contents[(d + 5) % 12]]));
  }
}

test('snapshot with racing workers: exactly one pack record per chunk id', async () => {
  const t = tempDir('issue25-dedup-');
  try {
    const src = join(t.path, 'src');
    const store = join(t.path, 'store');
    identicalTree(src);
    // Eight workers on this machine's cores: files with the same content run side by side.
    const r = fxcp(['snap', 'create', src, store], { env: { FOXING_WORKERS: '8' } });
    assert.is(r.code, 0, r.stderr);
    const counts = await recordsPerId(store);
    const dups = [...counts].filter(([, n]) => n > 1);
    assert.ok(counts.size > 12, `expected many distinct chunks, got ${counts.size}`);
    assert.equal(dups.length, 0, `${dups.length} of ${counts.size} chunk ids stored more than once`);
  } finally {
    t.cleanup();
  }
});

test.run();
