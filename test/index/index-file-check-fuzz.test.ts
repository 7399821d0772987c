/**
 * Seeded fuzz of the index file check (lib/index/index-file-check.ts), the first reader of the
 * index's untrusted bytes: a real LMDB environment written by StoreIndex, mutated at random
 * (bytes flipped anywhere, concentrated in the meta pages, pages zeroed, the file cut short),
 * must always get an answer, never an exception; every mutation of a meta page's magic or
 * version, and every truncation, is refused. `FUZZ_ROUNDS=N FUZZ_OFFSET=K` runs a longer
 * campaign (test/helpers/seeded.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blake3 } from '../../lib/hash/blake3.js';
import { checkIndexFile } from '../../lib/index/index-file-check.js';
import { StoreIndex } from '../../lib/index/store-index.js';
import { fuzzSeeds, mulberry32 } from '../helpers/seeded.js';

const PAGE = 4096;
/** MDB_meta's magic (4 bytes) and data version (its low 2 bytes): right after a meta page's 24-byte header. */
const META_ID = 24;
let dir = '';
let intact: Buffer;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fx-idxfuzz-'));
  const idx = StoreIndex.open(join(dir, 'intact'));
  for (let p = 0; p < 3; p++) {
    const entries = Array.from({ length: 300 }, (_, i) => ({ id: blake3().hash(Buffer.from(`${p}/${i}`)), type: 0, codec: 1, rawLength: 1000, storedLength: 500, offset: 8 + i * 544 }));
    await idx.addPack(blake3().hash(Buffer.from(`pack ${p}`)).toString('hex'), 300 * 544, entries);
  }
  await idx.putSnapshot('c'.repeat(64), { time: '2026-01-01T00:00:00Z', tags: [] });
  await idx.markComplete();
  await idx.close();
  intact = readFileSync(join(dir, 'intact', 'index.mdb'));
});
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

function mutate(seed: number): { bytes: Buffer; mustFail: boolean } {
  const rnd = mulberry32(seed);
  const pick = (n: number) => Math.floor(rnd() * n);
  let b = Buffer.from(intact);
  let mustFail = false;
  const kind = pick(5);
  if (kind === 0) {
    // Flips anywhere.
    for (let k = 1 + pick(16); k > 0; k--) b[pick(b.length)] ^= 1 + pick(255);
  } else if (kind === 1) {
    // Flips in the two meta pages, where the check reads most.
    for (let k = 1 + pick(8); k > 0; k--) b[pick(2) * PAGE + pick(PAGE)] ^= 1 + pick(255);
  } else if (kind === 2) {
    // A meta page's magic or data version changed: always damage (LMDB would refuse or
    // misread it). The version's upper 16 bits are not checked: lmdb-js keeps flags there.
    b[pick(2) * PAGE + META_ID + pick(6)] ^= 1 + pick(255);
    mustFail = true;
  } else if (kind === 3) {
    // Everything from a page on zeroed or set (a write that never reached the disk).
    b.fill(pick(2) ? 0 : 0xff, pick(b.length / PAGE) * PAGE);
  } else {
    // Cut short: shorter than the pages the metas name.
    b = b.subarray(0, pick(Math.max(1, b.length - PAGE)));
    mustFail = true;
  }
  return { bytes: b, mustFail };
}

test('a mutated index file always gets an answer, never an exception', () => {
  const f = join(dir, 'mutant.mdb');
  let refused = 0;
  const seeds = fuzzSeeds(1, 400);
  for (const seed of seeds) {
    const { bytes, mustFail } = mutate(seed);
    writeFileSync(f, bytes);
    let verdict: string | null;
    try {
      verdict = checkIndexFile(f);
    } catch (err) {
      assert.unreachable(`seed ${seed}: checkIndexFile threw ${(err as Error).stack}`);
      return;
    }
    if (mustFail) assert.type(verdict, 'string', `seed ${seed}: damage that must be refused passed`);
    if (verdict !== null) refused++;
  }
  // Most mutations hit bytes the check reads; a few land in pages it does not (a stated limit).
  assert.ok(refused > seeds.length / 3, `${refused} of ${seeds.length} refused`);
});

test.run();
