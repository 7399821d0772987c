/**
 * End to end with the real fxcp: export to a file and to stdout through a real shell pipe into
 * import, import twice (nothing new stored), inspect --list/--verify on a damaged archive
 * (damaged chunk and affected files named, exit 1; unaffected files still restore), restore
 * from an archive with --file, Foxing and tar detection (Foxing archives themselves: foxing-archive.test.ts), and the free-space pre-flight.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareTrees } from '../helpers/tree-compare.js';
import { FXCP, fxcp, fxcpJson, isRoot, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir('fxar-it-');
const src = join(t.path, 'src'), store = join(t.path, 'store'), archive = join(t.path, 'a.fxar');

function makeSource(): void {
  mkdirSync(join(src, 'data/sub'), { recursive: true });
  mkdirSync(join(src, 'docs'));
  writeFileSync(join(src, 'data/a.db'), seededBytes(700_000, 1));
  writeFileSync(join(src, 'data/b.db'), seededBytes(90_000, 2));
  writeFileSync(join(src, 'data/sub/c.db'), 'nested\n');
  writeFileSync(join(src, 'docs/readme.txt'), 'hello\n'.repeat(5000));
}

test.before(() => {
  makeSource();
  const r = fxcp(['snap', 'create', src, store]);
  assert.is(r.code, 0, r.stderr);
  writeFileSync(join(src, 'docs/new.txt'), 'second snapshot\n');
  const r2 = fxcp(['snap', 'create', src, store]);
  assert.is(r2.code, 0, r2.stderr);
});
test.after(() => t.cleanup());

test('export to a file, restore all of it from the archive', () => {
  const r = fxcpJson(['snap', 'export', store, '-o', archive]);
  assert.is(r.snapshots.length, 2);
  assert.ok(existsSync(archive));
  assert.equal(readdirSync(t.path).filter((f) => f.startsWith('.fxtmp-')), [], 'no temporary file left');
  const out = join(t.path, 'restored');
  const res = fxcp(['snap', 'restore', archive, '-o', out]);
  assert.is(res.code, 0, res.stderr);
  const diffs = compareTrees(src, out);
  assert.equal(diffs, [], diffs.join('\n'));
});

test('restore --file GLOB from an archive restores only matching files', () => {
  const out = join(t.path, 'sel');
  const res = fxcp(['snap', 'restore', archive, '-o', out, '--file', 'data/*.db']);
  assert.is(res.code, 0, res.stderr);
  assert.equal(readdirSync(join(out, 'data')).sort(), ['a.db', 'b.db']);
  assert.ok(readFileSync(join(out, 'data/a.db')).equals(seededBytes(700_000, 1)));
  assert.not.ok(existsSync(join(out, 'docs')));
});

test('export | import through a real shell pipe, then import again stores nothing new', () => {
  const store2 = join(t.path, 'store2');
  const sh = spawnSync('sh', ['-c', `"${FXCP}" snap export "${store}" | "${FXCP}" snap import - "${store2}" --json`], { encoding: 'utf8' });
  assert.is(sh.status, 0, sh.stderr);
  const first = JSON.parse(sh.stdout);
  assert.is(first.snapshots.filter((s: { added: boolean }) => s.added).length, 2);
  assert.ok(first.newChunks > 0);
  const before = fxcpJson(['store', 'stats', store2]);
  const again = fxcpJson(['snap', 'import', archive, store2]);
  assert.is(again.newChunks, 0);
  assert.is(again.snapshots.filter((s: { added: boolean }) => s.added).length, 0);
  assert.equal(fxcpJson(['store', 'stats', store2]), before, 'store stats unchanged');
  const list = fxcpJson(['snap', 'list', store2]);
  assert.equal(list.snapshots.map((s: { id: string }) => s.id), fxcpJson(['snap', 'list', store]).snapshots.map((s: { id: string }) => s.id));
  const out = join(t.path, 'from-store2');
  assert.is(fxcp(['snap', 'restore', store2, '-o', out]).code, 0);
  assert.equal(compareTrees(src, out), []);
});

test('export --compress recompresses; the archive restores the same bytes', () => {
  const lz = join(t.path, 'lz4.fxar');
  const r = fxcp(['snap', 'export', store, '-o', lz, '--latest', '--compress', 'lz4']);
  assert.is(r.code, 0, r.stderr);
  const info = fxcpJson(['snap', 'inspect', lz]);
  assert.is(info.snapshots.length, 1);
  assert.not.ok('zstd' in info.codecs, JSON.stringify(info.codecs));
  const out = join(t.path, 'lz4-out');
  assert.is(fxcp(['snap', 'restore', lz, '-o', out]).code, 0);
  assert.equal(compareTrees(src, out), []);
});

test('inspect --list and --verify on a damaged archive: names the chunk and the files; unaffected files restore (exit 1)', () => {
  // --list --json is JSON Lines: an object per entry, then the summary.
  const listed = fxcp(['snap', 'inspect', archive, '--list', '--json']);
  assert.is(listed.code, 0, listed.stderr);
  const lines = listed.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.some((f: { path?: string }) => f.path === 'data/sub/c.db'));
  const info = lines[lines.length - 1].summary;
  assert.ok(info.dedupRatio > 1, `dedup ${info.dedupRatio}`);
  // Damage a byte inside the payload of b.db's only chunk (random data, stored raw).
  const bytes = readFileSync(archive);
  const needle = seededBytes(90_000, 2).subarray(1000, 1032);
  const at = bytes.indexOf(needle);
  assert.ok(at > 0, 'chunk payload found');
  bytes[at + 5] ^= 0xff;
  const damaged = join(t.path, 'damaged.fxar');
  writeFileSync(damaged, bytes);
  const v = fxcp(['snap', 'inspect', damaged, '--verify']);
  assert.is(v.code, 1, v.stderr);
  assert.match(v.stderr, /chunk [0-9a-f]{16} at offset \d+ is damaged \(hash mismatch\)/);
  assert.match(v.stderr, /data\/b\.db: needs a damaged chunk/);
  assert.not.match(v.stderr, /a\.db: needs/);
  const out = join(t.path, 'partial');
  const res = fxcp(['snap', 'restore', damaged, '-o', out]);
  assert.is(res.code, 1, res.stderr);
  assert.match(res.stderr, /data\/b\.db: .*damaged/);
  assert.not.ok(existsSync(join(out, 'data/b.db')));
  assert.ok(readFileSync(join(out, 'data/a.db')).equals(seededBytes(700_000, 1)));
  assert.is(readFileSync(join(out, 'docs/readme.txt'), 'utf8'), 'hello\n'.repeat(5000));
  // Import refuses it as a whole (the chunk fails verification) before it stored anything: the
  // store it would have created is not left behind.
  const store3 = join(t.path, 'store3');
  const imp = fxcp(['snap', 'import', damaged, store3]);
  assert.is(imp.code, 2);
  assert.match(imp.stderr, /damaged/);
  assert.not.ok(existsSync(store3));
});

test('a truncated archive: clear errors from inspect, restore and a piped import', () => {
  const cut = join(t.path, 'cut.fxar');
  writeFileSync(cut, readFileSync(archive).subarray(0, 300_000));
  for (const args of [['snap', 'inspect', cut], ['snap', 'restore', cut, '-o', join(t.path, 'cut-out')]]) {
    const r = fxcp(args);
    assert.is(r.code, 2);
    assert.match(r.stderr, /cut\.fxar: archive is truncated/);
  }
  const sh = spawnSync('sh', ['-c', `cat "${cut}" | "${FXCP}" snap import - "${join(t.path, 'store4')}"`], { encoding: 'utf8' });
  assert.is(sh.status, 2);
  assert.match(sh.stderr, /<stdin>: archive is truncated/);
  assert.not.ok(existsSync(join(t.path, 'store4')), 'a store with nothing in it is not left behind');
});

test('a Foxing (Rust) archive is read as one (this one has no manifest: refused as damaged) and a tar imported, both recognised by content, not name', () => {
  const fox = Buffer.alloc(4096);
  fox.write('FXAR', 0, 'latin1');
  fox.writeUInt32LE(2, 4);
  const foxPath = join(t.path, 'backup.tar'); // the name must not matter
  writeFileSync(foxPath, fox);
  for (const args of [['snap', 'inspect', foxPath], ['snap', 'import', foxPath, join(t.path, 'sx')], ['snap', 'restore', foxPath, '-o', join(t.path, 'fx')]]) {
    const r = fxcp(args);
    assert.is(r.code, 2, args.join(' '));
    assert.match(r.stderr, /backup\.tar: Foxing manifest is not valid JSON/);
  }
  const tar = spawnSync('tar', ['--format=posix', '-cf', '-', '-C', src, 'docs']).stdout; // pax: ns mtimes
  const tarPath = join(t.path, 'x.fxar');
  writeFileSync(tarPath, tar);
  const r = fxcp(['snap', 'import', tarPath, join(t.path, 'st'), '--tag', 'from-tar']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /imported tar .*x\.fxar into .* as snapshot/);
  const snaps = fxcpJson(['snap', 'list', join(t.path, 'st')]).snapshots;
  assert.is(snaps.length, 1);
  assert.equal(snaps[0].tags, ['from-tar']);
  assert.is(fxcp(['snap', 'restore', join(t.path, 'st'), '-o', join(t.path, 'st-out')]).code, 0);
  assert.equal(compareTrees(join(src, 'docs'), join(t.path, 'st-out', 'docs')), []);
  // The seeking readers need FXAR: a tar is named, with what to do instead.
  const i = fxcp(['snap', 'inspect', tarPath]);
  assert.is(i.code, 2);
  assert.match(i.stderr, /is a tar archive, not FXAR v2; import it with 'fxcp snap import'/);
});

test('free-space pre-flight: export, import and restore stop before writing on a tiny file system', () => {
  if (!isRoot) { console.log('  (skipped: mounting a tmpfs needs root)'); return; }
  const small = join(t.path, 'tiny');
  mkdirSync(small);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', small]);
  if (m.status !== 0) { console.log(`  (skipped: cannot mount tmpfs: ${m.stderr})`); return; }
  try {
    const e = fxcp(['snap', 'export', store, '-o', join(small, 'a.fxar')]);
    assert.is(e.code, 2);
    assert.match(e.stderr, /not enough free space for the archive: needs \d+ bytes, the file system has \d+ bytes free/);
    assert.equal(readdirSync(small), [], 'nothing written');
    const i = fxcp(['snap', 'import', archive, join(small, 'store')]);
    assert.is(i.code, 2);
    assert.match(i.stderr, /not enough free space for the imported chunks/);
    const r = fxcp(['snap', 'restore', archive, '-o', join(small, 'out')]);
    assert.is(r.code, 2);
    assert.match(r.stderr, /not enough free space for the restore/);
    assert.not.ok(existsSync(join(small, 'out')));
  } finally {
    spawnSync('umount', [small]);
  }
});

test('a directory whose tree is split into parts (over 1 MiB) exports, imports and restores', () => {
  const big = join(t.path, 'bigdir'), bstore = join(t.path, 'bstore'), barch = join(t.path, 'big.fxar');
  mkdirSync(join(big, 'many'), { recursive: true });
  for (let i = 0; i < 6000; i++) writeFileSync(join(big, 'many', `${String(i).padStart(5, '0')}-${'n'.repeat(200)}`), i % 7 === 0 ? String(i) : '');
  assert.is(fxcp(['snap', 'create', big, bstore]).code, 0);
  const e = fxcp(['snap', 'export', bstore, '-o', barch]);
  assert.is(e.code, 0, e.stderr);
  const v = fxcp(['snap', 'inspect', barch, '--verify']);
  assert.is(v.code, 0, v.stderr);
  const imp = fxcp(['snap', 'import', barch, join(t.path, 'bstore2')]);
  assert.is(imp.code, 0, imp.stderr);
  const out = join(t.path, 'big-out');
  assert.is(fxcp(['snap', 'restore', barch, '-o', out]).code, 0);
  assert.equal(compareTrees(big, out), []);
});

test('export --format tar (or a .tar.* name) writes one snapshot that GNU tar extracts; an unknown format is refused', () => {
  const plain = join(t.path, 'one.tar');
  const r = fxcp(['snap', 'export', store, '--latest', '-o', plain]);
  assert.is(r.code, 0, r.stderr);
  const x = join(t.path, 'gnu-x');
  mkdirSync(x);
  assert.is(spawnSync('tar', ['-xpf', plain, '-C', x]).status, 0);
  assert.equal(compareTrees(src, x), []); // members are relative to the snapshot's root, like tar -C src .
  const gz = join(t.path, 'one.data'); // not a tar name: --format decides, --compress picks gzip
  assert.is(fxcp(['snap', 'export', store, '--format', 'tar', '--compress', 'gzip', '-o', gz]).code, 0);
  assert.is(spawnSync('sh', ['-c', `gzip -dc "${gz}" | tar -tf - >/dev/null`]).status, 0);
  const two = fxcp(['snap', 'export', store, '--format', 'tar', '--all', '-o', join(t.path, 'z.tar')]);
  assert.is(two.code, 2);
  assert.match(two.stderr, /a tar holds one snapshot/);
  const u = fxcp(['snap', 'export', store, '-o', join(t.path, 'z'), '--format', 'zip']);
  assert.is(u.code, 2);
  assert.match(u.stderr, /unknown format 'zip'/);
});

test.run();
