/**
 * Foxing (Rust) FXAR v2 archives end to end with the real fxcp: inspect (text, --json, --list,
 * --verify of an intact and a damaged archive), import from a file and from stdin through a
 * shell pipe (dedup against what the store holds, times and order kept, a second import adds
 * nothing), restore (every codec and form, --snapshot, --file), refused paths (exit 1, nothing
 * outside -o), and damaged archives (one-line errors, exit 2). The archives are the fixtures in
 * fixtures/foxing-v2/, derived from the published layout, not produced by the reference.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FXCP, fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';
import { foxingFiles, SNAP_A, SNAP_B } from '../../fixtures/foxing-v2/foxing-spec.js';

const FIX = new URL('../../../fixtures/foxing-v2/', import.meta.url).pathname;
const t = tempDir('foxing-it-');
test.after(() => t.cleanup());

const files = foxingFiles();
const contentOf = (snap: string, rel: string) => files.find((f) => f.path === `${snap}/tree/${rel}`)!.data;

test('inspect says it is a Foxing archive and shows form, codec, snapshots, files and sizes', () => {
  const r = fxcp(['snap', 'inspect', join(FIX, 'xz-labelled-zstd-streamed.fxar'), '--list']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /: Foxing \(Rust\) FXAR v2 archive, streamed with FXAF footer, codec xz \(zstd data: the reference's --compress xz quirk\), .*2 snapshots, 9 files, 13 chunks/);
  assert.match(r.stdout, new RegExp(`${SNAP_A}  2026-03-12T08:45:00.000Z +5 files`));
  assert.match(r.stdout, /- 0755 +22  2026-03-12T08:40:04Z  bin\/tool\.sh/);
  assert.match(r.stdout, /- 0640 +29  .*data\/new file ü\.txt/);
  const j = fxcpJson(['snap', 'inspect', join(FIX, 'lz4.fxar')]);
  assert.is(j.format, 'foxing-fxar-v2');
  assert.is(j.codec, 'lz4');
  assert.is(j.form, 'seekable');
  assert.equal(j.snapshots.map((s: { name: string; files: number }) => [s.name, s.files]), [[SNAP_A, 5], [SNAP_B, 4]]);
  assert.is(j.logicalBytes, files.reduce((n, f) => n + f.data.length, 0));
  const l = fxcp(['snap', 'inspect', join(FIX, 'gzip.fxar'), '--list', '--json']);
  const lines = l.stdout.trim().split('\n').map((x) => JSON.parse(x));
  assert.is(lines.length, 10, 'nine files, then the summary');
  assert.equal(lines[0], { snapshot: SNAP_A, path: 'bin/tool.sh', type: 'file', size: 22, mode: 0o755, mtime: 1773304804, uid: 1000, gid: 1000 });
  assert.ok(lines[9].summary);
});

test('inspect --verify: every chunk and file verified (exit 0); a damaged chunk and its files named (exit 1)', () => {
  const ok = fxcp(['snap', 'inspect', join(FIX, 'none-streamed.fxar'), '--verify']);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /verify: all 13 chunks match their BLAKE3 ids and all 9 files their whole-file BLAKE3/);
  const b = readFileSync(join(FIX, 'none.fxar'));
  b[b.length - 3] ^= 0x20; // the last chunk: deep/a/b/c.txt of the second snapshot
  const bad = join(t.path, 'damaged.fxar');
  writeFileSync(bad, b);
  const r = fxcp(['snap', 'inspect', bad, '--verify']);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /fxcp: warning: .*damaged\.fxar: chunk 12 \(.*\): does not match its BLAKE3 id/);
  assert.match(r.stderr, new RegExp(`warning: .*'${SNAP_B}/tree/deep/a/b/c\\.txt': needs damaged chunk 12`));
  assert.match(r.stdout, /verify: 1 of 13 chunks damaged, 1 of 9 files do not verify/);
});

test('import from a file: one snapshot per Foxing snapshot, times kept, dedup against the store reported; again: nothing added', () => {
  // The store first gets a snapshot holding the readme, so the import finds it there.
  const src = join(t.path, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'readme.txt'), contentOf(SNAP_A, 'docs/readme.txt'));
  const store = join(t.path, 'store');
  assert.is(fxcp(['snap', 'create', src, store]).code, 0);
  const r = fxcp(['snap', 'import', join(FIX, 'zstd.fxar'), store]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`imported Foxing archive .*zstd\\.fxar into .*: 2 of 2 snapshots \\(${SNAP_A} as [0-9a-f]{12}, ${SNAP_B} as [0-9a-f]{12}\\), 9 files, .* deduplicated against the store, .* new`));
  const list = fxcpJson(['snap', 'list', store]).snapshots;
  assert.equal(list.map((s: { time: string }) => s.time), ['2026-03-12T08:45:00.000Z', '2026-03-13T09:00:00.000Z', list[2].time]);
  assert.equal(list[0].tags, ['foxing']);
  const again = fxcpJson(['snap', 'import', join(FIX, 'zstd.fxar'), store]);
  assert.equal(again.snapshots.map((s: { added: boolean }) => s.added), [false, false]);
  assert.is(again.newBytes, 0);
  assert.is(again.dedupBytes, again.bytes);
  const out = join(t.path, 'from-store');
  assert.is(fxcp(['snap', 'restore', store, '-o', out, '--snapshot', list[1].id]).code, 0);
  assert.ok(readFileSync(join(out, 'data/new file ü.txt')).equals(contentOf(SNAP_B, 'data/new file ü.txt')));
});

test('import from stdin through a pipe (a streamed export), deduplicated against the store; nothing left in tmp/', () => {
  const store = join(t.path, 'store-pipe');
  const first = fxcpJson(['snap', 'import', join(FIX, 'gzip.fxar'), store]);
  assert.ok(first.dedupBytes > 0 && first.newBytes > 0, 'the second snapshot shares the readme with the first');
  const r = spawnSync('sh', ['-c', `cat "${join(FIX, 'lz4-streamed.fxar')}" | "${FXCP}" snap import - "${store}" --json`], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.is(j.archive, '<stdin>');
  assert.is(j.newBytes, 0);
  assert.is(j.dedupBytes, j.bytes);
  assert.equal(readdirSync(join(store, 'tmp')), []);
});

test('restore: every codec and form, the newest snapshot by default, --snapshot and --file', () => {
  for (const name of readdirSync(FIX).filter((n) => n.endsWith('.fxar') && n !== 'unsafe-paths.fxar')) {
    const out = join(t.path, `r-${name}`);
    const r = fxcp(['snap', 'restore', join(FIX, name), '-o', out]);
    assert.is(r.code, 0, `${name}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`restored Foxing snapshot ${SNAP_B} .*: 4 files`));
    for (const rel of ['docs/readme.txt', 'data/random.bin', 'data/new file ü.txt', 'deep/a/b/c.txt']) {
      assert.ok(readFileSync(join(out, rel)).equals(contentOf(SNAP_B, rel)), `${name}: ${rel}`);
    }
  }
  const out = join(t.path, 'r-sel');
  const r = fxcp(['snap', 'restore', join(FIX, 'zstd-streamed.fxar'), '-o', out, '--snapshot', '2026-03-12', '--file', 'data/*.bin']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(readdirSync(out), ['data']);
  assert.equal(readdirSync(join(out, 'data')).sort(), ['random.bin', 'zeros.bin']);
  assert.ok(readFileSync(join(out, 'data/random.bin')).equals(contentOf(SNAP_A, 'data/random.bin')));
  const at = fxcp(['snap', 'restore', join(FIX, 'gzip.fxar'), '-o', join(t.path, 'r-at'), '--at', '2026-03-12T23:00:00Z']);
  assert.match(at.stdout, new RegExp(`restored Foxing snapshot ${SNAP_A} .*: 5 files`));
  const none = fxcp(['snap', 'restore', join(FIX, 'zstd.fxar'), '-o', join(t.path, 'r-none'), '--file', 'nothing/*']);
  assert.is(none.code, 2);
  assert.match(none.stderr, /no file of snapshot .* matches 'nothing\/\*'/);
  assert.not.ok(existsSync(join(t.path, 'r-none')), 'nothing made when nothing matches');
  const missing = fxcp(['snap', 'restore', join(FIX, 'zstd.fxar'), '-o', join(t.path, 'r-missing'), '--snapshot', '2025']);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /no snapshot named '2025'/);
});

test('refused paths: named, exit 1, the safe file restored, nothing written outside -o', () => {
  const base = join(t.path, 'unsafe');
  const out = join(base, 'a', 'out');
  mkdirSync(out, { recursive: true });
  const r = fxcp(['snap', 'restore', join(FIX, 'unsafe-paths.fxar'), '-o', out]);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /warning: .*'2026-03-12T084500\/tree\/\.\.\/\.\.\/escape-dotdot\.txt' contains '\.\.'; refused/);
  assert.match(r.stderr, /warning: .*'\/tmp\/escape-absolute\.txt' is absolute; refused/);
  assert.equal(readdirSync(out), ['ok.txt']);
  assert.equal(readdirSync(join(base, 'a')), ['out']);
  assert.equal(readdirSync(base), ['a']);
  assert.not.ok(existsSync('/tmp/escape-absolute.txt'));
  const imp = fxcp(['snap', 'import', join(FIX, 'unsafe-paths.fxar'), join(t.path, 'store-unsafe')]);
  assert.is(imp.code, 1, imp.stderr);
  assert.match(imp.stdout, /1 files, .*4 files left out/);
});

test('damaged archives: one-line errors naming the archive, exit 2, --json with the code', () => {
  const b = readFileSync(join(FIX, 'zstd.fxar'));
  const cut = join(t.path, 'cut.fxar');
  writeFileSync(cut, b.subarray(0, b.length - 500));
  for (const args of [['snap', 'inspect', cut], ['snap', 'restore', cut, '-o', join(t.path, 'cut-out')], ['snap', 'import', cut, join(t.path, 'cut-store')]]) {
    const r = fxcp(args);
    assert.is(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^fxcp: .*cut\.fxar: Foxing archive is truncated \(its chunks end at offset \d+, the archive's data at \d+\)\n$/);
  }
  const v3 = Buffer.from(b);
  v3.writeUInt32LE(3, 4);
  writeFileSync(join(t.path, 'v3.fxar'), v3);
  const j = fxcp(['snap', 'inspect', join(t.path, 'v3.fxar'), '--json']);
  assert.is(j.code, 2);
  assert.is(JSON.parse(j.stderr).code, 'NEWER_VERSION');
  assert.not.ok(existsSync(join(t.path, 'cut-out', 'docs')), 'nothing restored');
});

test.run();
