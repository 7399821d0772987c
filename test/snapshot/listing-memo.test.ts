/**
 * Listing memos: the fingerprint is sensitive to every field it covers, and `snap create` over
 * an unchanged tree reuses trees without reading them, while any change anywhere still reaches
 * the new snapshot. A spy counts the chunks the archiver reads from the real store.
 */
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_ZSTD_LEVEL } from '../../lib/codec/codec.js';
import type { FileMeta } from '../../lib/fs/file-meta.js';
import { archive, type ArchiveOptions } from '../../lib/snapshot/archiver.js';
import { HeldTrees } from '../../lib/snapshot/held-tree.js';
import { decodeListingMemo, encodeListingMemo, listingFingerprint, recordedAtime, scannedListingFingerprint } from '../../lib/snapshot/listing-memo.js';
import { scanDir } from '../../lib/fs/scan-dir.js';
import type { Store } from '../../lib/store/chunk-store.js';
import type { SnapshotStats } from '../../lib/snapshot/snapshot-record.js';
import { withStore } from '../../lib/store/open-store.js';
import { compareTrees } from '../helpers/tree-compare.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';

const base: FileMeta = {
  name: Buffer.from('a.txt'), type: 'file', mode: 0o644, uid: 1, gid: 2, size: 10,
  atimeNs: 5n, mtimeNs: 6n, ctimeNs: 7n, dev: 8n, ino: 9n, nlink: 1, rdev: 0, blocks: 8,
};

test('the fingerprint changes with every field a tree records, and only with those', () => {
  const fp = listingFingerprint([base]);
  const variants: Array<Partial<FileMeta>> = [
    { name: Buffer.from('b.txt') }, { type: 'symlink', linkTarget: Buffer.from('x') }, { mode: 0o600 }, { uid: 3 }, { gid: 4 },
    { size: 11 }, { size: 2 ** 40 }, { atimeNs: 50n }, { mtimeNs: 60n }, { ctimeNs: 70n }, { dev: 80n }, { ino: 2n ** 63n + 1n },
    { nlink: 2 }, { rdev: 1 },
  ];
  for (const v of variants) assert.not.ok(listingFingerprint([{ ...base, ...v }]).equals(fp), JSON.stringify(Object.keys(v)));
  const withXattrs: FileMeta = { ...base, blocks: 99, xattrs: [['user.a', Buffer.from('1')]] };
  assert.ok(listingFingerprint([withXattrs]).equals(fp), 'blocks and xattrs are not fingerprinted');
  // Order, count and the atime rule for directories.
  const b = { ...base, name: Buffer.from('b') };
  assert.not.ok(listingFingerprint([base, b]).equals(listingFingerprint([b, base])));
  assert.not.ok(listingFingerprint([base]).equals(listingFingerprint([])));
  const dir: FileMeta = { ...base, type: 'dir', size: 4096 };
  assert.ok(listingFingerprint([dir]).equals(listingFingerprint([{ ...dir, size: 0, atimeNs: 123n }])), 'a directory records size 0 and its mtime as atime');
  assert.is(recordedAtime(dir), dir.mtimeNs);
  assert.is(recordedAtime(base), base.atimeNs);
});

// The walk fingerprints a scanned directory from its packed lstat fields; a memo written from
// the tree's entries must give the same bytes, for every entry type and every subset.
test('the fingerprint of a scan equals the fingerprint of its entries', () => {
  const t = tempDir();
  try {
    const d = join(t.path, 'd');
    mkdirSync(join(d, 'sub'), { recursive: true });
    writeFileSync(join(d, 'file'), 'x'.repeat(5000));
    writeFileSync(join(d, 'empty'), '');
    linkSync(join(d, 'file'), join(d, 'hardlink'));
    symlinkSync('a/target/of/some/length', join(d, 'link'));
    chmodSync(join(d, 'empty'), 0o4755);
    utimesSync(join(d, 'file'), new Date(1_234_567), new Date(7_654_321));
    if (spawnSync('mkfifo', [join(d, 'fifo')]).status !== 0) console.log('  (no mkfifo: no fifo in this listing)');
    const scan = scanDir(Buffer.from(d));
    const all = Array.from({ length: scan.count }, (_, i) => i);
    const targets = new Map(all.filter((i) => scan.type(i) === 'symlink').map((i) => [i, readlinkSync(scan.entryPath(i), { encoding: 'buffer' })]));
    const metas = all.map((i) => scan.entry(i, { xattrs: false }).meta!);
    assert.ok(scannedListingFingerprint(scan, all, targets).equals(listingFingerprint(metas)));
    const some = all.filter((i) => i % 2 === 1);
    assert.ok(scannedListingFingerprint(scan, some, targets).equals(listingFingerprint(some.map((i) => metas[i]!))));
    assert.ok(scannedListingFingerprint(scan, [], targets).equals(listingFingerprint([])));
  } finally {
    t.cleanup();
  }
});

test('memos round-trip and malformed ones are refused', () => {
  const totals = { files: 5_000_000_000, dirs: 7, symlinks: 1, others: 2, bytes: 2 ** 52 };
  const m = { fingerprint: Buffer.alloc(16, 1), subtrees: [Buffer.alloc(32, 2), Buffer.alloc(32, 3)], totals };
  const d = decodeListingMemo(encodeListingMemo(m))!;
  assert.ok(d.fingerprint.equals(m.fingerprint));
  assert.equal(d.subtrees.map((s) => s[0]), [2, 3]);
  assert.equal(d.totals, totals);
  const none = decodeListingMemo(encodeListingMemo({ ...m, totals: null }))!;
  assert.is(none.totals, null);
  assert.equal(none.subtrees.map((s) => s[0]), [2, 3]);
  const flag = encodeListingMemo(m);
  flag[17] = 2;
  assert.is(decodeListingMemo(flag), null, 'a totals flag above 1');
  assert.is(decodeListingMemo(Buffer.concat([Buffer.from([1]), flag.subarray(1)])), null, 'a memo of version 1 (no totals) is no memo');
  const enc = encodeListingMemo(m);
  assert.is(decodeListingMemo(enc.subarray(0, enc.length - 1)), null);
  assert.is(decodeListingMemo(Buffer.concat([Buffer.from([9]), enc.subarray(1)])), null);
  assert.is(decodeListingMemo(undefined), null);
  assert.is(decodeListingMemo(Buffer.alloc(3)), null);
});

type Counts = Pick<SnapshotStats, 'files' | 'dirs' | 'symlinks' | 'others' | 'bytes'>;

async function snapshot(storePath: string, src: string, exclude?: (rel: string) => boolean, forceRehash = false, changedDirs?: ArchiveOptions['changedDirs'], heldTrees?: HeldTrees): Promise<{ id: string; tree: string; loads: number; reused: number; counts: Counts }> {
  return withStore(storePath, { create: true, lock: 'shared', command: 'test', onWarn: () => {} }, async (store: Store) => {
    let loads = 0;
    const load = store.loadChunkPreferSync.bind(store);
    store.loadChunkPreferSync = ((id: Uint8Array) => { loads++; return load(id); }) as typeof store.loadChunkPreferSync;
    const r = await archive(store, { source: src, codec: { name: 'zstd', level: DEFAULT_ZSTD_LEVEL }, onWarn: () => {}, exclude: exclude && ((rel) => exclude(rel)), forceRehash, changedDirs, heldTrees });
    const { files, dirs, symlinks, others, bytes } = r.record.stats;
    return { id: r.id, tree: r.record.tree, loads, reused: r.record.stats.reusedFiles, counts: { files, dirs, symlinks, others, bytes } };
  });
}

/** The counts a memo-assisted snapshot reports equal those of one that reads everything. */
async function assertCounts(storePath: string, src: string, got: { counts: Counts; tree: string }): Promise<void> {
  const full = await snapshot(storePath, src, undefined, true);
  assert.equal(got.counts, full.counts);
  assert.is(got.tree, full.tree);
}

test('an unchanged tree is reused without reading its trees; changes anywhere still land', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    for (const d of ['a/b/c', 'a/x', 'p/q', 'empty']) mkdirSync(join(src, d), { recursive: true });
    for (const f of ['a/b/c/deep.txt', 'a/b/one.txt', 'a/x/two.txt', 'p/q/three.txt', 'top.txt']) writeFileSync(join(src, f), `${f}\n`.repeat(50));
    symlinkSync('top.txt', join(src, 'link'));
    const first = await snapshot(store, src);
    const second = await snapshot(store, src);
    assert.is(second.tree, first.tree);
    // Only the snapshot root's one-entry tree is read: every directory below matched its memo.
    assert.is(second.loads, 1, `tree chunks read: ${second.loads}`);
    assert.is(second.reused, 5);
    await assertCounts(store, src, second);

    // A deep change: the trees on its path are read (for the unchanged siblings' chunk lists)
    // and rewritten; the other subtrees are still reused unread.
    writeFileSync(join(src, 'a/b/c/deep.txt'), 'changed\n');
    const third = await snapshot(store, src);
    assert.is.not(third.tree, first.tree);
    assert.ok(third.loads <= 5, `tree chunks read: ${third.loads}`);
    await assertCounts(store, src, third);
    // A mode change on a file and on a directory; a new empty directory; a symlink retargeted.
    chmodSync(join(src, 'p/q/three.txt'), 0o600);
    chmodSync(join(src, 'a/x'), 0o700);
    mkdirSync(join(src, 'empty/new'));
    utimesSync(join(src, 'top.txt'), new Date(1_000_000), new Date(2_000_000));
    const fourth = await snapshot(store, src);
    assert.is.not(fourth.tree, third.tree);
    await assertCounts(store, src, fourth);
    // A change in the last subtree only: the ones before it come back unchanged, unread.
    writeFileSync(join(src, 'p/q/three.txt'), 'three, changed\n');
    const late = await snapshot(store, src);
    assert.ok(late.loads <= 4, `tree chunks read: ${late.loads}`);
    await assertCounts(store, src, late);
    // The memos must agree with the trees: rebuilding the index drops them, and the slow path
    // then finds the same tree.
    assert.is(fxcp(['store', 'rebuild-index', store]).code, 0);
    const fifth = await snapshot(store, src);
    assert.is(fifth.tree, late.tree);
    assert.ok(fifth.loads > 5, 'without memos every tree is read');
    const sixth = await snapshot(store, src);
    assert.is(sixth.tree, late.tree);
    assert.is(sixth.loads, 1);
    // An exclude pattern changes the listing: the excluded file is gone from the snapshot.
    const seventh = await snapshot(store, src, (rel) => rel === 'a/x/two.txt');
    assert.is.not(seventh.tree, late.tree);
    const out = join(t.path, 'out');
    assert.is(fxcp(['snap', 'restore', store, '-o', out, '--latest']).code, 0);
    assert.not.ok(existsSync(join(out, 'a/x/two.txt')));
    assert.is(readFileSync(join(out, 'a/b/c/deep.txt'), 'utf8'), 'changed\n');
    assert.is(lstatSync(join(out, 'top.txt')).mtimeMs, 2_000_000);
    assert.ok(existsSync(join(out, 'empty/new')));
    for (const d of ['p', 'a/b']) assert.equal(compareTrees(join(src, d), join(out, d)), [], d);
  } finally {
    t.cleanup();
  }
});

// The unchanged walk is synchronous; it must still let the event loop turn, or an abort (Ctrl-C),
// the progress bar and I/O would wait for the whole walk. The abort is requested the moment the
// walk starts (its first memo lookup); the walk must stop with it, not finish the snapshot.
test('an unchanged walk lets an abort through', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), storePath = join(t.path, 'store');
    for (let i = 0; i < 300; i++) {
      mkdirSync(join(src, `d${i}`, 'sub'), { recursive: true });
      writeFileSync(join(src, `d${i}`, 'sub', 'f'), String(i));
    }
    await snapshot(storePath, src);
    const outcome = await withStore(storePath, { lock: 'shared', command: 'test', onWarn: () => {} }, async (store: Store) => {
      const ac = new AbortController();
      const get = store.index.getListingMemo.bind(store.index);
      let asked = false;
      store.index.getListingMemo = ((id: Uint8Array) => {
        if (!asked) { asked = true; setImmediate(() => ac.abort()); }
        return get(id);
      }) as typeof store.index.getListingMemo;
      return archive(store, { source: src, codec: { name: 'zstd', level: DEFAULT_ZSTD_LEVEL }, onWarn: () => {}, signal: ac.signal })
        .then(() => 'finished', (err: Error) => err.constructor.name);
    });
    assert.is(outcome, 'AbortedError');
  } finally {
    t.cleanup();
  }
});

test('changedDirs: only the directories a watch names are listed; the rest keep their trees and their counts', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    for (const d of ['a/b', 'c/d/e', 'f']) mkdirSync(join(src, d), { recursive: true });
    for (const f of ['a/b/1', 'a/2', 'c/d/e/3', 'c/4', 'f/5', '6']) writeFileSync(join(src, f), `${f}\n`.repeat(10));
    symlinkSync('6', join(src, 'link'));
    const first = await snapshot(store, src);
    writeFileSync(join(src, 'a/b/1'), 'changed\n');
    writeFileSync(join(src, 'c/d/e/3'), 'x'.repeat(80));  // its size unchanged: the counts still agree
    const touched = new Set(['', 'a', 'a/b']);
    const pruned = await snapshot(store, src, undefined, false, { since: first.id, touches: (rel) => touched.has(rel), entriesChanged: (rel) => touched.has(rel) });
    // The change the watch named is in; the one it did not name is not (the subtree was trusted),
    // and the counts are the whole tree's all the same.
    const full = await snapshot(join(t.path, 'other-store'), src);
    assert.equal(pruned.counts, full.counts);
    assert.is.not(pruned.tree, full.tree, 'c/d/e kept its old tree: it was not listed');
    assert.is.not(pruned.tree, first.tree, 'a/b/1 is in');
    // Counted from a snapshot other than `since`, the names are not trusted: everything is listed.
    const again = await snapshot(store, src, undefined, false, { since: first.id, touches: (rel) => touched.has(rel), entriesChanged: (rel) => touched.has(rel) });
    assert.is(again.tree, full.tree);
    assert.equal(again.counts, full.counts);
  } finally {
    t.cleanup();
  }
});

test('changedDirs: a directory only above a change is spliced, not listed; its changed subdirectory is lstat\'ed afresh', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    for (const d of ['a/b', 'a/c', 'f']) mkdirSync(join(src, d), { recursive: true });
    for (const f of ['a/b/1', 'a/2', 'a/c/3', 'f/4', '5']) writeFileSync(join(src, f), `${f}\n`.repeat(10));
    const first = await snapshot(store, src);
    // a/b's own entries change (a new file moves its mtime, which a's tree records).
    writeFileSync(join(src, 'a/b/new'), 'new\n');
    const named = { since: first.id, touches: (rel: string) => ['', 'a', 'a/b'].includes(rel), entriesChanged: (rel: string) => rel === 'a/b' };
    const spliced = await snapshot(store, src, undefined, false, named);
    const full = await snapshot(join(t.path, 'full-1'), src);
    assert.is(spliced.tree, full.tree, 'a/b walked again, its fresh metadata spliced into a and the root');
    assert.equal(spliced.counts, full.counts);

    // Proof that a and the root were not listed: a change in a that the names leave out is not seen.
    writeFileSync(join(src, 'a/b/1'), 'again\n');
    writeFileSync(join(src, 'a/unnamed'), 'x\n');
    const second = await snapshot(store, src, undefined, false, { ...named, since: spliced.id });
    const full2 = await snapshot(join(t.path, 'full-2'), src);
    assert.is.not(second.tree, full2.tree, 'a/unnamed is not in: a was spliced, not listed');
    assert.is(second.counts.files, full2.counts.files - 1);

    // A subdirectory replaced under the same name: the splice gives up and a is listed.
    // (Made beside it first, so it cannot reuse the old inode number.)
    mkdirSync(join(src, 'a/c2'));
    writeFileSync(join(src, 'a/c2/3'), 'other\n');
    rmSync(join(src, 'a/c'), { recursive: true });
    renameSync(join(src, 'a/c2'), join(src, 'a/c'));
    const replaced = await snapshot(store, src, undefined, false, { since: second.id, touches: (rel) => ['', 'a', 'a/c'].includes(rel), entriesChanged: (rel) => rel === 'a/c' });
    const full3 = await snapshot(join(t.path, 'full-3'), src);
    assert.is(replaced.tree, full3.tree, 'a listed again: a/unnamed and the new a/c are in');
    assert.equal(replaced.counts, full3.counts);
  } finally {
    t.cleanup();
  }
});

test('changedDirs: a directory whose changed entries are named is spliced by name: writes, creates, removals, renames, type changes, excludes', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    const exclude = (rel: string) => rel.endsWith('.tmp');
    for (const d of ['a/s', 'b', 'c']) mkdirSync(join(src, d), { recursive: true });
    for (const f of ['a/1', 'a/2', 'a/3', 'a/4', 'a/5', 'a/s/6', 'b/7', 'c/8', '9']) writeFileSync(join(src, f), `${f}\n`.repeat(10));
    const held = new HeldTrees();
    const first = await snapshot(store, src, exclude, false, undefined, held);
    let since = first.id;
    // Each round: what changed, the names a watch would give, and a snapshot spliced by them
    // equal to one that lists everything; the second round splices the trees the first held.
    const rounds: Array<[() => void, Record<string, string[]>, string[]]> = [
      [() => {
        writeFileSync(join(src, 'a/1'), 'written, longer than before\n');
        chmodSync(join(src, 'a/2'), 0o600);
        rmSync(join(src, 'a/3'));
        writeFileSync(join(src, 'a/0-new'), 'new\n');
        renameSync(join(src, 'a/4'), join(src, 'a/4b'));
        rmSync(join(src, 'a/5'));
        mkdirSync(join(src, 'a/5'));
        writeFileSync(join(src, 'a/5/inside'), 'in\n');
        writeFileSync(join(src, 'a/x.tmp'), 'left out\n');
        writeFileSync(join(src, 'a/s/6'), 'deeper\n');
        rmSync(join(src, 'b'), { recursive: true });
      }, { a: ['1', '2', '3', '0-new', '4', '4b', '5', 'x.tmp'], 'a/s': ['6'], '': ['b'] }, ['a/5']],
      [() => {
        writeFileSync(join(src, 'a/zz-last'), 'last\n');
        rmSync(join(src, 'a/0-new'));
        symlinkSync('1', join(src, 'a/link'));
      }, { a: ['zz-last', '0-new', 'link'] }, []],
    ];
    for (const [change, names, whole] of rounds) {
      change();
      const dirs = new Set([...Object.keys(names), '', ...whole]);
      for (const d of [...dirs]) for (let at = d.lastIndexOf('/'); at > 0; at = d.lastIndexOf('/', at - 1)) dirs.add(d.slice(0, at));
      if (names.a || names['a/s']) dirs.add('a');
      const changed: ArchiveOptions['changedDirs'] = {
        since, touches: (rel) => dirs.has(rel), entriesChanged: (rel) => rel in names || whole.includes(rel),
        touchedChildren: (rel) => [...dirs].filter((d) => d !== rel && (rel === '' ? !d.includes('/') : d.startsWith(`${rel}/`) && !d.slice(rel.length + 1).includes('/'))).map((d) => rel === '' ? d : d.slice(rel.length + 1)),
        changedNames: (rel) => whole.includes(rel) ? null : names[rel] ?? null,
      };
      const spliced = await snapshot(store, src, exclude, false, changed, held);
      held.endCut();
      const full = await snapshot(join(t.path, `full-${since.slice(0, 8)}`), src, exclude);
      assert.is(spliced.tree, full.tree, 'the named entries looked at again, the others kept');
      assert.equal(spliced.counts, full.counts);
      since = spliced.id;
    }
    // Proof that a was not listed: an entry the names leave out is not seen.
    writeFileSync(join(src, 'a/unnamed'), 'x\n');
    writeFileSync(join(src, 'a/1'), 'named\n');
    const names = new Set(['1']);
    const only = await snapshot(store, src, exclude, false, { since, touches: (rel) => rel === '' || rel === 'a', entriesChanged: (rel) => rel === 'a', touchedChildren: (rel) => rel === '' ? ['a'] : [], changedNames: (rel) => rel === 'a' ? names : null }, held);
    const full = await snapshot(join(t.path, 'full-last'), src, exclude);
    assert.is(only.counts.files, full.counts.files - 1, 'a/unnamed left out: a was not listed');
  } finally {
    t.cleanup();
  }
});

test.run();
