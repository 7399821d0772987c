/**
 * snap diff on real stores made by the real archiver: every kind of change is named with exactly
 * the fields that differ, unchanged entries are not named, and unchanged subtrees are not read.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { native } from '../../lib/native/load.js';
import { compareEntries, diffSnapshots, type Change } from '../../lib/snapshot/snapshot-diff.js';
import { listSnapshots } from '../../lib/snapshot/snapshot-catalogue.js';
import type { TreeEntry } from '../../lib/snapshot/tree-entry.js';
import { loadTree } from '../../lib/snapshot/tree-store.js';
import type { Store } from '../../lib/store/chunk-store.js';
import { withStore } from '../../lib/store/open-store.js';
import { fxcpJson, tempDir } from '../helpers/run-cli.js';
import { mulberry32, seededBytes } from '../helpers/seeded.js';

const snap = (src: string, store: string): string => fxcpJson(['snap', 'create', src, store]).snapshot.id;

async function diff(store: string, a: string, b: string): Promise<string[]> {
  return withStore(store, { lock: 'shared', command: 'test' }, async (s) => {
    const all = listSnapshots(s);
    const ra = all.find((x) => x.id === a)!.record, rb = all.find((x) => x.id === b)!.record;
    const out: string[] = [];
    for await (const c of diffSnapshots(s, ra, rb)) out.push(show(c));
    return out;
  });
}

function show(c: Change): string {
  return `${c.kind} ${c.type} ${c.path}${c.what.length ? ` ${c.what.join(',')}` : ''}`;
}

/** Whole seconds, so setting it again through utimes (microseconds) restores it exactly. */
const FIXED = 1_600_000_000;

/** Sets a file's mtime back to FIXED after a change, so only the change under test remains. */
function keepMtime(path: string, fn: () => void): void {
  fn();
  utimesSync(path, FIXED, FIXED);
}

function tryXattr(path: string, value: string): boolean {
  if (!native) return false;
  try { native.xattrSet(path, 'user.note', Buffer.from(value)); return true; } catch { return false; }
}

test('each kind of change is named with exactly the fields that differ', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    mkdirSync(join(src, 'keep/deep'), { recursive: true });
    mkdirSync(join(src, 'gone/sub'), { recursive: true });
    mkdirSync(join(src, 'meta'));
    writeFileSync(join(src, 'keep/deep/same.bin'), seededBytes(200_000, 1));
    writeFileSync(join(src, 'meta/content.bin'), seededBytes(100_000, 2));
    writeFileSync(join(src, 'meta/mode.txt'), 'mode');
    writeFileSync(join(src, 'meta/touch.txt'), 'touch');
    writeFileSync(join(src, 'meta/grow.txt'), 'grow');
    writeFileSync(join(src, 'meta/xattr.txt'), 'xattr');
    writeFileSync(join(src, 'gone/sub/x'), 'x');
    writeFileSync(join(src, 'gone/y'), 'y');
    writeFileSync(join(src, 'becomes-dir'), 'file first');
    symlinkSync('keep', join(src, 'link'));
    const xattrs = tryXattr(join(src, 'meta/xattr.txt'), 'one');
    for (const f of ['content.bin', 'mode.txt', 'xattr.txt']) utimesSync(join(src, 'meta', f), FIXED, FIXED);
    const a = snap(src, store);

    // Same size, different bytes, same mtime: only the chunk list tells.
    keepMtime(join(src, 'meta/content.bin'), () => writeFileSync(join(src, 'meta/content.bin'), seededBytes(100_000, 3)));
    keepMtime(join(src, 'meta/mode.txt'), () => chmodSync(join(src, 'meta/mode.txt'), 0o600));
    utimesSync(join(src, 'meta/touch.txt'), 1_000_000, 1_000_000);
    writeFileSync(join(src, 'meta/grow.txt'), 'grown');
    if (xattrs) keepMtime(join(src, 'meta/xattr.txt'), () => tryXattr(join(src, 'meta/xattr.txt'), 'two'));
    rmSync(join(src, 'gone'), { recursive: true });
    unlinkSync(join(src, 'becomes-dir'));
    mkdirSync(join(src, 'becomes-dir'));
    writeFileSync(join(src, 'becomes-dir/inside'), 'i');
    mkdirSync(join(src, 'added/nested'), { recursive: true });
    writeFileSync(join(src, 'added/nested/n'), 'n');
    unlinkSync(join(src, 'link'));
    symlinkSync('meta', join(src, 'link'));
    const b = snap(src, store);

    const got = await diff(store, a, b);
    const expected = [
      'modified dir . mtime',
      'added dir added',
      'added dir added/nested',
      'added file added/nested/n',
      'removed file becomes-dir',
      'added dir becomes-dir',
      'added file becomes-dir/inside',
      'removed dir gone',
      'removed dir gone/sub',
      'removed file gone/sub/x',
      'removed file gone/y',
      'modified symlink link target,mtime',
      'modified file meta/content.bin content',
      'modified file meta/grow.txt content,mtime',
      'modified file meta/mode.txt mode',
      'modified file meta/touch.txt mtime',
      ...(xattrs ? ['modified file meta/xattr.txt xattrs'] : []),
    ];
    assert.equal(got, expected);

    // The other way round: added and removed swap, the same paths are named.
    const back = await diff(store, b, a);
    assert.is(back.filter((l) => l.startsWith('added ')).length, expected.filter((l) => l.startsWith('removed ')).length);
    assert.ok(back.includes('added dir gone/sub') && back.includes('removed file added/nested/n'));
    assert.equal(await diff(store, a, a), [], 'a snapshot has no changes against itself');
  } finally { t.cleanup(); }
});

test('a changed file deep in a big tree reads only the trees on its path', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    for (let i = 0; i < 30; i++) {
      mkdirSync(join(src, `d${i}/e`), { recursive: true });
      writeFileSync(join(src, `d${i}/e/f`), `file ${i}`);
    }
    const a = snap(src, store);
    const dir = join(src, 'd7/e');
    writeFileSync(join(dir, 'f'), 'changed!'); // rewriting a file leaves its directory's mtime alone
    const b = snap(src, store);
    await withStore(store, { lock: 'shared', command: 'test' }, async (s) => {
      const all = listSnapshots(s);
      let loads = 0;
      const load = s.loadChunkPreferSync.bind(s);
      s.loadChunkPreferSync = (id) => { loads++; return load(id); };
      const changes: string[] = [];
      for await (const c of diffSnapshots(s, all[0].record, all[1].record)) changes.push(show(c));
      assert.equal(changes, ['modified file d7/e/f content,mtime']);
      // Two roots, then the source directory, d7 and d7/e on each side: 8, not 2 × 62 trees.
      assert.is(loads, 8);
    });
    assert.ok(a !== b);
  } finally { t.cleanup(); }
});

test('a renamed file is one removed and one added path', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    mkdirSync(src);
    writeFileSync(join(src, 'old-name'), seededBytes(5000, 9));
    const a = snap(src, store);
    renameSync(join(src, 'old-name'), join(src, 'new-name'));
    const b = snap(src, store);
    assert.equal(await diff(store, a, b), ['modified dir . mtime', 'added file new-name', 'removed file old-name']);
  } finally { t.cleanup(); }
});

/** Every path of a snapshot with its entry, by a full walk (no subtree skipped). */
async function listAll(store: Store, treeHex: string): Promise<Map<string, TreeEntry>> {
  const out = new Map<string, TreeEntry>();
  const [root] = await loadTree(store, Buffer.from(treeHex, 'hex'));
  out.set('.', root);
  const walk = async (id: Buffer, rel: string): Promise<void> => {
    for (const e of await loadTree(store, id)) {
      const p = rel ? `${rel}/${e.name.toString()}` : e.name.toString();
      out.set(p, e);
      if (e.subtree) await walk(e.subtree, p);
    }
  };
  await walk(root.subtree!, '');
  return out;
}

/** The changes a naive comparison of two full listings gives, as sorted lines. */
function naiveDiff(a: Map<string, TreeEntry>, b: Map<string, TreeEntry>): string[] {
  const out: string[] = [];
  for (const [p, x] of a) {
    const y = b.get(p);
    if (!y || y.type !== x.type) out.push(`removed ${x.type} ${p}`);
    if (y && y.type !== x.type) out.push(`added ${y.type} ${p}`);
    if (y && y.type === x.type) {
      const what = compareEntries(x, y);
      if (what.length) out.push(`modified ${y.type} ${p} ${what.join(',')}`);
    }
  }
  for (const [p, y] of b) if (!a.has(p)) out.push(`added ${y.type} ${p}`);
  return out.sort();
}

/** Seeded random edits of a tree: content, mode, times, removals, additions, type changes. */
function mutate(src: string, rnd: () => number, round: number): void {
  const all: string[] = [];
  const walk = (d: string) => { for (const n of readdirSync(d)) { const p = join(d, n); all.push(p); if (lstatSync(p).isDirectory()) walk(p); } };
  walk(src);
  for (let k = 0; k < 8; k++) {
    const p = all[Math.floor(rnd() * all.length)];
    if (!existsSync(p) && !isLink(p)) continue;
    const st = lstatSync(p);
    const op = Math.floor(rnd() * 6);
    if (st.isSymbolicLink()) { unlinkSync(p); symlinkSync(`t${round}-${k}`, p); continue; }
    if (op === 0) rmSync(p, { recursive: true });
    else if (op === 1) chmodSync(p, st.isDirectory() ? 0o750 : 0o640);
    else if (op === 2) utimesSync(p, 1_500_000_000 + k, 1_500_000_000 + k);
    else if (op === 3 && st.isFile()) { rmSync(p); mkdirSync(p); writeFileSync(join(p, 'inner'), `r${round}`); }
    else if (op === 4 && st.isDirectory()) { mkdirSync(join(p, `new${round}-${k}`)); writeFileSync(join(p, `new${round}-${k}`, 'f'), 'new'); }
    else if (st.isFile()) writeFileSync(p, seededBytes(1000 + Math.floor(rnd() * 5000), round * 100 + k));
  }
}

function isLink(p: string): boolean {
  try { return lstatSync(p).isSymbolicLink(); } catch { return false; }
}

test('seeded random edits: the skipping diff equals a naive diff of full listings', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    const rnd = mulberry32(20261122);
    for (let d = 0; d < 6; d++) {
      const dir = join(src, `d${d}`, `e${d % 3}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 6; f++) writeFileSync(join(dir, `f${f}`), seededBytes(500 + Math.floor(rnd() * 3000), d * 10 + f));
      symlinkSync(`f0`, join(dir, 'link'));
    }
    const ids = [snap(src, store)];
    for (let round = 1; round <= 3; round++) {
      mutate(src, rnd, round);
      ids.push(snap(src, store));
    }
    await withStore(store, { lock: 'shared', command: 'test' }, async (s) => {
      const recs = listSnapshots(s);
      for (let i = 0; i < recs.length; i++) {
        for (let j = 0; j < recs.length; j++) {
          const got: string[] = [];
          for await (const c of diffSnapshots(s, recs[i].record, recs[j].record)) got.push(show(c));
          const expected = naiveDiff(await listAll(s, recs[i].record.tree), await listAll(s, recs[j].record.tree));
          assert.equal([...got].sort(), expected, `diff ${i} → ${j}`);
          if (i !== j) assert.ok(got.length > 0, `snapshots ${i} and ${j} differ`);
          // Tree order: a parent's line comes before any line beneath it.
          const firstAt = new Map<string, number>();
          got.forEach((l, n) => { const p = l.split(' ')[2]; if (!firstAt.has(p)) firstAt.set(p, n); });
          for (const [p, n] of firstAt) {
            const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : null;
            if (parent && firstAt.has(parent)) assert.ok(firstAt.get(parent)! < n, `${parent} before ${p}`);
          }
        }
      }
    });
    assert.is(ids.length, 4);
  } finally { t.cleanup(); }
});

test.run();
