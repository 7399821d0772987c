/**
 * Crash safety: `kill -9` at any moment of `snap create` leaves a store that opens, lists only
 * complete snapshots, restores every earlier snapshot exactly, and takes the next snapshot.
 * The kill points are spread over the run (seeded delays), so they land in walking, chunking,
 * pack sealing and index commits.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareTrees } from '../helpers/tree-compare.js';
import { fxcp, fxcpAsync, fxcpJson, tempDir } from '../helpers/run-cli.js';

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => { x = (x + 0x6d2b79f5) >>> 0; let t = Math.imul(x ^ (x >>> 15), 1 | x); t ^= t + Math.imul(t ^ (t >>> 7), 61 | t); return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32; };
}

let pool: Buffer | null = null;

/** Files of seeded pseudo-random bytes (slices of one 4 MiB seeded block, so they chunk and dedup like real data). */
function fill(dir: string, r: () => number, files: number, maxSize: number): void {
  if (!pool) {
    pool = Buffer.alloc(4 << 20);
    for (let j = 0; j < pool.length; j += 4) pool.writeUInt32LE((r() * 2 ** 32) >>> 0, j);
  }
  for (let i = 0; i < files; i++) {
    const d = join(dir, `d${i % 7}`, `e${i % 3}`);
    mkdirSync(d, { recursive: true });
    const n = Math.floor(r() * maxSize);
    const at = Math.floor(r() * (pool.length - n));
    const b = Buffer.from(pool.subarray(at, at + n));
    if (n > 0) b[0] = i & 0xff;
    writeFileSync(join(d, `f${i}.bin`), b);
  }
}

async function killAfter(args: string[], ms: number): Promise<number | null> {
  const child = fxcpAsync(args);
  child.stderr.resume();
  child.stdout.resume();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code) => { clearTimeout(timer); resolve(code); });
  });
}

test('kill -9 during snap create never breaks the store or earlier snapshots', async () => {
  const t = tempDir();
  try {
    const r = rng(42);
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    fill(src, r, 60, 600_000);
    const first = fxcpJson(['snap', 'create', src, store]);
    const golden = join(t.path, 'golden');
    spawnSync('cp', ['-a', src, golden]);
    const completed = [first.snapshot.id];
    for (let round = 0; round < 6; round++) {
      // New data each round so that every run has real work to be killed in.
      fill(join(src, `round${round}`), r, 25, 900_000);
      const delay = 80 + Math.floor(r() * 900);
      const code = await killAfter(['snap', 'create', src, store, '--json'], delay);
      const list = fxcp(['snap', 'list', store, '--json']);
      assert.is(list.code, 0, `round ${round} (killed after ${delay} ms): list failed: ${list.stderr}`);
      const ids: string[] = JSON.parse(list.stdout).snapshots.map((s: { id: string }) => s.id);
      for (const id of completed) assert.ok(ids.includes(id), `round ${round}: snapshot ${id} lost`);
      // A snapshot listed now is one whose record was written, which happens last: the kill may
      // have come after that (while closing). Whatever is listed must restore exactly.
      for (const id of ids.filter((x) => !completed.includes(x))) {
        const check = join(t.path, `check${round}`);
        const res = fxcp(['snap', 'restore', store, '-o', check, '--snapshot', id]);
        assert.is(res.code, 0, `round ${round} (killed after ${delay} ms, exit ${code}): listed snapshot ${id} does not restore: ${res.stderr}`);
        assert.equal(compareTrees(src, check, { rootMeta: false }), [], `round ${round}: listed snapshot ${id} differs from the source`);
        spawnSync('rm', ['-rf', check]);
        completed.push(id);
      }
      if (code === 0) assert.is(ids.length, completed.length, `round ${round}: a finished run must list its snapshot`);
      const out = join(t.path, `out${round}`);
      const res = fxcp(['snap', 'restore', store, '-o', out, '--snapshot', first.snapshot.id]);
      assert.is(res.code, 0, `round ${round}: restore of the first snapshot failed: ${res.stderr}`);
      assert.equal(compareTrees(golden, out, { rootMeta: false }), [], `round ${round}`);
      spawnSync('rm', ['-rf', out]);
    }
    // The next snapshot just works, and restores exactly.
    const last = fxcpJson(['snap', 'create', src, store]);
    const out = join(t.path, 'final');
    fxcpJson(['snap', 'restore', store, '-o', out, '--snapshot', last.snapshot.id]);
    assert.equal(compareTrees(src, out), []);
  } finally {
    t.cleanup();
  }
});

test.run();
