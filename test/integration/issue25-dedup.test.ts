/**
 * Issue 25: a chunk is stored once per store, whatever the concurrency. A tree of many
 * identical files (and identical chunks shared across different files), snapshotted by the real
 * CLI with more chunk workers than cores so that they race on the same new chunks, must leave
 * exactly one pack record per chunk id. Counted from the pack trailers themselves, not the
 * index (which keeps one entry per id whatever the packs hold).
 *
 * Duplicates can still come from two processes writing one store at once: `store check` counts
 * them (a note, not a problem) and gc drops them. Tested on a store given duplicates on
 * purpose (second copies of indexed records, in a pack that is otherwise live, and in one that
 * is all copies), and on two snapshot processes racing on one store.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createChunker } from '../../lib/chunker/index.js';
import { blake3 } from '../../lib/hash/blake3.js';
import { CODEC_BUNDLED } from '../../lib/codec/codec-ids.js';
import { CHUNK_DATA } from '../../lib/store/store-layout.js';
import { PackWriter } from '../../lib/store/pack-writer.js';
import { withStore } from '../../lib/store/open-store.js';
import { compareCopy } from '../helpers/copy-tree.js';
import { fxcp, fxcpAsync, fxcpJson, tempDir } from '../helpers/run-cli.js';
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

/** `store check --json`: exit code and result document. */
function check(store: string): { code: number; result: any; stderr: string } {
  const r = fxcp(['store', 'check', store, '--read-data', '--json']);
  return { code: r.code, result: JSON.parse(r.stdout), stderr: r.stderr };
}

/** Restores every snapshot of `store` and compares it with its source (snapshot order = `sources` order). */
function restoresExactly(store: string, sources: string[], scratch: string): void {
  const snaps = fxcpJson(['snap', 'list', store]).snapshots as Array<{ id: string }>;
  assert.is(snaps.length, sources.length, 'snapshots');
  snaps.forEach((s, i) => {
    const out = join(scratch, `restore-${i}`);
    const r = fxcp(['snap', 'restore', store, '--snapshot', s.id, '-o', out]);
    assert.is(r.code, 0, r.stderr);
    assert.equal(compareCopy(sources[i], out, { rootMeta: false }), [], `snapshot ${i} restores exactly`);
  });
}

test('store check counts duplicate records (not a problem); gc leaves one record per id, checks clean, restores exactly', async () => {
  const t = tempDir('issue25-gc-');
  try {
    const a = join(t.path, 'a');
    const b = join(t.path, 'b');
    const store = join(t.path, 'store');
    identicalTree(a);
    mkdirSync(b);
    // Tree b: 3 files of new content, stored below by hand so that its pack is mostly live.
    const bFiles = [0, 1, 2].map((i) => seededBytes(300_000, 900 + i));
    bFiles.forEach((c, i) => writeFileSync(join(b, `new-${i}.bin`), c));
    assert.is(fxcp(['snap', 'create', a, store]).code, 0);

    // Duplicates on purpose: pack X = tree b's chunks (new) + copies of 3 records of tree a;
    // pack Y = copies of every data record of one of tree a's packs. Indexed as a writer would: the
    // first location of each chunk wins, so the copies are unreferenced.
    let dupRecords = 0;
    let dupBytes = 0;
    await withStore(store, { lock: 'exclusive', command: 'test' }, async (s) => {
      let firstPack = '';
      for await (const p of s.storage.list('pack')) if ((await s.packEntries(p)).some((e) => e.type === CHUNK_DATA && e.codec !== CODEC_BUNDLED)) { firstPack ||= p; }
      // Not bundle members: their payload points into their own pack (formats/store.md §7.6), so
      // a copy elsewhere is no record. They arise here when a worker's bundle holds the tail of a
      // file and the chunk of pair.bin that overlaps it, and compresses.
      const old = (await s.packEntries(firstPack)).filter((e) => e.type === CHUNK_DATA && e.codec !== CODEC_BUNDLED);
      const x = await PackWriter.open(s.storage);
      const hash = blake3();
      for (const data of bFiles) {
        let o = 0;
        for (const len of Array.from(createChunker(s.config.chunker).cutLengths(data, true))) {
          const chunk = data.subarray(o, o += len);
          x.add(hash.hash(chunk), CHUNK_DATA, 0, len, chunk);
        }
      }
      for (const e of old.slice(0, 3)) {
        x.add(e.id, e.type, e.codec, e.rawLength, await s.readVerifiedRecord(firstPack, e));
        dupRecords++;
        dupBytes += 44 + e.storedLength;
      }
      await s.indexSealed(await x.seal());
      const y = await PackWriter.open(s.storage);
      // In reverse: the same records in the same order would be the same pack, under the same name.
      for (const e of [...old].reverse()) {
        y.add(e.id, e.type, e.codec, e.rawLength, await s.readVerifiedRecord(firstPack, e));
        dupRecords++;
        dupBytes += 44 + e.storedLength;
      }
      await s.indexSealed(await y.seal());
      await s.index.flushed();
    });
    // Tree b's chunks are all indexed (in pack X): its snapshot stores no new data.
    const second = fxcpJson(['snap', 'create', b, store]);
    assert.ok(second.snapshot.stats.newBytes < 10_000, `tree b found in pack X (new bytes: ${second.snapshot.stats.newBytes}, trees only)`);
    assert.ok([...(await recordsPerId(store)).values()].some((n) => n > 1), 'store has duplicates');

    const before = check(store);
    assert.is(before.code, 0, before.stderr);
    assert.is(before.result.clean, true);
    assert.is(before.result.duplicateRecords, dupRecords);
    assert.is(before.result.duplicateBytes, dupBytes);
    assert.match(before.stderr, /DUPLICATE_RECORDS/);

    // Default threshold: pack X's garbage (3 small records) is far under 25 % of it, yet it is repacked.
    const gc = fxcp(['store', 'gc', store]);
    assert.is(gc.code, 0, gc.stderr);
    const counts = await recordsPerId(store);
    assert.equal([...counts].filter(([, n]) => n !== 1), [], 'one record per id after gc');
    const after = check(store);
    assert.is(after.code, 0, after.stderr);
    assert.is(after.result.clean, true);
    assert.is(after.result.duplicateRecords, 0);
    restoresExactly(store, [a, b], t.path);
  } finally {
    t.cleanup();
  }
});

test('two snapshot processes racing on one store: the index stays consistent; gc leaves one record per id', async () => {
  const t = tempDir('issue25-procs-');
  try {
    const src = join(t.path, 'src');
    const store = join(t.path, 'store');
    identicalTree(src);
    // The store exists before the race (made by a first, small snapshot).
    const seed = join(t.path, 'seed');
    mkdirSync(seed);
    writeFileSync(join(seed, 'f'), 'seed');
    assert.is(fxcp(['snap', 'create', seed, store]).code, 0);
    const runs = [0, 1].map(() => new Promise<number>((done) => {
      const p = fxcpAsync(['snap', 'create', src, store], { FOXING_WORKERS: '3' });
      p.on('exit', (code) => done(code ?? -1));
    }));
    assert.equal(await Promise.all(runs), [0, 0]);
    // However the two interleaved (each may have stored some chunks the other stored too):
    const c = check(store);
    assert.is(c.code, 0, c.stderr);
    assert.is(c.result.clean, true);
    assert.is(fxcp(['store', 'gc', store]).code, 0);
    assert.equal([...(await recordsPerId(store))].filter(([, n]) => n !== 1), [], 'one record per id after gc');
    assert.is(check(store).result.duplicateRecords, 0);
    restoresExactly(store, [seed, src, src], t.path);
  } finally {
    t.cleanup();
  }
});

test.run();
