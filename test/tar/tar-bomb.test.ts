/**
 * Issue 18, D2: a small compressed tar that expands enormously (a bomb: 256 MiB of zeros as
 * one compressed stream, test/helpers/bomb-kit.ts) is imported in bounded memory, for every
 * codec and on both decoding paths: a small input is decoded on the importing thread, one over
 * OFF_THREAD_FROM (a first member of incompressible bytes makes it so) on the decompression
 * worker. The real CLI runs in a child process; its peak RSS (getrusage: native buffers and
 * threads count) must stay under BOUND. Before the fix a 33 KB .tar.zst of 1 GiB took 2.2 GB,
 * the .xz form 3 GB: zstd's and xz's Node transforms decoded each input buffer whole.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OFF_THREAD_FROM } from '../../lib/tar/tar-decompress.js';
import { fxcpPeakRss, MiB } from '../helpers/peak-rss.js';
import { tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';
import { BOMB_KINDS, bombTar, cannotMake } from '../helpers/bomb-kit.js';

const ZEROS = 256 * MiB;
/**
 * The import's own working set (chunk workers, packs, index) measured about 110-170 MB with
 * any codec, and a decoder may add its window (xz -6: 8 MiB; at most 128 MiB by the limits).
 */
const BOUND = 300 * MiB;

for (const kind of BOMB_KINDS) {
  for (const path of ['this thread', 'the worker'] as const) {
    test(`a ${kind} bomb (${ZEROS / MiB} MiB of zeros) imports within ${BOUND / MiB} MiB, decoded on ${path}`, async () => {
      const why = cannotMake(kind);
      if (why) { console.log(`  skipped: ${why}`); return; }
      const t = tempDir();
      try {
        const prefix = path === 'the worker' ? [{ name: 'noise', data: seededBytes(OFF_THREAD_FROM + MiB, 18) }] : [];
        const bomb = await bombTar(kind, [...prefix, { name: 'zeros', zeros: ZEROS }]);
        if (path === 'this thread') assert.ok(bomb.length < OFF_THREAD_FROM, `${bomb.length} bytes`);
        else assert.ok(bomb.length > OFF_THREAD_FROM, `${bomb.length} bytes`);
        const file = join(t.path, `bomb.tar.${kind}`);
        writeFileSync(file, bomb);
        const r = await fxcpPeakRss(['snap', 'import', file, join(t.path, 'store'), '--json'], { killAbove: 4 * BOUND });
        assert.not.ok(r.killed, `killed at ${(r.peakBytes / MiB).toFixed(0)} MiB`);
        assert.is(r.code, 0, r.stderr);
        const out = JSON.parse(r.stdout) as { bytes: number; compression: string };
        assert.is(out.compression, kind);
        assert.is(out.bytes, ZEROS + (prefix[0]?.data.length ?? 0));
        assert.ok(r.peakBytes < BOUND, `peak RSS ${(r.peakBytes / MiB).toFixed(0)} MiB (bomb of ${bomb.length} bytes)`);
      } finally {
        t.cleanup();
      }
    });
  }
}

test.run();
