// The data copier on real file systems: ext4 (the temp dir), tmpfs, and loop-mounted XFS
// (reflink=1) and btrfs. Checks the strategy each pair gets (reflink on XFS and btrfs with
// shared extents seen by filefrag, copy_file_range on ext4 and tmpfs, read/write across file
// systems), that content is identical and holes stay holes (same SEEK_DATA map and st_blocks),
// short copy_file_range counts (an LD_PRELOAD shim in a child), a source that ended early, abort,
// and the copier without the native addon (a child with FOXING_NO_NATIVE=1).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { native, nativeLoadError } from '../../lib/native/load.js';
import { copyFileData, copyFileDataSync, copyProbe, resetCopyProbes, type CopyDataResult } from '../../lib/fs/copy-data.js';
import { dataSegments } from '../../lib/fs/data-segments.js';
import { mountTestFs, type TestFs, type TestFsKind } from '../helpers/loop-fs.js';
import { ROOT, haveCommand } from '../helpers/run-cli.js';

const EXT4_MAGIC = 0xef53;
let dir = '';
const mounts = new Map<TestFsKind, TestFs | { skip: string }>();

test.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foxing-copy-data-'));
  for (const k of ['tmpfs', 'xfs', 'btrfs'] as const) mounts.set(k, mountTestFs(k));
});
test.after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const m of mounts.values()) if (!('skip' in m)) m.cleanup();
});

/** A directory on file system `kind`, or null after printing why the test skips. */
function on(kind: TestFsKind, label: string): string | null {
  if (kind === 'ext4') {
    if (fs.statfsSync(dir).type !== EXT4_MAGIC) { console.log(`  skip ${label}: ${os.tmpdir()} is not ext4`); return null; }
    return dir;
  }
  const m = mounts.get(kind)!;
  if ('skip' in m) { console.log(`  skip ${label}: ${m.skip}`); return null; }
  return m.mountPoint;
}

function sha(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * A sparse file: 100 KB of data, a hole, 5000 bytes at 3 MiB, a hole to 8 MiB. Sized first:
 * XFS preallocates past the end of a file being extended, which would fill part of the hole.
 */
function writeSparse(file: string): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, 8 << 20);
    fs.writeSync(fd, randomBytes(100_000), 0, 100_000, 0);
    fs.writeSync(fd, randomBytes(5000), 0, 5000, 3 << 20);
    fs.fsyncSync(fd);
  } finally { fs.closeSync(fd); }
}

function map(file: string): Array<[number, number]> {
  const fd = fs.openSync(file, 'r');
  try { return dataSegments(fd, fs.fstatSync(fd).size); } finally { fs.closeSync(fd); }
}

type Copier = typeof copyFileData | typeof copyFileDataSync;

/** Copies src to a new dst as the engine does (temporary opened 'wx', truncated to size after). */
async function copy(src: string, dst: string, copier: Copier = copyFileData, size?: number): Promise<CopyDataResult> {
  const s = fs.openSync(src, 'r');
  const d = fs.openSync(dst, 'wx', 0o600);
  try {
    const ss = fs.fstatSync(s, { bigint: true });
    const ds = fs.fstatSync(d, { bigint: true });
    const length = size ?? Number(ss.size);
    const r = await copier({ fd: s, size: length, dev: ss.dev, blocks: Number(ss.blocks), path: src }, { fd: d, dev: ds.dev, path: dst });
    fs.ftruncateSync(d, length);
    fs.fsyncSync(d);
    return r;
  } finally { fs.closeSync(s); fs.closeSync(d); }
}

/**
 * Same content, same data/hole map and, unless reflinked, the same st_blocks (XFS counts a
 * reflinked small file's copy-on-write reservation in st_blocks: not the copier's doing).
 */
function assertSameFile(src: string, dst: string, reflinked = false): void {
  assert.is(sha(dst), sha(src), `${dst}: content`);
  assert.equal(map(dst), map(src), `${dst}: data/hole map`);
  if (!reflinked) assert.is(fs.statSync(dst).blocks, fs.statSync(src).blocks, `${dst}: st_blocks`);
}

function sharedExtents(file: string): number {
  const r = spawnSync('filefrag', ['-v', file], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => /\bshared\b/.test(l)).length;
}

const EXPECTED: Record<TestFsKind, CopyDataResult['strategy']> = { ext4: 'copy-range', tmpfs: 'copy-range', xfs: 'reflink', btrfs: 'reflink' };

for (const kind of ['ext4', 'tmpfs', 'xfs', 'btrfs'] as const) {
  test(`${kind}: ${EXPECTED[kind]} for dense and sparse files, sync and async; content and holes kept`, async () => {
    if (!native) { console.log(`  skip: addon not loaded (${nativeLoadError})`); return; }
    const root = on(kind, kind); if (!root) return;
    resetCopyProbes();
    const dense = path.join(root, 'dense');
    fs.writeFileSync(dense, randomBytes(3 << 20));
    const sparse = path.join(root, 'sparse');
    writeSparse(sparse);
    const small = path.join(root, 'small');
    fs.writeFileSync(small, randomBytes(4096 + 17));
    for (const [name, copier] of [['async', copyFileData], ['sync', copyFileDataSync]] as const) {
      for (const src of [dense, sparse, small]) {
        const dst = `${src}.${name}`;
        const r = await copy(src, dst, copier);
        assert.is(r.strategy, EXPECTED[kind], `${kind} ${path.basename(src)} ${name}`);
        assert.is(r.endedEarly, false);
        assertSameFile(src, dst, r.strategy === 'reflink');
        if (r.strategy === 'reflink') {
          assert.is(r.bytes, fs.statSync(src).size);
          if (haveCommand('filefrag')) assert.ok(sharedExtents(dst) > 0, `${dst}: filefrag shows shared extents`);
        } else {
          assert.is(r.bytes, map(src).reduce((n, [, len]) => n + len, 0), 'data bytes only');
        }
      }
    }
    const dev = fs.statSync(root, { bigint: true }).dev;
    const probe = copyProbe(dev, dev);
    if (EXPECTED[kind] === 'reflink') assert.equal(probe, { reflink: true });
    else assert.equal(probe, { reflink: false, copyRange: true });
  });
}

test('across file systems (ext4 -> tmpfs, tmpfs -> XFS): sendfile, holes kept, the pair probed once', async () => {
  if (!native) { console.log(`  skip: addon not loaded (${nativeLoadError})`); return; }
  const a = on('ext4', 'ext4 -> tmpfs'); const b = on('tmpfs', 'ext4 -> tmpfs'); if (!a || !b) return;
  resetCopyProbes();
  const sparse = path.join(a, 'x-sparse');
  writeSparse(sparse);
  const r = await copy(sparse, path.join(b, 'x-sparse'));
  assert.is(r.strategy, 'sendfile');
  assertSameFile(sparse, path.join(b, 'x-sparse'));
  const da = fs.statSync(a, { bigint: true }).dev;
  const db = fs.statSync(b, { bigint: true }).dev;
  assert.equal(copyProbe(da, db), { reflink: false, copyRange: false, sendfile: true });
  const dense = path.join(a, 'x-dense');
  fs.writeFileSync(dense, randomBytes(1 << 20));
  assert.is((await copy(dense, path.join(b, 'x-dense'), copyFileDataSync)).strategy, 'sendfile');
  assertSameFile(dense, path.join(b, 'x-dense'));
  const x = on('xfs', 'tmpfs -> XFS'); if (!x) return;
  assert.is((await copy(path.join(b, 'x-sparse'), path.join(x, 'x-sparse'))).strategy, 'sendfile');
  assertSameFile(sparse, path.join(x, 'x-sparse'));
});

test('btrfs: a nodatacow file refuses the clone (EINVAL): copied by copy_file_range, the pair keeps reflinking', async () => {
  if (!native) { console.log(`  skip: addon not loaded (${nativeLoadError})`); return; }
  const root = on('btrfs', 'nodatacow'); if (!root) return;
  if (!haveCommand('chattr')) { console.log('  skip nodatacow: no chattr'); return; }
  resetCopyProbes();
  const nocow = path.join(root, 'nocow');
  fs.writeFileSync(nocow, '');
  const c = spawnSync('chattr', ['+C', nocow], { encoding: 'utf8' });
  assert.is(c.status, 0, c.stderr);
  fs.writeFileSync(nocow, randomBytes(1 << 20));
  const dev = fs.statSync(root, { bigint: true }).dev;
  for (let i = 0; i < 2; i++) {
    const r = await copy(nocow, `${nocow}.${i}`);
    assert.is(r.strategy, 'copy-range');
    assertSameFile(nocow, `${nocow}.${i}`);
    assert.is(copyProbe(dev, dev).reflink, undefined, 'one file\'s refusal does not settle the pair');
  }
  const plain = path.join(root, 'plain');
  fs.writeFileSync(plain, randomBytes(1 << 20));
  assert.is((await copy(plain, `${plain}.copy`)).strategy, 'reflink');
  assert.is(copyProbe(dev, dev).reflink, true);
});

test('a source shorter than its size (shrunk after stat): what is there is copied, endedEarly (ext4, XFS)', async () => {
  if (!native) { console.log(`  skip: addon not loaded (${nativeLoadError})`); return; }
  const roots = [dir, on('xfs', 'shrunk source on XFS (reflink)')].filter((r): r is string => r !== null);
  for (const [root, copier] of roots.flatMap((r) => [[r, copyFileData], [r, copyFileDataSync]] as const)) {
    const src = path.join(root, 'short');
    const data = randomBytes(400_000);
    fs.writeFileSync(src, data);
    const dst = path.join(root, `short.${copier.name}`);
    const r = await copy(src, dst, copier, 600_000);
    assert.is(r.endedEarly, true);
    assert.is(r.bytes, data.length);
    const got = fs.readFileSync(dst);
    assert.ok(got.subarray(0, data.length).equals(data));
    assert.ok(got.subarray(data.length).equals(Buffer.alloc(200_000)));
  }
});

test('an aborted signal stops the copy between chunks', async () => {
  const a = dir; const b = on('tmpfs', 'abort'); if (!b) return;
  const src = path.join(a, 'abort-src');
  fs.writeFileSync(src, randomBytes(16 << 20));
  const s = fs.openSync(src, 'r');
  const d = fs.openSync(path.join(b, 'abort-dst'), 'wx');
  try {
    const ss = fs.fstatSync(s, { bigint: true });
    const ac = new AbortController();
    const p = copyFileData({ fd: s, size: 16 << 20, dev: ss.dev }, { fd: d, dev: fs.fstatSync(d, { bigint: true }).dev }, { signal: ac.signal });
    ac.abort();
    let err: unknown = null;
    try { await p; } catch (e) { err = e; }
    assert.is((err as Error | null)?.name, 'AbortError');
    assert.ok(fs.fstatSync(d).size < 16 << 20, 'stopped before the end');
  } finally { fs.closeSync(s); fs.closeSync(d); }
});

/** A child process that copies src to dst with the built copier and prints its result and warnings as JSON. */
function copyInChild(src: string, dst: string, env: NodeJS.ProcessEnv): { result: CopyDataResult; warnings: string[] } {
  const script = path.join(dir, 'child.mjs');
  fs.writeFileSync(script, `
import fs from 'node:fs';
const { copyFileData } = await import(${JSON.stringify(path.join(ROOT, 'build', 'lib', 'fs', 'copy-data.js'))});
const [src, dst] = process.argv.slice(2);
const s = fs.openSync(src, 'r'); const d = fs.openSync(dst, 'wx');
const ss = fs.fstatSync(s, { bigint: true });
const warnings = [];
const result = await copyFileData({ fd: s, size: Number(ss.size), dev: ss.dev, blocks: Number(ss.blocks) },
  { fd: d, dev: fs.fstatSync(d, { bigint: true }).dev }, { onWarn: (code, msg) => warnings.push(code + ': ' + msg) });
fs.ftruncateSync(d, Number(ss.size)); fs.closeSync(d); fs.closeSync(s);
console.log(JSON.stringify({ result, warnings }));
`);
  const r = spawnSync(process.execPath, [script, src, dst], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { result: CopyDataResult; warnings: string[] };
}

test('without the native addon: read-write, said once; a likely-sparse file keeps its holes (zero blocks)', () => {
  const src = path.join(dir, 'nn-sparse');
  writeSparse(src);
  const dst = path.join(dir, 'nn-sparse.copy');
  const { result, warnings } = copyInChild(src, dst, { FOXING_NO_NATIVE: '1' });
  assert.is(result.strategy, 'read-write');
  assert.is(warnings.length, 1);
  assert.match(warnings[0], /^NATIVE_FALLBACK: native addon not loaded; files are copied by read and write/);
  assert.is(sha(dst), sha(src));
  assert.is(fs.statSync(dst).blocks, fs.statSync(src).blocks, 'holes kept');
  if (native) assert.equal(map(dst), map(src));
  // A dense file with a zero block is not likely sparse: its zeros are written, not holes.
  const dense = path.join(dir, 'nn-dense');
  fs.writeFileSync(dense, Buffer.concat([randomBytes(8192), Buffer.alloc(8192), randomBytes(8192)]));
  copyInChild(dense, `${dense}.copy`, { FOXING_NO_NATIVE: '1' });
  assert.is(sha(`${dense}.copy`), sha(dense));
  assert.is(fs.statSync(`${dense}.copy`).blocks, fs.statSync(dense).blocks);
});

/** test/native/short-copy-range.c built as an LD_PRELOAD library, or null after printing why not. */
function shim(): string | null {
  if (!haveCommand('cc')) { console.log('  skip: no C compiler for the shim'); return null; }
  const lib = path.join(dir, 'libshortcfr.so');
  if (fs.existsSync(lib)) return lib;
  const cc = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', lib, path.join(ROOT, 'test', 'native', 'short-copy-range.c'), '-ldl'], { encoding: 'utf8' });
  assert.is(cc.status, 0, cc.stderr);
  return lib;
}

test('short copy_file_range counts are continued at the right offsets (LD_PRELOAD shim)', () => {
  if (!native) { console.log(`  skip: addon not loaded (${nativeLoadError})`); return; }
  const lib = shim(); if (!lib) return;
  const log = path.join(dir, 'cfr.log');
  for (const [name, size] of [['small', 100_000], ['large', 3 << 20]] as const) {
    const src = path.join(dir, `cfr-${name}`);
    const fd = fs.openSync(src, 'w');
    fs.writeSync(fd, randomBytes(size), 0, size, 0);
    fs.writeSync(fd, randomBytes(30_000), 0, 30_000, size + (1 << 20)); // a hole, then more data
    fs.closeSync(fd);
    fs.rmSync(log, { force: true });
    const { result } = copyInChild(src, `${src}.copy`, { LD_PRELOAD: lib, FXCFR_MAX: '12345', FXCFR_LOG: log });
    assert.is(result.strategy, 'copy-range');
    assert.is(sha(`${src}.copy`), sha(src));
    assert.equal(map(`${src}.copy`), map(src));
    const calls = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number));
    assert.ok(calls.length > 8, `${calls.length} calls`);
    assert.ok(calls.every(([, n]) => n <= 12345 && n > 0), 'each call short, none failed');
  }
});

test('sendfile refused (EINVAL, shim) across file systems: read-write copies, holes kept', () => {
  if (!native) { console.log(`  skip: addon not loaded (${nativeLoadError})`); return; }
  const t = on('tmpfs', 'sendfile refused'); if (!t) return;
  const lib = shim(); if (!lib) return;
  const src = path.join(dir, 'sf-sparse');
  writeSparse(src);
  const dst = path.join(t, 'sf-sparse');
  const { result } = copyInChild(src, dst, { LD_PRELOAD: lib, FXSEND_ERRNO: '22' });
  assert.is(result.strategy, 'read-write');
  assertSameFile(src, dst);
  const again = copyInChild(src, `${dst}.2`, {});
  assert.is(again.result.strategy, 'sendfile', 'without the shim');
  assertSameFile(src, `${dst}.2`);
});

test.run();
