/**
 * Free space, end to end with the real fxcp on real small tmpfs mounts (root only; skipped with
 * the reason otherwise): a selective restore is sized before it writes; an import from stdin
 * (FXAR and tar) and from a file is stopped by the running guard before the store fills; a
 * compressed tar export is refused up front by its floor, or stopped while writing. Each time:
 * exit 2, a message with both numbers, nothing under a real name, no temporary file, the store
 * checks clean and its earlier snapshot still restores.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareTrees } from '../helpers/tree-compare.js';
import { FXCP, fxcp, fxcpJson, isRoot, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir('fx-space-');
const MiB = 1 << 20;
const small = join(t.path, 'small'), store = join(t.path, 'store'), archive = join(t.path, 'small.fxar');
const big = join(t.path, 'big'), bigStore = join(t.path, 'big-store'), bigArchive = join(t.path, 'big.fxar');
let mounts: string[] = [];
let restores = 0;

/** A tmpfs of `size` at a new directory, or null (with the reason printed) when none can be mounted. */
function tmpfs(name: string, size: string): string | null {
  if (!isRoot) { console.log('  (skipped: mounting a tmpfs needs root)'); return null; }
  const dir = join(t.path, name);
  mkdirSync(dir);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (m.status !== 0) { console.log(`  (skipped: cannot mount tmpfs: ${m.stderr.trim()})`); return null; }
  mounts.push(dir);
  return dir;
}

function sh(cmd: string): { code: number; stderr: string } {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  return { code: r.status ?? -1, stderr: r.stderr };
}

/** Hex text of seeded random bytes: compresses about 2:1, never much better. */
function hexText(bytes: number, seed: number): string {
  return seededBytes(Math.ceil(bytes / 2), seed).toString('hex').slice(0, bytes);
}

function numbers(stderr: string, re: RegExp): [number, number] {
  const m = re.exec(stderr);
  assert.ok(m, `message: ${stderr}`);
  return [Number(m![1]), Number(m![2])];
}

/** After a stop: the store checks clean, lists only `ids`, has no temporary file, and restores its first snapshot. */
function storeIntact(at: string, ids: string[]): void {
  const check = fxcp(['store', 'check', at]);
  assert.is(check.code, 0, check.stdout + check.stderr);
  assert.equal(fxcpJson(['snap', 'list', at]).snapshots.map((s: { id: string }) => s.id), ids);
  assert.equal(readdirSync(join(at, 'tmp')), [], 'no temporary blobs left');
  const out = join(t.path, `restored-${++restores}`);
  const r = fxcp(['snap', 'restore', at, '-o', out, '--snapshot', ids[0]]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(compareTrees(small, out), []);
}

test.before(() => {
  mkdirSync(join(small, 'docs'), { recursive: true });
  writeFileSync(join(small, 'docs/a.txt'), 'small and early\n');
  writeFileSync(join(small, 'b.bin'), seededBytes(100_000, 1));
  mkdirSync(join(big, 'rand'), { recursive: true });
  mkdirSync(join(big, 'text'));
  for (let i = 0; i < 6; i++) writeFileSync(join(big, 'rand', `r${i}.bin`), seededBytes(5 * MiB, 10 + i));
  for (let i = 0; i < 3; i++) writeFileSync(join(big, 'text', `t${i}.txt`), hexText(8 * MiB, 20 + i));
  writeFileSync(join(big, 'tiny.txt'), 'tiny\n');
  for (const args of [['snap', 'create', small, store], ['snap', 'export', store, '-o', archive],
    ['snap', 'create', big, bigStore], ['snap', 'export', bigStore, '-o', bigArchive]]) {
    const r = fxcp(args);
    assert.is(r.code, 0, r.stderr);
  }
});
test.after(() => {
  for (const m of mounts) spawnSync('umount', [m]);
  mounts = [];
  t.cleanup();
});

test('selective restore: sized before writing; refused with both numbers when the selection does not fit', () => {
  const fs = tmpfs('restore-fs', '4m');
  if (!fs) return;
  for (const from of [bigArchive, bigStore]) {
    const out = join(fs, 'out');
    const r = fxcp(['snap', 'restore', from, '-o', out, '--file', 'rand/r1.bin', '--file', 'text/*']);
    assert.is(r.code, 2, r.stderr);
    const [needed, free] = numbers(r.stderr, /not enough free space for the restore: needs (\d+) bytes, the file system has (\d+) bytes free/);
    assert.is(needed, 5 * MiB + 3 * 8 * MiB);
    assert.ok(free <= 4 * MiB);
    assert.equal(readdirSync(fs), [], 'nothing written');
    // A selection that fits restores, into the same small file system.
    const ok = fxcp(['snap', 'restore', from, '-o', out, '--file', 'tiny.txt']);
    assert.is(ok.code, 0, ok.stderr);
    assert.equal(readdirSync(out), ['tiny.txt']);
    spawnSync('rm', ['-rf', out]);
  }
  const check = fxcp(['store', 'check', bigStore]);
  assert.is(check.code, 0, check.stderr);
});

test('import from stdin (FXAR, then tar) stops before the store fills; nothing is listed, the store checks clean', () => {
  const fs = tmpfs('import-fs', '24m');
  if (!fs) return;
  const at = join(fs, 'store');
  const first = fxcpJson(['snap', 'import', archive, at]).snapshots[0].id;
  const re = /not enough free space to continue the import: the pending pack .* needs (\d+) bytes \(4194304 of them kept in reserve\), the file system has (\d+) bytes free; stopped before writing it/;
  const fx = sh(`cat "${bigArchive}" | "${FXCP}" snap import - "${at}"`);
  assert.is(fx.code, 2, fx.stderr);
  assert.match(fx.stderr, at);
  const [needed, free] = numbers(fx.stderr, re);
  assert.ok(needed > free, `${needed} > ${free}`);
  assert.not.match(fx.stderr, /ENOSPC|no space left/i);
  storeIntact(at, [first]);
  const tar = sh(`"${FXCP}" snap export "${bigStore}" --format tar | "${FXCP}" snap import - "${at}"`);
  assert.is(tar.code, 2, tar.stderr);
  numbers(tar.stderr, re);
  assert.not.match(tar.stderr, /ENOSPC|no space left/i);
  storeIntact(at, [first]);
});

test('import from a file that passes the pre-flight is still guarded while it runs', () => {
  const fs = tmpfs('import-file-fs', '40m');
  if (!fs) return;
  const at = join(fs, 'store');
  const first = fxcpJson(['snap', 'import', archive, at]).snapshots[0].id;
  // An archive of incompressible data 2 MiB smaller than what is free: the up-front check (which
  // counts only the chunks) lets it through; the guard keeps 4 MiB for the index and stops it.
  const avail = Number(statfsSync(at).bavail) * Number(statfsSync(at).bsize);
  const src = join(t.path, 'near-full'), srcStore = join(t.path, 'near-full-store'), arch = join(t.path, 'near-full.fxar');
  mkdirSync(src);
  writeFileSync(join(src, 'fill.bin'), seededBytes(avail - 2 * MiB - 64 * 1024, 99));
  for (const args of [['snap', 'create', src, srcStore], ['snap', 'export', srcStore, '-o', arch]]) assert.is(fxcp(args).code, 0);
  const r = fxcp(['snap', 'import', arch, at]);
  assert.is(r.code, 2, r.stderr);
  numbers(r.stderr, /not enough free space to continue the import: .* needs (\d+) bytes \(\d+ of them kept in reserve\), the file system has (\d+) bytes free/);
  storeIntact(at, [first]);
});

test('compressed tar export: refused up front by its floor, or stopped while writing; no file left', () => {
  const fs = tmpfs('export-fs', '6m');
  if (!fs) return;
  // Incompressible data: the floor (a quarter of 30 MiB stored) exceeds 6 MiB at once.
  const e = fxcp(['snap', 'export', bigStore, '-o', join(fs, 'all.tar.zst')]);
  assert.is(e.code, 2, e.stderr);
  const [needed, free] = numbers(e.stderr, /not enough free space for the tar \(a floor of its compressed size\): needs (\d+) bytes, the file system has (\d+) bytes free/);
  assert.ok(needed > free);
  assert.equal(readdirSync(fs), []);
  // Hex text only: stored compressed (about 12 MiB), so its floor fits in 6 MiB, but the
  // tar.zst (about 12 MiB too) does not: the running guard stops it before the disk fills.
  const textStore = join(t.path, 'text-store');
  assert.is(fxcp(['snap', 'create', join(big, 'text'), textStore]).code, 0);
  const w = fxcp(['snap', 'export', textStore, '-o', join(fs, 'text.tar.zst')]);
  assert.is(w.code, 2, w.stderr);
  const [n2, f2] = numbers(w.stderr, /not enough free space to continue the tar: writing \d+ more bytes to .*text\.tar\.zst \(\d+ written so far\) needs (\d+) bytes, the file system has (\d+) bytes free/);
  assert.ok(n2 > f2);
  assert.not.match(w.stderr, /ENOSPC|no space left/i);
  assert.equal(readdirSync(fs), [], 'no temporary file, nothing under the real name');
  for (const s of [bigStore, textStore]) assert.is(fxcp(['store', 'check', s]).code, 0);
  // A tar that fits still exports there.
  const ok = fxcp(['snap', 'export', store, '-o', join(fs, 'small.tar.zst')]);
  assert.is(ok.code, 0, ok.stderr);
  assert.ok(existsSync(join(fs, 'small.tar.zst')));
});

test.run();
