/**
 * A walk beside a base snapshot (lib/snapshot/base-trees.ts), through its consumer
 * SnapshotChunks, on a real store made by the real CLI: what is offered plus what the base
 * reaches covers everything the next snapshot reaches (nothing a receiver needs is left out),
 * while what is the base's at the same path is not offered: an unchanged directory as a whole,
 * an unchanged file in a changed directory. A file moved elsewhere is still offered (the base
 * proves nothing about other paths), and a base of another source changes nothing.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listSnapshots, type SnapshotListing } from '../../lib/snapshot/snapshot-catalogue.js';
import { walkTree } from '../../lib/snapshot/tree-walk.js';
import { type Store, withStore } from '../../lib/store/index.js';
import { SnapshotChunks } from '../../lib/transport/snapshot-chunks.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir('base-trees-');
const src = join(t.path, 'src'), store = join(t.path, 'store');
test.after(() => t.cleanup());

test.before(() => {
  for (const d of ['same/deep', 'changed/deep', 'moves']) mkdirSync(join(src, d), { recursive: true });
  writeFileSync(join(src, 'same/deep/a.bin'), seededBytes(300_000, 1));
  writeFileSync(join(src, 'changed/deep/kept.bin'), seededBytes(200_000, 2));
  writeFileSync(join(src, 'changed/deep/edited.txt'), 'before\n');
  writeFileSync(join(src, 'moves/m.bin'), seededBytes(100_000, 3));
  assert.is(fxcp(['snap', 'create', src, store]).code, 0);
  writeFileSync(join(src, 'changed/deep/edited.txt'), 'after\n');
  renameSync(join(src, 'moves/m.bin'), join(src, 'changed/m.bin'));
  mkdirSync(join(src, 'new'));
  writeFileSync(join(src, 'new/n.txt'), 'new\n');
  assert.is(fxcp(['snap', 'create', src, store]).code, 0);
});

const hex = (b: Buffer) => b.toString('hex');

async function reached(s: Store, snap: SnapshotListing): Promise<{ all: Set<string>; byPath: Map<string, string[]> }> {
  const all = new Set<string>(), byPath = new Map<string, string[]>();
  await walkTree(s, Buffer.from(snap.record.tree, 'hex'), {
    enterTree(id) { all.add(hex(id)); return true; },
    chunk(id, path) { all.add(hex(id)); byPath.set(path, [...(byPath.get(path) ?? []), hex(id)]); },
  });
  return { all, byPath };
}

async function offered(s: Store, snap: SnapshotListing, base?: SnapshotListing): Promise<Set<string>> {
  const w = new SnapshotChunks(s);
  w.start(Buffer.from(snap.record.tree, 'hex'), base && Buffer.from(base.record.tree, 'hex'));
  const out = new Set<string>();
  for (;;) {
    const page = await w.next(16);
    for (const e of page.entries) out.add(hex(Buffer.from(e.id)));
    if (page.last) return out;
  }
}

test('beside its parent: the offer plus the parent covers the snapshot; unchanged paths are left out, a moved file is not', async () => {
  await withStore(store, { lock: 'shared', command: 'test' }, async (s) => {
    const [v1, v2] = listSnapshots(s);
    const r1 = await reached(s, v1!), r2 = await reached(s, v2!);
    const beside = await offered(s, v2!, v1!);
    const whole = await offered(s, v2!);
    for (const id of r2.all) assert.ok(beside.has(id) || r1.all.has(id), `chunk ${id.slice(0, 12)} is neither offered nor the base's`);
    assert.equal(whole, r2.all, 'without a base, everything is offered');
    const at = (p: string): string[] => {
      const ids = r2.byPath.get(p);
      assert.ok(ids, `no chunks at ${p}`);
      return ids;
    };
    for (const id of [...at('same/deep/a.bin'), ...at('changed/deep/kept.bin')]) assert.not.ok(beside.has(id), 'an unchanged file is not offered');
    for (const id of [...at('changed/deep/edited.txt'), ...at('new/n.txt')]) assert.ok(beside.has(id), 'a changed or new file is offered');
    for (const id of at('changed/m.bin')) assert.ok(beside.has(id), 'a moved file is offered: the base proves nothing about another path');
    // Exactly: six trees (the root's, the source's, changed/, changed/deep/, moves/, new/) and the three files' chunks.
    const files = at('changed/deep/edited.txt').length + at('changed/m.bin').length + at('new/n.txt').length;
    assert.is(beside.size, 6 + files, `${beside.size} offered beside the base, ${whole.size} without`);
  });
});

test('a base of another source (no path in common) leaves the offer whole', async () => {
  const other = join(t.path, 'other');
  mkdirSync(join(other, 'x'), { recursive: true });
  writeFileSync(join(other, 'x', 'a.bin'), seededBytes(300_000, 1));
  assert.is(fxcp(['snap', 'create', other, store]).code, 0);
  await withStore(store, { lock: 'shared', command: 'test' }, async (s) => {
    const all = listSnapshots(s);
    const v2 = all[1]!, foreign = all[2]!;
    assert.equal(await offered(s, v2, foreign), (await reached(s, v2)).all);
  });
});

test.run();
