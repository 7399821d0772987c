/**
 * The one tree walker (lib/snapshot/tree-walk.ts) on a real store made by the real CLI and on
 * an FXAR archive exported from it: paths are the names' exact bytes (a name that is not UTF-8
 * included), in name-byte order, a directory before its children and its LEAVE after them; the
 * root-entry rule; skipping a directory or an already-seen tree; a deep tree; abort.
 */
import { lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ArchiveReader } from '../../lib/fxar/archive-reader.js';
import { listSnapshots } from '../../lib/snapshot/snapshot-catalogue.js';
import { END, ENTRY, TREE, TreeCursor, type TreeSource, walkTree, walkTrees } from '../../lib/snapshot/tree-walk.js';
import { withStore } from '../../lib/store/open-store.js';
import { fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';

const t = tempDir('tree-walk-');
const src = join(t.path, 'src'), store = join(t.path, 'store'), archive = join(t.path, 'a.fxar');
const one = join(t.path, 'one.txt'), oneStore = join(t.path, 'one-store');
/** A name that is not UTF-8: decoding it would turn 0xff into U+FFFD and lose the byte. */
const BAD = Buffer.from([0x66, 0xff, 0x6f]);
const DEPTH = 300;
const b = (s: string) => Buffer.from(s);
const srcBuf = b(src);

let first = '', second = '', oneId = '';

test.before(() => {
  mkdirSync(join(src, 'a', 'x'), { recursive: true });
  mkdirSync(join(src, 'skipme', 'inner'), { recursive: true });
  writeFileSync(join(src, 'a', 'x', 'f1'), 'one');
  writeFileSync(join(src, 'a', 'g'), 'two');
  writeFileSync(join(src, 'skipme', 'inner', 'h'), 'three');
  writeFileSync(join(src, 'z'), 'four');
  const badDir = Buffer.concat([srcBuf, b('/'), BAD]);
  mkdirSync(badDir);
  writeFileSync(Buffer.concat([badDir, b('/'), BAD]), 'five');
  let deep = join(src, 'deep');
  for (let i = 0; i < DEPTH; i++) deep = join(deep, 'd');
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'bottom'), 'six');
  first = fxcpJson(['snap', 'create', src, store]).snapshot.id;
  writeFileSync(join(src, 'a', 'g'), 'two, changed');
  second = fxcpJson(['snap', 'create', src, store]).snapshot.id;
  const r = fxcp(['snap', 'export', store, '-o', archive]);
  assert.is(r.code, 0, r.stderr);
  writeFileSync(one, 'a single file');
  oneId = fxcpJson(['snap', 'create', one, oneStore]).snapshot.id;
});
test.after(() => t.cleanup());

/** What the source holds, as the walk must name it: relative byte paths, pre-order, name-byte order. */
function expected(dir: Buffer, rel: Buffer, out: Buffer[]): Buffer[] {
  const names = readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare);
  for (const n of names) {
    const path = rel.length ? Buffer.concat([rel, b('/'), n]) : n;
    out.push(path);
    const full = Buffer.concat([dir, b('/'), n]);
    if (lstatSync(full).isDirectory()) expected(full, path, out);
  }
  return out;
}

async function onStore<T>(path: string, fn: (s: TreeSource, root: (id: string) => Buffer) => Promise<T>): Promise<T> {
  return withStore(path, { lock: 'shared', command: 'test' }, async (s) => {
    const all = listSnapshots(s);
    return fn(s, (id) => Buffer.from(all.find((x) => x.id === id)!.record.tree, 'hex'));
  });
}

/** Every event of a walk as text: 'E path' and 'L path' (paths as hex: exact bytes). */
async function events(source: TreeSource, root: Buffer, skip?: (path: Buffer) => boolean): Promise<string[]> {
  const out: string[] = [];
  await walkTrees(source, root, {
    entry(e, path) {
      out.push(`E ${path.toString('hex')}`);
      if (e.type === 'dir' && skip?.(path)) return false;
    },
    leave(_e, path) { out.push(`L ${path.toString('hex')}`); },
  });
  return out;
}

test('paths are the exact name bytes, in name-byte order, on a store and on an archive', async () => {
  const want = expected(srcBuf, Buffer.alloc(0), []).map((p) => p.toString('hex'));
  assert.ok(want.includes(Buffer.concat([BAD, b('/'), BAD]).toString('hex')), 'the source holds the non-UTF-8 names');
  const fromStore = await onStore(store, async (s, root) => {
    const got: string[] = [];
    await walkTrees(s, root(second), { entry(_e, path) { if (path.length) got.push(path.toString('hex')); } });
    return got;
  });
  assert.equal(fromStore, want);
  const ar = ArchiveReader.openFile(archive);
  try {
    const snap = ar.listSnapshots().find((x) => x.id === second)!;
    const got: string[] = [];
    await walkTrees(ar, Buffer.from(snap.record.tree, 'hex'), { entry(_e, path) { if (path.length) got.push(path.toString('hex')); } });
    assert.equal(got, want);
  } finally {
    ar.reader.close();
  }
});

test('the root-entry rule: a directory source is the prefix itself, a file source is prefix/name', async () => {
  await onStore(store, async (s, root) => {
    const c = new TreeCursor(s, root(first), { prefix: b('/target') });
    assert.is(c.step(), TREE);
    assert.is(c.path.toString(), '/target');
    await c.load();
    assert.is(c.step(), ENTRY);
    assert.is(c.entry.type, 'dir');
    assert.is(c.path.toString(), '/target', 'the source directory is the target, not /target/src');
    assert.is(c.step(), TREE);
    await c.load();
    assert.is(c.step(), ENTRY);
    assert.is(c.path.toString(), '/target/a');
  });
  await onStore(oneStore, async (s, root) => {
    const paths: string[] = [];
    await walkTrees(s, root(oneId), { entry(_e, path) { paths.push(path.toString()); } });
    assert.equal(paths, ['one.txt']);
  });
});

test('pre/post order: a directory before its children, its LEAVE after all of them and before its next sibling', async () => {
  const ev = await onStore(store, (s, root) => events(s, root(first)));
  const enters = ev.filter((x) => x.startsWith('E '));
  const leaves = ev.filter((x) => x.startsWith('L '));
  // One LEAVE per directory (the source's included), none for files.
  assert.is(leaves.length, 1 + 5 + DEPTH + 1, 'src, a, a/x, skipme, skipme/inner, the bad-name directory, deep and its DEPTH levels');
  for (const l of leaves) {
    const p = l.slice(2);
    const at = ev.indexOf(l);
    const enter = ev.indexOf(`E ${p}`);
    assert.ok(enter >= 0 && enter < at, 'entered before left');
    const prefix = p.length ? `${p}2f` : '';
    // Everything between the directory's ENTRY and its LEAVE lies below it.
    for (const x of ev.slice(enter + 1, at)) assert.ok(x.slice(2).startsWith(prefix) && x.slice(2) !== p, `${x} is below ${p}`);
    // And nothing below it comes after the LEAVE.
    for (const x of ev.slice(at + 1)) assert.ok(!(p.length && x.slice(2).startsWith(prefix)), `${x} after leaving ${p}`);
  }
  assert.is(enters.length, new Set(enters).size, 'each entry once');
  assert.equal(ev.slice(0, 4), ['E ', `E ${b('a').toString('hex')}`, `E ${b('a/g').toString('hex')}`, `E ${b('a/x').toString('hex')}`]);
  assert.is(ev[ev.length - 1], 'L ', 'the source directory is left last');
});

test('an entry hook returning false keeps the walk out of that directory (no tree load, no LEAVE)', async () => {
  const skipme = b('skipme').toString('hex');
  await onStore(store, async (s, root) => {
    const ev = await events(s, root(first), (p) => p.equals(b('skipme')));
    assert.ok(ev.includes(`E ${skipme}`));
    assert.not.ok(ev.includes(`L ${skipme}`));
    assert.not.ok(ev.some((x) => x.slice(2).startsWith(`${skipme}2f`)), 'nothing below skipme');
    const loads: string[] = [];
    await walkTrees(s, root(first), {
      tree(_id, path) { loads.push(path.toString()); return true; },
      entry(e, path) { if (path.equals(b('skipme'))) return false; },
    });
    assert.not.ok(loads.includes('skipme'), 'its tree is not loaded');
    assert.ok(loads.includes('a/x'));
  });
});

test('a tree hook returning false skips a tree already seen: a second snapshot loads only what changed', async () => {
  await onStore(store, async (s, root) => {
    const seen = new Set<string>();
    const loaded: string[][] = [];
    for (const id of [first, second]) {
      const paths: string[] = [];
      await walkTrees(s, root(id), {
        tree(treeId, path) {
          const k = treeId.toString('hex');
          if (seen.has(k)) return false;
          seen.add(k);
          paths.push(path.toString());
          return true;
        },
      });
      loaded.push(paths);
    }
    assert.is(loaded[0].length, 1 + 1 + 5 + DEPTH + 1, 'every tree of the first snapshot');
    // a/g changed: the root tree, the source's tree and a's tree are new; a/x and the rest are not.
    assert.equal(loaded[1], ['', '', 'a']);
  });
});

test('a deep tree: one decoded tree per level of the current path', async () => {
  await onStore(store, async (s, root) => {
    const c = new TreeCursor(s, root(first));
    let maxDepth = 0, bottom = '';
    for (let st = c.step(); st !== END; st = c.step()) {
      if (st === TREE) await c.load();
      maxDepth = Math.max(maxDepth, c.depth);
      if (st === ENTRY && c.entry.name.toString() === 'bottom') bottom = c.path.toString();
    }
    assert.is(bottom, `deep/${'d/'.repeat(DEPTH)}bottom`);
    // The root tree, the source's, deep's and DEPTH more: never more frames than that.
    assert.is(maxDepth, 3 + DEPTH);
    assert.is(c.depth, 0);
  });
});

test('abort: the walk throws ABORTED before the next tree is loaded', async () => {
  await onStore(store, async (s, root) => {
    const ac = new AbortController();
    let afterAbort = 0;
    const err = await walkTrees(s, root(first), {
      tree() { if (ac.signal.aborted) afterAbort++; return true; },
      entry(_e, path) { if (path.equals(b('a'))) ac.abort(); },
    }, { signal: ac.signal }).then(() => null, (e: unknown) => e);
    assert.is((err as { code?: string } | null)?.code, 'ABORTED');
    assert.is(afterAbort, 0, 'no tree is offered once aborted');
  });
});

test('a tree that cannot be loaded goes to treeError, and the walk goes on past it', async () => {
  await onStore(store, async (s, root) => {
    const failing: TreeSource = {
      async loadChunkPreferSync(id) {
        const bytes = await s.loadChunkPreferSync(id);
        if (failAt && Buffer.from(id).equals(failAt)) throw new Error('damaged');
        return bytes;
      },
    };
    let failAt: Buffer | null = null;
    // The tree of 'a': find its id first.
    await walkTrees(s, root(first), { tree(id, path) { if (path.equals(b('a'))) failAt = id; return true; } });
    const errors: string[] = [], paths: string[] = [];
    await walkTrees(failing, root(first), {
      entry(_e, path) { paths.push(path.toString('latin1')); },
      treeError(err, _id, path) { errors.push(`${path.toString()}: ${(err as Error).message}`); },
    });
    assert.equal(errors, ['a: damaged']);
    assert.ok(paths.includes('a') && !paths.includes('a/g') && paths.includes('z'));
    const thrown = await walkTrees(failing, root(first), {}).then(() => null, (e: Error) => e.message);
    assert.is(thrown, 'damaged', 'without treeError the walk throws');
  });
});

test('walkTree (gc, check): every chunk with the path of the file or tree that needs it', async () => {
  await onStore(store, async (s, root) => {
    const data = new Map<string, string>();
    await walkTree(s as never, root(first), {
      enterTree: () => true,
      chunk(id, path, kind) { if (kind === 'data') data.set(path, id.toString('hex')); },
    });
    assert.ok(data.has('a/x/f1') && data.has('z') && data.has(`deep/${'d/'.repeat(DEPTH)}bottom`));
    assert.ok(data.has(`${BAD.toString()}/${BAD.toString()}`), 'as text in messages (U+FFFD)');
    assert.is(data.size, 6);
  });
});

test.run();
