/**
 * The walk of the index's LMDB file (lib/index/index-file-walk.ts) on real environments written
 * by StoreIndex: an intact one is never called damaged, through many commits of every kind and
 * while another process commits to it (a false alarm costs a full rebuild); each kind of damage
 * below the roots, which the open-time check passes, is refused with what is wrong; random
 * damage always gets an answer, never an exception.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blake3 } from '../../lib/hash/blake3.js';
import { checkIndexFile } from '../../lib/index/index-file-check.js';
import { walkIndexFile } from '../../lib/index/index-file-walk.js';
import { OVPAGE, PAGE, PAGE_HEADER_BYTES } from '../../lib/index/lmdb-layout.js';
import { StoreIndex } from '../../lib/index/store-index.js';
import type { PackEntry } from '../../lib/store/pack-codec.js';
import { freeListEntries, keyCount, newestTxnid, nodeAt, oneFreePage, pageSizeOf, treePages } from '../helpers/lmdb-pages.js';
import { fuzzSeeds, mulberry32 } from '../helpers/seeded.js';

let dir = '';
let intact: Buffer;
const file = () => join(dir, 'intact', 'index.mdb');

const id = (s: string) => blake3().hash(Buffer.from(s));
const entries = (p: number, n: number): PackEntry[] =>
  Array.from({ length: n }, (_, i) => ({ id: id(`${p}/${i}`), type: 0, codec: 1, rawLength: 1000 + i, storedLength: 500, offset: 8 + i * 544 }));

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fx-idxwalk-'));
  // Commits of every kind the index makes, each followed by a walk: packs added (leaf and
  // branch splits), snapshot records large enough for overflow pages, records and packs
  // removed (merges, freed pages reused), listing memos in batches.
  const idx = StoreIndex.open(join(dir, 'intact'));
  const walkAfter = (what: string) => {
    assert.is(checkIndexFile(file()), null, `after ${what}`);
    assert.is(walkIndexFile(file()), null, `after ${what}`);
  };
  for (let p = 0; p < 24; p++) {
    await idx.addPack(id(`pack ${p}`).toString('hex'), 300 * 544, entries(p, 150));
    walkAfter(`pack ${p}`);
    await idx.putSnapshot(id(`snap ${p}`).toString('hex'), { time: '2026-01-01T00:00:00Z', tags: [], note: 'x'.repeat(p * 700) });
    walkAfter(`snapshot ${p}`);
    for (let m = 0; m < 40; m++) idx.putListingMemo(id(`tree ${p}/${m}`), Buffer.alloc(60 + (m % 7) * 900, m));
    await idx.flushed();
    walkAfter(`memos ${p}`);
    if (p % 5 === 4) {
      await idx.removeSnapshot(id(`snap ${p - 2}`).toString('hex'));
      await idx.forgetPacks([p - 3]);
      walkAfter(`removals ${p}`);
    }
  }
  await idx.markComplete();
  await idx.close();
  intact = readFileSync(file());
});
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

test('the intact index has what the damage below needs: a chunks tree of two levels, overflow pages', () => {
  const trees = treePages(intact);
  const chunks = trees.get('chunks')!;
  assert.ok(chunks.branches.length >= 1 && chunks.leaves.length > 4, `chunks: ${chunks.branches.length} branches, ${chunks.leaves.length} leaves`);
  assert.ok(trees.get('snapshots')!.overflows.length > 0, 'snapshot records in overflow pages');
  assert.ok(trees.get('listing-memos')!.overflows.length > 0, 'listing memos in overflow pages');
});

/** A copy of the intact file with `damage` done to it; returns the verdicts of both checks. */
function damaged(damage: (b: Buffer, ps: number) => void): { check: string | null; walk: string | null } {
  const b = Buffer.from(intact);
  damage(b, pageSizeOf(b));
  const f = join(dir, 'damaged.mdb');
  writeFileSync(f, b);
  return { check: checkIndexFile(f), walk: walkIndexFile(f) };
}

const chunks = () => treePages(intact).get('chunks')!;
/** A leaf of the chunks tree (not its root): below what the open-time check reads. */
const leaf = () => chunks().leaves[2];
const u16 = (b: Buffer, at: number, f: (v: number) => number) => b.writeUInt16LE(f(b.readUInt16LE(at)) & 0xffff, at);

const BELOW_THE_ROOTS: Array<[string, (b: Buffer, ps: number) => void, RegExp]> = [
  ['a leaf carrying another page number', (b, ps) => b.writeUInt32LE(leaf() + 1, leaf() * ps + PAGE.pgno), /page \d+ of database 'chunks' of meta \d carries page number/],
  ['a leaf marked a branch', (b, ps) => b.writeUInt16LE(1, leaf() * ps + PAGE.flags), /is not a leaf page/],
  ['a node offset outside the page', (b, ps) => b.writeUInt16LE(0xfff0, leaf() * ps + PAGE_HEADER_BYTES), /node 0 lies outside/],
  ['a value size past the page', (b) => b.writeUInt16LE(0x00ff, nodeAt(b, leaf(), 1) + 2), /node 1 \(\d+ bytes\) runs past the page/],
  ['a key size past the page', (b) => b.writeUInt16LE(0xfff0, nodeAt(b, leaf(), 0) + 6), /node 0 \(\d+ bytes\) runs past the page/],
  ['two keys swapped', (b, ps) => {
    const at = leaf() * ps + PAGE_HEADER_BYTES;
    const k0 = b.readUInt16LE(at);
    b.writeUInt16LE(b.readUInt16LE(at + 2), at);
    b.writeUInt16LE(k0, at + 2);
  }, /key 1 is out of order/],
  ['free space that does not match the nodes', (b, ps) => u16(b, leaf() * ps + PAGE.upper, (v) => v - 2), /its nodes take \d+ bytes, its bounds leave/],
  ['a child out of the file', (b) => b.writeUInt32LE(0x7fff_0000, nodeAt(b, chunks().root, 1)), /names page \d+, outside pages 2\.\./],
  ['a child reached twice', (b) => {
    const r = chunks().root;
    b.copy(b, nodeAt(b, r, 1), nodeAt(b, r, 0), nodeAt(b, r, 0) + 4);
  }, /reaches page \d+ a second time/],
  ['an entry count that disagrees', (b) => b.writeUInt32LE(b.readUInt32LE(chunks().record + 32) + 1, chunks().record + 32), /holds \d+ entries, its record says/],
  ['a depth that disagrees', (b) => u16(b, chunks().record + 6, (v) => v + 1), /is not a branch page/],
  ['an overflow run of another length', (b) => {
    const snaps = treePages(b).get('snapshots')!;
    for (const p of snaps.leaves) {
      for (let k = 0; k < keyCount(b, p); k++) {
        const at = nodeAt(b, p, k);
        if (b.readUInt16LE(at + 4) & 1) b.writeUInt32LE(b.readUInt32LE(at + 8 + b.readUInt16LE(at + 6) + OVPAGE.pages) + 1, at + 8 + b.readUInt16LE(at + 6) + OVPAGE.pages);
      }
    }
  }, /does not start a run of|outside pages|reached a second time/],
  ['an overflow page that is not one', (b, ps) => b.writeUInt16LE(2, treePages(b).get('listing-memos')!.overflows[0] * ps + PAGE.flags), /is not an overflow page/],
  // lmdb-js's LMDB takes a page whose transaction id is at least the writer's for one it copied
  // already and writes it in place, in the read-only map: the one-past-the-meta id is the edge.
  ['a leaf carrying a transaction newer than its meta', (b, ps) => b.writeBigUInt64LE(newestTxnid(b) + 1n, leaf() * ps + PAGE.txnid),
    /page \d+ of database 'chunks' of meta \d carries transaction \d+, newer than its meta's \d+/],
  ['a free-tree leaf carrying a transaction newer than its meta', (b, ps) => b.writeBigUInt64LE(1n << 40n, treePages(b).get('free')!.leaves[0] * ps + PAGE.txnid),
    /of the free tree of meta \d carries transaction 1099511627776, newer/],
  ['an overflow page carrying a transaction newer than its meta', (b, ps) => b.writeBigUInt64LE(newestTxnid(b) + 1n, treePages(b).get('listing-memos')!.overflows[0] * ps + PAGE.txnid),
    /overflow page \d+ \(from page \d+ of database 'listing-memos' of meta \d\) carries transaction \d+, newer than/],
  // P_LOOSE (0x4000): LMDB's mark for a page a write transaction freed again, never written.
  ['a leaf carrying an in-memory flag', (b, ps) => u16(b, leaf() * ps + PAGE.flags, (v) => v | 0x4000),
    /page \d+ of database 'chunks' of meta \d carries flags 0x4002: LMDB's marks for a page being written/],
  ['a database record with flags the index never uses', (b) => u16(b, chunks().record + 4, (v) => v | 0x8000),
    /database 'chunks' of meta \d has flags 0x8000, which the index never uses/],
  ['a database record with sorted duplicates', (b) => u16(b, chunks().record + 4, (v) => v | 0x04), /database 'chunks' of meta \d has flags 0x4, which the index never uses/],
  // The pages a writer reuses from the free lists, which it writes without reading.
  ['a free-page list naming a page past the last', (b) => b.writeBigInt64LE(BigInt(b.length / pageSizeOf(b)), oneFreePage(b, freeListEntries(b)[0])),
    /of the free tree of meta \d: a free-page list names pages \d+\+1, outside pages 2\.\./],
  ['a free-page list naming a meta page', (b) => b.writeBigInt64LE(1n, oneFreePage(b, freeListEntries(b)[0])), /a free-page list names pages 1\+1, outside/],
  ['a free-page list with a run past the last page', (b) => {
    const at = freeListEntries(b)[0];
    b.writeBigInt64LE(-3n, at);
    b.writeBigInt64LE(BigInt(b.length / pageSizeOf(b) - 2), at + 8);
  }, /a free-page list (names pages -?\d+\+\d+, outside pages|ends inside a run)/],
  ['a free-page list naming a page in use', (b) => b.writeBigInt64LE(BigInt(leaf()), oneFreePage(b, freeListEntries(b)[0])), /of the free tree of meta \d: free page \d+ is in use in meta \d's trees/],
];

for (const [name, damage, expected] of BELOW_THE_ROOTS) {
  test(`below the roots, ${name}: the open-time check passes it, the walk refuses it`, () => {
    const { check, walk } = damaged(damage);
    assert.is(check, null, 'the open-time check reads only the metas and roots');
    assert.type(walk, 'string');
    assert.match(walk!, expected);
  });
}

test('a page only the older meta reaches is walked too (LMDB rolls back to it after a reboot)', () => {
  const reached = (which: 'newest' | 'older') => new Set([...treePages(intact, which).values()].flatMap((t) => [...t.branches, ...t.leaves]));
  const newest = reached('newest');
  // Not the older main tree's root, whose nodes the open-time check reads.
  const onlyOlder = [...reached('older')].filter((p) => !newest.has(p) && p !== treePages(intact, 'older').get('main')!.root);
  assert.ok(onlyOlder.length > 0, 'the last commit rewrote pages that the older meta still names');
  const { check, walk } = damaged((b, ps) => b.writeUInt16LE(0xfff0, onlyOlder[0] * ps + PAGE_HEADER_BYTES));
  assert.is(check, null);
  assert.match(walk ?? '', new RegExp(`page ${onlyOlder[0]} of .* of meta \\d: node 0 lies outside`));
});

test('random damage to pages (the issue 18 reproduction): the walk always answers, never throws; it refuses all the open-time check refuses', () => {
  const f = join(dir, 'mutant.mdb');
  let refused = 0;
  const seeds = fuzzSeeds(1, 300);
  for (const seed of seeds) {
    const rnd = mulberry32(seed);
    const pick = (n: number) => Math.floor(rnd() * n);
    const b = Buffer.from(intact);
    const ps = pageSizeOf(b), pages = b.length / ps;
    for (let k = 1 + pick(5); k > 0; k--) {
      const pg = 2 + pick(pages - 2);
      for (let j = 1 + pick(199); j > 0; j--) b[pg * ps + pick(ps)] = pick(256);
    }
    writeFileSync(f, b);
    let walk: string | null = null;
    try {
      walk = walkIndexFile(f);
    } catch (err) {
      assert.unreachable(`seed ${seed}: walkIndexFile threw ${(err as Error).stack}`);
    }
    if (checkIndexFile(f) !== null) assert.type(walk, 'string', `seed ${seed}: the walk passed what the open-time check refuses`);
    if (walk !== null) refused++;
  }
  // Damage that lands only in free pages or in key and value bytes is not structural.
  assert.ok(refused > seeds.length / 2, `${refused} of ${seeds.length} refused`);
});

test('an index another process commits to while it is checked and walked is never called damaged', async () => {
  const live = join(dir, 'live');
  const idx = StoreIndex.open(live);
  await idx.addPack(id('first').toString('hex'), 100, entries(1000, 500));
  await idx.markComplete();
  await idx.close();
  // The writer: a pack, a snapshot record and one removed, as fast as it can, for 1.5 s.
  const storeIndex = fileURLToPath(new URL('../../lib/index/store-index.js', import.meta.url));
  const writer = spawn(process.execPath, ['--input-type=module', '-e', `
    import { StoreIndex } from ${JSON.stringify(storeIndex)};
    import { randomBytes } from 'node:crypto';
    const idx = StoreIndex.open(${JSON.stringify(live)}, { walk: 'none' });
    const end = Date.now() + 1500;
    for (let p = 0; Date.now() < end; p++) {
      await idx.addPack(randomBytes(32).toString('hex'), 100, Array.from({ length: 200 }, (_, i) => ({ id: randomBytes(32), type: 0, codec: 1, rawLength: 10, storedLength: 10, offset: 8 + i * 60 })));
      await idx.putSnapshot(String(p).padStart(64, '0'), { note: 'y'.repeat(5000) });
      if (p > 2) await idx.removeSnapshot(String(p - 2).padStart(64, '0'));
    }
    await idx.close();
    console.log('done');
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  writer.stdout.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((resolve) => writer.on('exit', resolve));
  let walks = 0;
  let running = true;
  void exited.then(() => { running = false; });
  while (running) {
    // The open-time check too: it reads the older meta's root pages, which the writer reuses.
    assert.is(checkIndexFile(join(live, 'index.mdb')), null, `check ${walks} during the writer's commits`);
    const verdict = walkIndexFile(join(live, 'index.mdb'));
    assert.is(verdict, null, `walk ${walks} during the writer's commits`);
    walks++;
    await new Promise((r) => setImmediate(r));
  }
  assert.is(await exited, 0);
  assert.is(out.trim(), 'done');
  assert.ok(walks > 3, `${walks} walks`);
  assert.is(walkIndexFile(join(live, 'index.mdb')), null);
});

test.run();
