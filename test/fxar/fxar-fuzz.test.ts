/**
 * Seeded fuzzing of both archive readers over the golden archive: random truncations and byte
 * flips must give a clean ToolkitError or a correct result (verified content), never a crash,
 * a hang, or a file outside the restore target. Failing seeds become fixtures in fixtures/fxar/.
 * FUZZ_SEED replays one seed; FUZZ_ROUNDS / FUZZ_OFFSET run a longer campaign (helpers/seeded.ts).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkCodec } from '../../lib/codec/codec.js';
import { ToolkitError } from '../../lib/errors/index.js';
import { ArchiveReader } from '../../lib/fxar/archive-reader.js';
import { MemoryReader } from '../../lib/fxar/positional-file.js';
import { readArchiveStream } from '../../lib/fxar/stream-reader.js';
import { decodeVerified } from '../../lib/store/chunk-verify.js';
import { restore } from '../../lib/snapshot/restorer.js';
import { goldenSpec, type Node } from '../../fixtures/fxar/build-archive.js';
import { fuzzSeeds, mulberry32 } from '../helpers/seeded.js';
import { tempDir } from '../helpers/run-cli.js';

const golden = readFileSync(new URL('../../../fixtures/fxar/golden.fxar', import.meta.url));
const ITERATIONS = 160;

function mutate(seed: number): Buffer {
  const rnd = mulberry32(seed);
  if (rnd() < 0.35) return Buffer.from(golden.subarray(0, Math.floor(rnd() * golden.length)));
  const b = Buffer.from(golden);
  const flips = 1 + Math.floor(rnd() * 3);
  for (let i = 0; i < flips; i++) b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
  return b;
}

/** Expected file contents by path (relative to the snapshot's source) for each golden snapshot. */
function expectedFiles(root: Node, prefix = '', out = new Map<string, Buffer>()): Map<string, Buffer> {
  if (root.kind === 'dir') for (const [k, v] of Object.entries(root.children)) expectedFiles(v, prefix ? `${prefix}/${k}` : k, out);
  else if (root.kind === 'file') out.set(prefix, Buffer.from(root.data));
  return out;
}
const expected = goldenSpec().snapshots.map((s) => expectedFiles(s.root));

function clean(err: unknown, seed: number, where: string): void {
  if (!(err instanceof ToolkitError)) throw new Error(`seed ${seed} (${where}): not a clean error: ${(err as Error)?.stack ?? String(err)}`);
  assert.ok(!err.message.includes('\n'), `seed ${seed}: one-line message`);
}

test(`seekable reader + restorer: ${ITERATIONS} seeded mutations give clean errors or correct files`, async () => {
  const t = tempDir();
  try {
    for (const seed of fuzzSeeds(1, ITERATIONS)) {
      const bytes = mutate(seed);
      const target = join(t.path, `out-${seed}`);
      try {
        const ar = ArchiveReader.open(new MemoryReader(bytes, 'fuzz.fxar'));
        const snaps = ar.listSnapshots();
        for (const [i, snap] of snaps.entries()) {
          const problems: string[] = [];
          const r = await restore(ar, snap.record, { target: `${target}-${i}`, onWarn: (_c, m) => problems.push(m) });
          const want = expected[snap.record.time.startsWith('2026-01') ? 0 : 1];
          for (const [path, data] of want) {
            let got: Buffer | null = null;
            try { got = readFileSync(join(`${target}-${i}`, path)); } catch { /* not restored: must be reported */ }
            if (got) assert.ok(got.equals(data), `seed ${seed}: ${path} restored with wrong content`);
            else assert.ok(r.problems.length > 0, `seed ${seed}: ${path} missing without a reported problem`);
          }
        }
      } catch (err) {
        clean(err, seed, 'seek');
      }
      const stray = readdirSync(t.path).filter((f) => !f.startsWith('out-'));
      assert.equal(stray, [], `seed ${seed}: wrote outside the targets`);
    }
  } finally {
    t.cleanup();
  }
});

test(`stream reader: ${ITERATIONS} seeded mutations give clean errors, or every chunk verifies`, async () => {
  const codec = new ChunkCodec();
  for (const seed of fuzzSeeds(1001, ITERATIONS)) {
    const bytes = mutate(seed);
    try {
      const source = (async function* () { for (let o = 0; o < bytes.length; o += 4096) yield bytes.subarray(o, o + 4096); })();
      for await (const ev of readArchiveStream(source, 'fuzz.fxar')) {
        if (ev.kind === 'chunk') await decodeVerified(codec, 'fuzz.fxar', ev.id, { ...ev, storedLength: ev.stored.length }, ev.stored);
      }
    } catch (err) {
      clean(err, seed, 'stream');
    }
  }
});

test.run();
