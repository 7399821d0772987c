/**
 * Issue 18, D2: a valid stream that decompresses to more than 4 GiB imports, in bounded memory,
 * and reads back whole. Before the fix, such a .tar.zst (147 KB: one frame of 4.5 GiB of zeros)
 * was refused as "damaged or truncated" after 4.3 GB of RSS: the whole input buffer's output
 * did not fit one Node Buffer. The tar is made on the fly and piped into `fxcp snap import -`
 * (no disk space up front), and the zeros dedup to one chunk, so the store stays small. zstd
 * at level 1 because it is the fastest codec here both ways (4.5 GiB compressed in about 1.6 s
 * and imported in about 5 s on 2 cores); the other codecs decode through the same bounded
 * paths (tar-bomb.test.ts). Reading back: `snap export --format tar` to a pipe, parsed here,
 * so every chunk is loaded and verified without writing 4.5 GiB to disk.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readTar } from '../../lib/tar/tar-reader.js';
import { fxcpPeakRss, MiB } from '../helpers/peak-rss.js';
import { FXCP, tempDir } from '../helpers/run-cli.js';
import { compressed, tarPieces } from '../helpers/bomb-kit.js';

const SIZE = 4608 * MiB;
const BOUND = 300 * MiB;

test(`a zstd tar of one ${SIZE / MiB / 1024} GiB file imports from a pipe within ${BOUND / MiB} MiB and reads back whole`, async () => {
  const t = tempDir();
  try {
    const store = join(t.path, 'store');
    const input = compressed('zstd', tarPieces([{ name: 'big', zeros: SIZE }]), 1);
    const r = await fxcpPeakRss(['snap', 'import', '-', store, '--json'], { killAbove: 4 * BOUND, input });
    assert.not.ok(r.killed, `killed at ${(r.peakBytes / MiB).toFixed(0)} MiB`);
    assert.is(r.code, 0, r.stderr);
    assert.is((JSON.parse(r.stdout) as { bytes: number }).bytes, SIZE);
    assert.ok(r.peakBytes < BOUND, `peak RSS ${(r.peakBytes / MiB).toFixed(0)} MiB`);

    const exp = spawn(FXCP, ['snap', 'export', store, '--format', 'tar', '--latest'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    exp.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise<number>((resolve) => exp.on('close', (c) => resolve(c ?? -1)));
    const zero = Buffer.alloc(1 << 20);
    const files: Array<{ path: string; size: number; read: number; nonZero: number }> = [];
    for await (const e of readTar(exp.stdout)) {
      if (e.type !== 'file') { for await (const _ of e.data()) { /* none */ } continue; }
      const f = { path: e.path.toString(), size: e.size, read: 0, nonZero: 0 };
      for await (const p of e.data()) {
        f.read += p.length;
        if (!zero.subarray(0, p.length).equals(p)) f.nonZero++;
      }
      files.push(f);
    }
    assert.is(await exited, 0, stderr);
    assert.equal(files, [{ path: 'big', size: SIZE, read: SIZE, nonZero: 0 }]);
  } finally {
    t.cleanup();
  }
});

test.run();
