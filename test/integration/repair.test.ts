/**
 * store repair: a damaged trailer loses nothing (every record is salvaged); a damaged record
 * loses one chunk, which repair and check then name with its snapshot and file, and a restore
 * brings back every other file exactly and names the damaged one (exit 1). Damaged packs go to
 * quarantine/, never deleted; a clean store is left as it was.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seededBytes } from '../helpers/seeded.js';
import { compareTrees } from '../helpers/tree-compare.js';
import { fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';

function packs(store: string): string[] {
  const out: string[] = [];
  for (const fan of readdirSync(join(store, 'packs'))) for (const f of readdirSync(join(store, 'packs', fan))) out.push(join(store, 'packs', fan, f));
  return out.sort();
}

function flip(path: string, at: number): void {
  const b = readFileSync(path);
  b[at < 0 ? b.length + at : at] ^= 0x10;
  spawnSync('chmod', ['u+w', path]);
  writeFileSync(path, b);
}

/** Truncates the store's (first) snapshot record to 100 bytes, as a torn copy would; returns its id. */
function truncateRecord(store: string): string {
  const id = readdirSync(join(store, 'snapshots')).sort()[0].replace(/\.snap$/, '');
  const rec = join(store, 'snapshots', `${id}.snap`);
  spawnSync('chmod', ['u+w', rec]);
  truncateSync(rec, 100);
  return id;
}

function setup(root: string): { src: string; store: string } {
  const src = join(root, 'src'), store = join(root, 'store');
  mkdirSync(join(src, 'sub'), { recursive: true });
  for (let i = 0; i < 6; i++) writeFileSync(join(src, `f${i}.bin`), seededBytes(300_000, i + 1));
  for (let i = 0; i < 10; i++) writeFileSync(join(src, 'sub', `s${i}.txt`), `small file ${i}\n`.repeat(i + 1));
  fxcpJson(['snap', 'create', src, store, '--compress', 'none']);
  return { src, store };
}

test('repair of a clean store changes nothing', () => {
  const t = tempDir();
  try {
    const { store } = setup(t.path);
    const before = packs(store);
    const r = fxcp(['store', 'repair', store]);
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.equal(packs(store), before);
  } finally {
    t.cleanup();
  }
});

test('a damaged trailer: everything salvaged, pack quarantined, check clean', () => {
  const t = tempDir();
  try {
    const { src, store } = setup(t.path);
    const biggest = packs(store).sort((a, b) => statSync(b).size - statSync(a).size)[0];
    flip(biggest, -20); // inside the trailer checksum
    const r = fxcp(['store', 'repair', store, '--json']);
    assert.is(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.is(doc.damagedPacks.length, 1);
    assert.ok(doc.damagedPacks[0].salvaged > 0);
    assert.is(doc.check.problems.length, 0, JSON.stringify(doc.check.problems));
    assert.is(readdirSync(join(store, 'quarantine', 'packs')).length, 1);
    assert.is(fxcp(['store', 'check', store, '--read-data']).code, 0);
    const out = join(t.path, 'out');
    assert.is(fxcp(['snap', 'restore', store, '-o', out]).code, 0);
    assert.equal(compareTrees(src, out, { rootMeta: false }), []);
  } finally {
    t.cleanup();
  }
});

test('a damaged record: one chunk lost and named; every other file restores', () => {
  const t = tempDir();
  try {
    const { src, store } = setup(t.path);
    const biggest = packs(store).sort((a, b) => statSync(b).size - statSync(a).size)[0];
    flip(biggest, Math.floor(statSync(biggest).size / 2));
    const r = fxcp(['store', 'repair', store, '--json']);
    assert.is(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.is(doc.damagedPacks.length, 1);
    assert.is(doc.damagedPacks[0].lost, 1);
    const lost = doc.check.problems.filter((p: { code: string }) => p.code === 'MISSING_CHUNK');
    assert.is(lost.length, 1, JSON.stringify(doc.check.problems));
    const files: string[] = lost[0].affects.map((a: { path: string }) => a.path);
    assert.is(files.length, 1);
    assert.match(files[0], /^f\d\.bin$/);
    // check keeps naming it; restore brings back the rest and names the damaged file.
    const c = fxcp(['store', 'check', store]);
    assert.is(c.code, 1);
    assert.ok(c.stdout.includes(files[0]), c.stdout);
    const out = join(t.path, 'out');
    const res = fxcp(['snap', 'restore', store, '-o', out]);
    assert.is(res.code, 1, res.stderr);
    assert.ok(res.stderr.includes(files[0]), res.stderr);
    rmSync(join(src, files[0]));
    rmSync(join(out, files[0]), { force: true });
    assert.equal(compareTrees(src, out, { rootMeta: false }), []);
  } finally {
    t.cleanup();
  }
});

test('a damaged snapshot record with no good copy stops gc, also once repair quarantined it, until gc --forget-quarantined', () => {
  const t = tempDir();
  try {
    const { src, store } = setup(t.path);
    writeFileSync(join(src, 'later.bin'), seededBytes(100_000, 99));
    fxcpJson(['snap', 'create', src, store]);
    const rec = join(store, 'snapshots', readdirSync(join(store, 'snapshots')).sort()[0]);
    flip(rec, 10);
    // Drop the index: the rebuild on open cannot take the damaged record into the catalogue.
    rmSync(join(store, 'index'), { recursive: true, force: true });
    const before = packs(store);
    const gc = fxcp(['store', 'gc', store, '--repack-threshold', '0%']);
    assert.is(gc.code, 2, gc.stdout + gc.stderr);
    assert.match(gc.stderr, /snapshot record is damaged; nothing was deleted/);
    assert.equal(packs(store), before);
    const r = fxcp(['store', 'repair', store, '--json']);
    assert.is(r.code, 1, r.stderr);
    assert.is(JSON.parse(r.stdout).quarantinedSnapshots.length, 1);
    assert.is(readdirSync(join(store, 'quarantine', 'snapshots')).length, 1);
    // The quarantined record may still name data nobody else keeps: gc deletes nothing...
    const held = fxcp(['store', 'gc', store, '--repack-threshold', '0%', '--json']);
    assert.is(held.code, 2, held.stdout + held.stderr);
    assert.is(JSON.parse(held.stderr).code, 'QUARANTINED_SNAPSHOTS');
    assert.equal(packs(store).filter((p) => before.includes(p)).length, before.length, 'no pack deleted');
    // Prune refuses before it removes any record; a dry run of gc reports what it would free.
    const listed = readdirSync(join(store, 'snapshots')).length;
    const prune = fxcp(['snap', 'prune', store, '--keep-last', '1', '--group-by', 'none', '--json']);
    assert.is(prune.code, 2, prune.stdout + prune.stderr);
    assert.is(JSON.parse(prune.stderr).code, 'QUARANTINED_SNAPSHOTS');
    assert.is(readdirSync(join(store, 'snapshots')).length, listed, 'prune removed no record');
    const dry = fxcp(['store', 'gc', store, '--dry-run']);
    assert.is(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /holds this gc back/);
    // ...until a person lets it forget the record.
    const forgot = fxcp(['store', 'gc', store, '--forget-quarantined']);
    assert.is(forgot.code, 0, forgot.stderr);
    assert.match(forgot.stdout, /forgot quarantined snapshot record/);
    assert.is(readdirSync(join(store, 'quarantine', 'snapshots')).length, 0);
    assert.is(fxcp(['store', 'check', store, '--read-data']).code, 0);
  } finally {
    t.cleanup();
  }
});

test('a damaged snapshot record whose good copy the index holds: list and restore warn, check reports it, repair rewrites it, gc frees nothing of it', () => {
  const t = tempDir();
  try {
    const { src, store } = setup(t.path);
    const id = truncateRecord(store);
    const list = fxcp(['snap', 'list', store]);
    assert.is(list.code, 0, list.stderr);
    assert.match(list.stderr, /DAMAGED|damaged/);
    assert.match(list.stderr, /good copy/);
    const r1 = fxcp(['snap', 'restore', store, '--snapshot', id, '-o', join(t.path, 'r1')]);
    assert.is(r1.code, 0, r1.stderr);
    assert.match(r1.stderr, /damaged/);
    const check = fxcp(['store', 'check', store, '--json']);
    assert.is(check.code, 1);
    assert.ok(JSON.parse(check.stdout).problems.some((p: { code: string }) => p.code === 'DAMAGED_SNAPSHOT'));
    const rep = fxcp(['store', 'repair', store, '--json']);
    assert.is(rep.code, 0, rep.stdout + rep.stderr);
    const doc = JSON.parse(rep.stdout);
    assert.is(doc.rewrittenSnapshots.length, 1);
    assert.is(doc.quarantinedSnapshots.length, 0);
    const before = packs(store);
    assert.is(fxcp(['store', 'gc', store, '--repack-threshold', '0%']).code, 0);
    assert.equal(packs(store), before, 'gc freed nothing: the snapshot still names all its data');
    assert.is(fxcp(['store', 'check', store, '--read-data']).code, 0);
    const list2 = fxcp(['snap', 'list', store]);
    assert.not.match(list2.stderr, /damaged/);
    const r2 = fxcp(['snap', 'restore', store, '--snapshot', id, '-o', join(t.path, 'r2')]);
    assert.is(r2.code, 0, r2.stderr);
    assert.equal(compareTrees(src, join(t.path, 'r2')), []);
  } finally {
    t.cleanup();
  }
});

test('store rebuild-index rescues a damaged record from the old index before discarding it', () => {
  const t = tempDir();
  try {
    const { src, store } = setup(t.path);
    const id = truncateRecord(store);
    const rb = fxcp(['store', 'rebuild-index', store, '--json']);
    assert.is(rb.code, 0, rb.stdout + rb.stderr);
    assert.is(JSON.parse(rb.stdout).rewrittenSnapshots, 1);
    assert.is(JSON.parse(rb.stdout).snapshots, 1);
    const rep = fxcp(['store', 'repair', store, '--json']);
    assert.is(rep.code, 0, rep.stdout + rep.stderr);
    assert.is(JSON.parse(rep.stdout).quarantinedSnapshots.length, 0);
    const r = fxcp(['snap', 'restore', store, '--snapshot', id, '-o', join(t.path, 'r')]);
    assert.is(r.code, 0, r.stderr);
    assert.equal(compareTrees(src, join(t.path, 'r')), []);
  } finally {
    t.cleanup();
  }
});

test.run();
