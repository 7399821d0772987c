/**
 * Export: a snapshot of a varied tree, written with exportTar, extracted by GNU tar (the system
 * binary), must reproduce the source tree: content, modes incl. setuid/sticky, ns mtimes,
 * symlink targets, hard-link groups, long and non-ASCII names, empty dirs, fifos, xattrs.
 * Each compressed variant must extract with tar and the matching decompressor.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tarCodecForPath } from '../../lib/tar/tar-export.js';
import { compareTrees } from '../helpers/tree-compare.js';
import { haveCommand, isRoot, tempDir } from '../helpers/run-cli.js';
import { exportToFile, sh, snapshotOf } from './tar-test-kit.js';
import { makeVariedTree } from './varied-tree.js';

const TAR_X = ['--xattrs', "--xattrs-include=*", '-xpf'];

test('GNU tar extracts an exported snapshot identically', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store'), out = join(t.path, 'out'), file = join(t.path, 'snap.tar');
    mkdirSync(src);
    makeVariedTree(src, { sparse: true });
    const { record } = await snapshotOf(src, store);
    const r = await exportToFile(store, record, file);
    assert.ok(r.entries >= 20, `entries ${r.entries}`);
    assert.is(statSync(file).size, r.tarBytes);
    assert.is(r.tarBytes % 10240, 0);
    mkdirSync(out);
    const x = sh('tar', [...TAR_X, file, ...(isRoot ? ['--numeric-owner'] : []), '-C', out]);
    assert.is(x.code, 0, x.stderr);
    const diffs = compareTrees(src, out, { owner: isRoot });
    assert.equal(diffs, [], diffs.join('\n'));
    // GNU tar lists the later members of the group as links to the first in walk order.
    const list = sh('tar', ['-tvf', file]).stdout.toString();
    assert.match(list, /hardlink-to-readme link to data\/second-hardlink/);
  } finally {
    t.cleanup();
  }
});

for (const [suffix, tool] of [['.tar.zst', 'zstd'], ['.tar.gz', 'gzip'], ['.tar.xz', 'xz'], ['.tar.lz4', 'lz4']] as const) {
  test(`export ${suffix} extracts with tar and ${tool}`, async () => {
    if (!haveCommand(tool)) { console.log(`  skipped: no '${tool}' command on this machine`); return; }
    const t = tempDir();
    try {
      const src = join(t.path, 'src'), store = join(t.path, 'store'), out = join(t.path, 'out'), file = join(t.path, `snap${suffix}`);
      mkdirSync(src);
      makeVariedTree(src, { xattrs: false });
      // More than one lz4 output frame (4 MiB of input each).
      writeFileSync(join(src, 'data/more.bin'), Buffer.alloc(9 << 20, 'abcdefgh'));
      const { record } = await snapshotOf(src, store);
      const compress = tarCodecForPath(file);
      assert.is(compress, tool === 'gzip' ? 'gzip' : tool);
      await exportToFile(store, record, file, { compress });
      const plain = sh(tool, ['-dc', file]);
      assert.is(plain.code, 0, plain.stderr);
      mkdirSync(out);
      const x = sh('tar', ['-xpf', '-', ...(isRoot ? ['--numeric-owner'] : []), '-C', out], { input: plain.stdout });
      assert.is(x.code, 0, x.stderr);
      const diffs = compareTrees(src, out, { owner: isRoot });
      assert.equal(diffs, [], diffs.join('\n'));
    } finally {
      t.cleanup();
    }
  });
}

test('a snapshot of a single file exports as that one member', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'one.txt'), store = join(t.path, 'store'), file = join(t.path, 'one.tar');
    writeFileSync(src, 'just me');
    const { record } = await snapshotOf(src, store);
    await exportToFile(store, record, file);
    assert.is(sh('tar', ['-tf', file]).stdout.toString(), 'one.txt\n');
    assert.is(sh('tar', ['-xOf', file, 'one.txt']).stdout.toString(), readFileSync(src, 'utf8'));
  } finally {
    t.cleanup();
  }
});

test('tarCodecForPath maps suffixes', () => {
  assert.is(tarCodecForPath('a.tar.zst'), 'zstd');
  assert.is(tarCodecForPath('a.tzst'), 'zstd');
  assert.is(tarCodecForPath('A.TGZ'), 'gzip');
  assert.is(tarCodecForPath('a.txz'), 'xz');
  assert.is(tarCodecForPath('a.tar.lz4'), 'lz4');
  assert.is(tarCodecForPath('a.tar'), 'none');
  assert.is(tarCodecForPath('a.fxar'), undefined);
});

test.run();
