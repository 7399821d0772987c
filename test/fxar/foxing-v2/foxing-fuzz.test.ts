/**
 * Seeded fuzzing of the Foxing reader over its fixtures (derived from the spec, see
 * fixtures/gen-foxing-v2-fixtures.ts), like test/fxar/fxar-fuzz.test.ts for ours: random
 * truncations and byte flips must give a clean one-line ToolkitError or a correct result (every
 * restored file hashes to what the manifest says, every imported snapshot restores), never a
 * crash, a hang, or a file outside the restore target. The uncompressed fixtures let flips reach
 * the manifest's JSON (paths, sizes, chunk lists) rather than only its compressed bytes.
 * FUZZ_SEED replays one seed; FUZZ_ROUNDS / FUZZ_OFFSET run a longer campaign (helpers/seeded.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToolkitError } from '../../../lib/errors/index.js';
import { blake3 } from '../../../lib/hash/blake3.js';
import { importFoxing } from '../../../lib/fxar/foxing-v2/foxing-import.js';
import { verifyFoxing } from '../../../lib/fxar/foxing-v2/foxing-inspect.js';
import { groupSnapshots } from '../../../lib/fxar/foxing-v2/foxing-paths.js';
import { restoreFoxing } from '../../../lib/fxar/foxing-v2/foxing-restore.js';
import { listSnapshots } from '../../../lib/snapshot/snapshot-catalogue.js';
import { restore } from '../../../lib/snapshot/restorer.js';
import { Store } from '../../../lib/store/chunk-store.js';
import { directoryLocation } from '../../../lib/store/store-location.js';
import { fuzzSeeds, mulberry32 } from '../../helpers/seeded.js';
import { tempDir } from '../../helpers/run-cli.js';
import { fixture, open } from './helpers.js';

const SOURCES = ['none.fxar', 'none-streamed.fxar', 'zstd.fxar', 'lz4-streamed.fxar', 'gzip.fxar', 'xz-labelled-zstd-streamed.fxar', 'unsafe-paths.fxar'].map((n) => [n, fixture(n)] as const);
const ITERATIONS = 240;
/** One mutated archive's whole round (open, verify, restore every snapshot) may take this long. */
const ROUND_MS = 10_000;

function mutate(seed: number): { name: string; bytes: Buffer } {
  const rnd = mulberry32(seed);
  const [name, original] = SOURCES[Math.floor(rnd() * SOURCES.length)];
  if (rnd() < 0.3) return { name, bytes: Buffer.from(original.subarray(0, Math.floor(rnd() * original.length))) };
  const b = Buffer.from(original);
  // Half the flips land in the first 1 KiB: header, manifest prefix, manifest, index.
  const flips = 1 + Math.floor(rnd() * 3);
  for (let i = 0; i < flips; i++) {
    const at = rnd() < 0.5 ? Math.floor(rnd() * Math.min(1024, b.length)) : Math.floor(rnd() * b.length);
    b[at] ^= 1 << Math.floor(rnd() * 8);
  }
  return { name, bytes: b };
}

function clean(err: unknown, seed: number, where: string): void {
  if (!(err instanceof ToolkitError)) throw new Error(`seed ${seed} (${where}): not a clean error: ${(err as Error)?.stack ?? String(err)}`);
  assert.ok(!err.message.includes('\n'), `seed ${seed}: one-line message: ${err.message}`);
}

/** Every regular file below dir, relative. */
function filesBelow(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...filesBelow(dir, rel));
    else out.push(rel);
  }
  return out;
}

test(`reader + verify + restore: ${ITERATIONS} seeded mutations give clean errors or verified files, nothing outside the target`, async () => {
  const t = tempDir();
  try {
    for (const seed of fuzzSeeds(1, ITERATIONS)) {
      const { name, bytes } = mutate(seed);
      const started = Date.now();
      try {
        const r = await open(bytes, `fuzz-${name}`);
        const v = await verifyFoxing(r);
        assert.ok(v.damagedChunks.length <= v.chunks);
        const { snapshots } = groupSnapshots(r.manifest);
        for (const [i, snap] of snapshots.entries()) {
          const target = join(t.path, `out-${seed}-${i}`);
          const res = await restoreFoxing(r, snap, { target, onWarn: () => {} });
          const byRel = new Map(snap.entries.map((e) => [e.rel, e.file]));
          for (const rel of filesBelow(target)) {
            const f = byRel.get(rel);
            assert.ok(f, `seed ${seed}: restored '${rel}', which the snapshot does not name`);
            assert.ok(blake3().hash(readFileSync(join(target, rel))).equals(f!.blake3), `seed ${seed}: '${rel}' restored with content its BLAKE3 does not match`);
          }
          assert.is(res.files + res.problems.filter((p) => byRel.has(p.path)).length <= snap.entries.length, true);
        }
      } catch (err) {
        clean(err, seed, name);
      }
      assert.ok(Date.now() - started < ROUND_MS, `seed ${seed}: took ${Date.now() - started} ms`);
      const stray = readdirSync(t.path).filter((f) => !f.startsWith('out-'));
      assert.equal(stray, [], `seed ${seed}: wrote outside the targets`);
    }
  } finally {
    t.cleanup();
  }
});

test('import: 40 seeded mutations give clean errors, or snapshots whose every file restores', async () => {
  const t = tempDir();
  const store = await Store.open(directoryLocation(join(t.path, 'store')), { create: true });
  try {
    for (const seed of fuzzSeeds(5001, 40)) {
      const { name, bytes } = mutate(seed);
      try {
        await importFoxing(await open(bytes, `fuzz-${name}`), store, { source: `fuzz-${seed}`, onWarn: () => {} });
      } catch (err) {
        clean(err, seed, name);
      }
    }
    for (const [i, s] of listSnapshots(store).entries()) {
      const res = await restore(store, s.record, { target: join(t.path, `r-${i}`), onWarn: () => {} });
      assert.equal(res.problems, [], `snapshot ${s.id} from ${s.record.source} restores`);
    }
  } finally {
    await store.close();
    t.cleanup();
  }
});

test.run();
