/**
 * snap prune, store gc and store check through the real CLI: the kept snapshots restore
 * exactly, the space of removed ones is freed (packs deleted or repacked), check --read-data
 * is clean afterwards and finds planted damage, naming the snapshot and file it affects.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mulberry32, seededBytes } from '../helpers/seeded.js';
import { compareTrees } from '../helpers/tree-compare.js';
import { fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';

function packBytes(store: string): number {
  let n = 0;
  for (const fan of readdirSync(join(store, 'packs'))) for (const f of readdirSync(join(store, 'packs', fan))) n += statSync(join(store, 'packs', fan, f)).size;
  return n;
}

/** Five snapshots of a changing tree; golden copies of each. Returns ids oldest first. */
function build(root: string): { src: string; store: string; ids: string[]; golden: string[] } {
  const src = join(root, 'src'), store = join(root, 'store');
  mkdirSync(join(src, 'keep'), { recursive: true });
  writeFileSync(join(src, 'keep', 'shared.bin'), seededBytes(700_000, 1));
  const ids: string[] = [], golden: string[] = [];
  const r = mulberry32(5);
  for (let i = 0; i < 5; i++) {
    writeFileSync(join(src, `gen${i}.bin`), seededBytes(300_000 + Math.floor(r() * 300_000), 100 + i));
    if (i >= 2) spawnSync('rm', ['-f', join(src, `gen${i - 2}.bin`)]);
    mkdirSync(join(src, 'small'), { recursive: true });
    for (let j = 0; j < 20; j++) writeFileSync(join(src, 'small', `f${j}`), seededBytes(200 + j * 37, i * 100 + j));
    ids.push(fxcpJson(['snap', 'create', src, store, ...(i === 1 ? ['--tag', 'monthly'] : [])]).snapshot.id);
    const g = join(root, `golden${i}`);
    spawnSync('cp', ['-a', src, g]);
    golden.push(g);
  }
  return { src, store, ids, golden };
}

function restoresExactly(root: string, store: string, id: string, golden: string): void {
  const out = join(root, `r-${id.slice(0, 8)}-${Math.random().toString(16).slice(2)}`);
  const r = fxcp(['snap', 'restore', store, '-o', out, '--snapshot', id]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(compareTrees(golden, out, { rootMeta: false }), []);
  spawnSync('rm', ['-rf', out]);
}

test('prune keeps by rule, frees space, and leaves a store that checks clean', () => {
  const t = tempDir();
  try {
    const { store, ids, golden } = build(t.path);
    const before = packBytes(store);
    const dry = fxcpJson(['snap', 'prune', store, '--keep-last', '2', '--keep-tag', 'monthly', '-n']);
    assert.equal(dry.removed.map((s: { id: string }) => s.id).sort(), [ids[0], ids[2]].sort());
    assert.ok(dry.gc.freedBytes > 0);
    assert.is(packBytes(store), before, 'a dry run changes nothing');
    assert.is(fxcpJson(['snap', 'list', store]).snapshots.length, 5);

    const r = fxcpJson(['snap', 'prune', store, '--keep-last', '2', '--keep-tag', 'monthly', '--repack-threshold', '0%']);
    const reasons = Object.fromEntries(r.kept.map((s: { id: string; reasons: string[] }) => [s.id, s.reasons]));
    assert.equal(reasons[ids[1]], ['tag monthly']);
    assert.equal(reasons[ids[4]], ['last 1']);
    assert.ok(r.gc.packsDeleted + r.gc.packsRepacked > 0, JSON.stringify(r.gc));
    assert.ok(packBytes(store) < before, 'space was freed');
    assert.equal(fxcpJson(['snap', 'list', store]).snapshots.map((s: { id: string }) => s.id).sort(), [ids[1], ids[3], ids[4]].sort());
    const check = fxcp(['store', 'check', store, '--read-data']);
    assert.is(check.code, 0, check.stdout + check.stderr);
    for (const i of [1, 3, 4]) restoresExactly(t.path, store, ids[i], golden[i]);
    // Nothing is left to collect; a second gc frees nothing.
    const gc = fxcpJson(['store', 'gc', store, '--repack-threshold', '0%']);
    assert.is(gc.gc.garbageChunks, 0);
    assert.is(gc.gc.freedBytes, 0);
  } finally {
    t.cleanup();
  }
});

test('prune --older-than with --keep-last keeps the newest even when all are old', () => {
  const t = tempDir();
  try {
    const { store, ids } = build(t.path);
    const r = fxcpJson(['snap', 'prune', '--older-than', '30d', '--keep-last', '10', store]);
    assert.is(r.removed.length, 0); // all are newer than 30 days
    const r2 = fxcpJson(['snap', 'prune', '--older-than', '0h', '--keep-last', '2', store]);
    assert.equal(r2.kept.map((s: { id: string }) => s.id).sort(), [ids[3], ids[4]].sort());
  } finally {
    t.cleanup();
  }
});

test('prune without a keep rule is a usage error; bad values are named', () => {
  const t = tempDir();
  try {
    const { store } = build(t.path);
    let r = fxcp(['snap', 'prune', store]);
    assert.is(r.code, 2);
    assert.match(r.stderr, /no keep rule/);
    r = fxcp(['snap', 'prune', store, '--keep-daily', 'x']);
    assert.is(r.code, 2);
    assert.match(r.stderr, /--keep-daily must be a whole number/);
    r = fxcp(['snap', 'prune', store, '--older-than', '30 days']);
    assert.match(r.stderr, /cannot read duration/);
    assert.is(fxcpJson(['snap', 'list', store]).snapshots.length, 5);
  } finally {
    t.cleanup();
  }
});

test('check finds a flipped byte and names the snapshots and the file', () => {
  const t = tempDir();
  try {
    const { store, ids } = build(t.path);
    // Flip a byte inside the largest pack (a data pack holding keep/shared.bin or a gen file).
    let biggest = '', size = 0;
    for (const fan of readdirSync(join(store, 'packs'))) for (const f of readdirSync(join(store, 'packs', fan))) {
      const p = join(store, 'packs', fan, f);
      if (statSync(p).size > size) { size = statSync(p).size; biggest = p; }
    }
    const b = readFileSync(biggest);
    b[200] ^= 0x40;
    spawnSync('chmod', ['u+w', biggest]);
    writeFileSync(biggest, b);
    assert.is(fxcp(['store', 'check', store]).code, 0, 'structure alone does not read data');
    const r = fxcp(['store', 'check', store, '--read-data', '--json']);
    assert.is(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.is(doc.clean, false);
    const damaged = doc.problems.find((p: { code: string }) => p.code === 'DAMAGED_CHUNK');
    assert.ok(damaged, r.stdout);
    assert.ok(damaged.affects.length > 0, 'affected files are named');
    assert.ok(damaged.affects.every((a: { snapshot: string; path: string }) => ids.includes(a.snapshot) && /\.bin$/.test(a.path)), JSON.stringify(damaged.affects));
    // gc never deletes what it cannot verify: with the damaged pack, gc leaves it alone.
    const gc = fxcp(['store', 'gc', store, '--repack-threshold', '0%', '--json']);
    assert.ok(gc.code === 0 || gc.code === 1, gc.stderr);
  } finally {
    t.cleanup();
  }
});

test('check --read-data-subset reads a deterministic part; bad subsets are usage errors', () => {
  const t = tempDir();
  try {
    const { store } = build(t.path);
    const all = fxcpJson(['store', 'check', store, '--read-data']);
    let sum = 0;
    for (let n = 1; n <= 3; n++) sum += fxcpJson(['store', 'check', store, '--read-data-subset', `${n}/3`]).packsRead;
    assert.is(sum, all.packsRead);
    const a = fxcpJson(['store', 'check', store, '--read-data-subset', '50%']).packsRead;
    assert.is(fxcpJson(['store', 'check', store, '--read-data-subset', '50%']).packsRead, a);
    for (const bad of ['0%', '4/3', 'x']) assert.is(fxcp(['store', 'check', store, '--read-data-subset', bad]).code, 2);
  } finally {
    t.cleanup();
  }
});

test.run();
