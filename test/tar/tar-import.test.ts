/**
 * Import: archives made by the system GNU tar (GNU and pax formats, plain and compressed) of a
 * varied tree become a snapshot that `fxcp snap restore` restores identically; member order,
 * duplicates, implied directories and hard links follow GNU tar's extraction semantics.
 */
import { lstatSync, lutimesSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToolkitError } from '../../lib/errors/index.js';
import { TarWriter, type TarMember } from '../../lib/tar/tar-writer.js';
import { compareTrees } from '../helpers/tree-compare.js';
import { fxcp, haveCommand, isRoot, tempDir } from '../helpers/run-cli.js';
import { importFile, sh } from './tar-test-kit.js';
import { makeVariedTree } from './varied-tree.js';

const COMPRESSORS: Record<string, string[] | null> = { none: null, zstd: ['zstd', '-q', '-c'], gzip: ['gzip', '-c'], xz: ['xz', '-c'], lz4: ['lz4', '-q', '-c'] };

/** Cuts every mtime under `dir` (and its own) to whole seconds. */
function wholeSeconds(dir: Buffer | string): void {
  const d = Buffer.from(dir);
  for (const name of readdirSync(d, { encoding: 'buffer' })) {
    const p = Buffer.concat([d, Buffer.from('/'), name]);
    const st = lstatSync(p);
    if (st.isDirectory()) wholeSeconds(p);
    lutimesSync(p, st.atime, Math.floor(st.mtimeMs / 1000));
  }
  const st = lstatSync(d);
  lutimesSync(d, st.atime, Math.floor(st.mtimeMs / 1000));
}

function restore(store: string, id: string, out: string): void {
  const r = fxcp(['snap', 'restore', store, '-o', out, '--snapshot', id]);
  assert.is(r.code, 0, r.stderr);
}

const cases: Array<[string, string]> = [
  ['gnu', 'none'], ['gnu', 'zstd'], ['gnu', 'gzip'], ['gnu', 'xz'], ['gnu', 'lz4'], ['pax', 'none'], ['pax', 'zstd'],
];
for (const [format, comp] of cases) {
  test(`import of a GNU tar --format=${format} archive, ${comp}, restores identically`, async () => {
    const tool = COMPRESSORS[comp];
    if (tool && !haveCommand(tool[0])) { console.log(`  skipped: no '${tool[0]}' command on this machine`); return; }
    const t = tempDir();
    try {
      const src = join(t.path, 'src'), store = join(t.path, 'store'), out = join(t.path, 'out'), file = join(t.path, 'in.tar.x');
      mkdirSync(src);
      // xattrs travel only in pax archives.
      const { xattrs } = makeVariedTree(src, { xattrs: format === 'pax', sparse: true });
      // GNU format headers carry whole seconds.
      if (format === 'gnu') wholeSeconds(src);
      const made = sh('tar', [`--format=${format}`, ...(xattrs ? ['--xattrs', '--xattrs-include=*'] : []), '-C', src, '-cf', '-', '.']);
      assert.is(made.code, 0, made.stderr);
      const bytes = tool ? sh(tool[0], tool.slice(1), { input: made.stdout }).stdout : made.stdout;
      writeFileSync(file, bytes);
      const warnings: string[] = [];
      const r = await importFile(file, store, { onWarn: (c, m) => warnings.push(`${c} ${m}`) });
      assert.is(r.compression, comp);
      assert.equal(warnings, []);
      assert.ok(r.entries >= 20, `entries ${r.entries}`);
      restore(store, r.snapshotId, out);
      const diffs = compareTrees(src, out, { owner: isRoot });
      assert.equal(diffs, [], diffs.join('\n'));
    } finally {
      t.cleanup();
    }
  });
}

/** Writes a crafted archive with the toolkit's own writer (which writes whatever it is given). */
async function craft(file: string, members: Array<Omit<Partial<TarMember>, 'path'> & { path: string; data?: string }>): Promise<void> {
  const parts: Uint8Array[] = [];
  const w = new TarWriter({ write: async (c) => { parts.push(Buffer.from(c)); } });
  for (const m of members) {
    const data = Buffer.from(m.data ?? '');
    await w.add({
      type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeNs: 1_600_000_000_000_000_000n, ...m,
      path: Buffer.from(m.path), size: m.type && m.type !== 'file' ? 0 : data.length,
      linkpath: m.linkpath,
    });
    if ((m.type ?? 'file') === 'file' && data.length) await w.data(data);
  }
  await w.finish();
  writeFileSync(file, Buffer.concat(parts));
}

test('members in any order, duplicates, implied directories and hard links', async () => {
  const t = tempDir();
  try {
    const store = join(t.path, 'store'), out = join(t.path, 'out'), file = join(t.path, 'order.tar');
    await craft(file, [
      { path: 'z/deep/file.txt', data: 'first' },
      { path: 'a/b/c.txt', data: 'c' },
      { path: 'z/deep/file.txt', data: 'second wins' },
      { path: 'a/link', type: 'hardlink', linkpath: Buffer.from('z/deep/file.txt') },
      { path: 'a/b', type: 'dir', mode: 0o700, mtimeNs: 1_200_000_000_500_000_000n },
      { path: 'a', type: 'dir', mode: 0o750 },
      { path: 'sym', type: 'symlink', linkpath: Buffer.from('a/b/c.txt') },
    ]);
    const r = await importFile(file, store);
    restore(store, r.snapshotId, out);
    const { readFileSync, statSync, readlinkSync } = await import('node:fs');
    assert.is(readFileSync(join(out, 'z/deep/file.txt'), 'utf8'), 'second wins');
    assert.is(readFileSync(join(out, 'a/link'), 'utf8'), 'second wins');
    assert.is(statSync(join(out, 'a/link')).ino, statSync(join(out, 'z/deep/file.txt')).ino);
    assert.is(statSync(join(out, 'a/b')).mode & 0o7777, 0o700);
    assert.is(statSync(join(out, 'a/b'), { bigint: true }).mtimeNs, 1_200_000_000_500_000_000n);
    assert.is(statSync(join(out, 'a')).mode & 0o7777, 0o750);
    // Implied: mode 0755, the newest member mtime.
    assert.is(statSync(join(out, 'z/deep')).mode & 0o7777, 0o755);
    assert.is(statSync(join(out, 'z/deep'), { bigint: true }).mtimeNs, 1_600_000_000_000_000_000n);
    assert.is(readlinkSync(join(out, 'sym'), 'utf8'), 'a/b/c.txt');
  } finally {
    t.cleanup();
  }
});

async function refused(members: Parameters<typeof craft>[1], code: string, text: RegExp): Promise<void> {
  const t = tempDir();
  try {
    const file = join(t.path, 'evil.tar'), store = join(t.path, 'store');
    await craft(file, members);
    let err: unknown = null;
    try { await importFile(file, store); } catch (e) { err = e; }
    assert.ok(err instanceof ToolkitError, `expected a ToolkitError, got ${String(err)}`);
    assert.is((err as ToolkitError).code, code);
    assert.match((err as Error).message, text);
    assert.not.match((err as Error).message, /\n/);
    // Nothing was listed.
    const list = fxcp(['snap', 'list', store, '--json']);
    assert.equal(JSON.parse(list.stdout).snapshots ?? JSON.parse(list.stdout), []);
  } finally {
    t.cleanup();
  }
}

test('an absolute member path is refused', async () => {
  await refused([{ path: 'ok.txt', data: 'x' }, { path: '/etc/evil', data: 'x' }], 'TAR_UNSAFE_PATH', /'\/etc\/evil' is an absolute path/);
});

test('a member path with .. is refused', async () => {
  await refused([{ path: 'a/../../evil', data: 'x' }], 'TAR_UNSAFE_PATH', /'a\/\.\.\/\.\.\/evil' contains '\.\.'/);
});

test('a hard link whose target has .. or is absolute is refused', async () => {
  await refused([{ path: 'h', type: 'hardlink', linkpath: Buffer.from('../outside') }], 'TAR_UNSAFE_PATH', /contains '\.\.'/);
  await refused([{ path: 'h', type: 'hardlink', linkpath: Buffer.from('/etc/passwd') }], 'TAR_UNSAFE_PATH', /absolute path/);
});

test('a member through a symlink defined earlier is refused', async () => {
  await refused([
    { path: 'link', type: 'symlink', linkpath: Buffer.from('/etc') },
    { path: 'link/passwd', data: 'root::0:0::/:/bin/sh\n' },
  ], 'TAR_SYMLINK_ESCAPE', /member 'link\/passwd' would pass through the symlink 'link'/);
  await refused([
    { path: 'd', type: 'dir' },
    { path: 'd/up', type: 'symlink', linkpath: Buffer.from('..') },
    { path: 'd/up/x/y', data: 'y' },
  ], 'TAR_SYMLINK_ESCAPE', /through the symlink 'd\/up'/);
});

test('input that is not a tar is refused by content', async () => {
  const t = tempDir();
  try {
    const file = join(t.path, 'x.tar');
    writeFileSync(file, Buffer.alloc(4096, 'not a tar at all '));
    let err: unknown = null;
    try { await importFile(file, join(t.path, 'store')); } catch (e) { err = e; }
    assert.is((err as ToolkitError).code, 'TAR_NOT_TAR');
    writeFileSync(file, Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(600)]));
    err = null;
    try { await importFile(file, join(t.path, 'store')); } catch (e) { err = e; }
    assert.is((err as ToolkitError).code, 'TAR_COMPRESSION');
  } finally {
    t.cleanup();
  }
});

test('unsupported members are skipped with a warning naming them', async () => {
  const t = tempDir();
  try {
    const file = join(t.path, 'sparse.tar'), store = join(t.path, 'store'), src = join(t.path, 'src');
    mkdirSync(src);
    const { openSync, writeSync, closeSync } = await import('node:fs');
    const fd = openSync(join(src, 'holes'), 'w');
    writeSync(fd, Buffer.from('x'), 0, 1, 1 << 20);
    closeSync(fd);
    writeFileSync(join(src, 'plain'), 'plain');
    const made = sh('tar', ['--format=gnu', '--sparse', '-C', src, '-cf', file, 'holes', 'plain']);
    assert.is(made.code, 0, made.stderr);
    const warnings: string[] = [];
    const r = await importFile(file, store, { onWarn: (c, m) => warnings.push(`${c}: ${m}`) });
    assert.is(r.skipped, 1);
    assert.is(warnings.length, 1);
    assert.match(warnings[0], /^TAR_UNSUPPORTED: .*member 'holes' \(offset 0\): GNU sparse member/);
  } finally {
    t.cleanup();
  }
});

test.run();
