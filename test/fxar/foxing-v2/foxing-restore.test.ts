/**
 * Restoring from a Foxing archive (lib/fxar/foxing-v2/foxing-restore.ts) into temporary
 * directories: content, modes and times; --file selection; refused paths never written; a
 * symlink planted where a directory goes is replaced, not followed; a damaged file leaves
 * nothing under its name and the rest is restored.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { groupSnapshots } from '../../../lib/fxar/foxing-v2/foxing-paths.js';
import { restoreFoxing } from '../../../lib/fxar/foxing-v2/foxing-restore.js';
import { SNAP_A, SNAP_B } from '../../../fixtures/foxing-v2/foxing-spec.js';
import { tempDir } from '../../helpers/run-cli.js';
import { edited, expectedContent, fixture, open } from './helpers.js';

async function restoreSnap(bytes: Buffer, name: string, target: string, files?: string[]) {
  const r = await open(bytes);
  const snap = groupSnapshots(r.manifest).snapshots.find((s) => s.name === name)!;
  const warnings: string[] = [];
  const res = await restoreFoxing(r, snap, { target, files, onWarn: (c, m) => warnings.push(`${c}: ${m}`) });
  return { res, warnings };
}

test('a whole snapshot: every file with its content, mode and mtime; the tree kept, not flattened', async () => {
  const t = tempDir();
  try {
    const out = join(t.path, 'out');
    const { res, warnings } = await restoreSnap(fixture('lz4-streamed.fxar'), SNAP_A, out);
    assert.equal(warnings, []);
    assert.is(res.files, 5);
    const want = expectedContent();
    for (const rel of ['docs/readme.txt', 'data/random.bin', 'data/zeros.bin', 'empty.txt', 'bin/tool.sh']) {
      assert.ok(readFileSync(join(out, rel)).equals(want.get(`${SNAP_A}/tree/${rel}`)!), rel);
    }
    assert.is(statSync(join(out, 'bin/tool.sh')).mode & 0o7777, 0o755);
    assert.is(statSync(join(out, 'data/random.bin')).mode & 0o7777, 0o600);
    assert.is(statSync(join(out, 'data/random.bin')).mtimeMs, 1773304801 * 1000);
    assert.is(statSync(join(out, 'data')).mtimeMs, 1773304804 * 1000, 'an implied directory: the newest mtime');
  } finally {
    t.cleanup();
  }
});

test('--file patterns select files, or whole directories', async () => {
  const t = tempDir();
  try {
    await restoreSnap(fixture('zstd.fxar'), SNAP_B, join(t.path, 'a'), ['data/*.txt']);
    assert.equal(readdirSync(join(t.path, 'a/data')), ['new file ü.txt']);
    assert.not.ok(existsSync(join(t.path, 'a/docs')));
    await restoreSnap(fixture('zstd.fxar'), SNAP_B, join(t.path, 'b'), ['deep']);
    assert.ok(readFileSync(join(t.path, 'b/deep/a/b/c.txt')).equals(Buffer.from('deep\n')));
    assert.equal(readdirSync(join(t.path, 'b')), ['deep']);
  } finally {
    t.cleanup();
  }
});

test('refused paths are never written; only the safe file is', async () => {
  const t = tempDir();
  try {
    const out = join(t.path, 'deep/down/out');
    mkdirSync(out, { recursive: true });
    const r = await open(fixture('unsafe-paths.fxar'));
    const { snapshots, problems } = groupSnapshots(r.manifest);
    assert.is(problems.length, 4);
    const res = await restoreFoxing(r, snapshots[0], { target: out, onWarn: () => {} });
    assert.is(res.files, 1);
    assert.equal(readdirSync(out), ['ok.txt']);
    assert.equal(readdirSync(join(t.path, 'deep/down')), ['out']);
    assert.equal(readdirSync(t.path), ['deep']);
    assert.not.ok(existsSync('/tmp/escape-absolute.txt'));
  } finally {
    t.cleanup();
  }
});

test('a symlink in the target where a directory goes is replaced, never followed', async () => {
  const t = tempDir();
  try {
    const out = join(t.path, 'out');
    const outside = join(t.path, 'outside');
    mkdirSync(out);
    mkdirSync(outside);
    symlinkSync(outside, join(out, 'data'));
    const { res } = await restoreSnap(fixture('gzip.fxar'), SNAP_A, out);
    assert.is(res.problems.length, 0);
    assert.ok(lstatSync(join(out, 'data')).isDirectory());
    assert.equal(readdirSync(outside), [], 'nothing written through the link');
    assert.equal(readdirSync(join(out, 'data')).sort(), ['random.bin', 'zeros.bin']);
  } finally {
    t.cleanup();
  }
});

test('a damaged chunk: its files are reported and leave nothing under their names; the rest is restored', async () => {
  const t = tempDir();
  try {
    const b = fixture('none.fxar');
    const r0 = await open(b);
    const f = r0.manifest.files.find((x) => x.path === `${SNAP_A}/tree/data/random.bin`)!;
    const bad = edited(b, (c) => { c[r0.entry(f.chunks[1]).offset + 3] ^= 1; });
    const out = join(t.path, 'out');
    const { res, warnings } = await restoreSnap(bad, SNAP_A, out);
    assert.equal(res.problems.map((p) => p.path), ['data/random.bin']);
    assert.match(warnings[0], /^RESTORE_ERROR: data\/random\.bin: .*does not match its BLAKE3 id/);
    assert.not.ok(existsSync(join(out, 'data/random.bin')));
    assert.equal(readdirSync(join(out, 'data')), ['zeros.bin'], 'no temporary left either');
    assert.is(res.files, 4);
  } finally {
    t.cleanup();
  }
});

test('a file whose chunks verify but whose whole-file hash does not is not restored', async () => {
  const t = tempDir();
  try {
    // Point readme's first chunk at random.bin's first chunk: same sizes (4096), every chunk intact.
    const b = fixture('none.fxar');
    const r0 = await open(b);
    const m = Number(b.readBigUInt64LE(64));
    const json = b.subarray(80, 80 + m).toString('utf8');
    const readme = r0.manifest.files.find((x) => x.path === `${SNAP_A}/tree/docs/readme.txt`)!;
    const random = r0.manifest.files.find((x) => x.path === `${SNAP_A}/tree/data/random.bin`)!;
    const from = `"chunks":[${readme.chunks.join(',')}]`;
    const to = `"chunks":[${[random.chunks[0], ...readme.chunks.slice(1)].join(',')}]`;
    assert.is(from.length, to.length, 'same length keeps every offset');
    const bad = Buffer.concat([b.subarray(0, 80), Buffer.from(json.replace(from, to)), b.subarray(80 + m)]);
    const { res } = await restoreSnap(bad, SNAP_A, join(t.path, 'out'));
    assert.equal(res.problems.map((p) => p.path), ['docs/readme.txt']);
    assert.match(res.problems[0].message, /whole-file BLAKE3/);
    assert.not.ok(existsSync(join(t.path, 'out/docs/readme.txt')));
  } finally {
    t.cleanup();
  }
});

test.run();
