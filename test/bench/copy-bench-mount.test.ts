// The copy suite's loop mounts (lib/bench/loop-mount.ts) with the real tools: an XFS image with
// reflink=1 and a btrfs image mount where asked, take a reflink, and unmount leaving no mount,
// loop device or image behind; a mount a killed run left at the same place is replaced, not
// stacked; unmountAllSync (the harness's exit path) undoes what is still mounted. As root with
// mkfs.xfs / mkfs.btrfs and loop devices; otherwise each test skips with the reason.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canLoopMount, fsTypeOf, imageBytesFor, mountImageFs, unmountAllSync, unmountFs, usedBytes, type FsKind } from '../../lib/bench/loop-mount.js';
import { tempDir } from '../helpers/run-cli.js';

const mountedAt = (dir: string): boolean => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === dir);
const loopsOf = (image: string): string => execFileSync('losetup', ['-j', image], { encoding: 'utf8' }).trim();

for (const kind of ['xfs', 'btrfs'] as FsKind[]) {
  test(`${kind}: mounted from an image in the given dir, reflinks work, unmounted without a trace`, () => {
    const why = canLoopMount(kind);
    if (why) { console.log(`  skip: ${kind} loop mount: ${why}`); return; }
    const t = tempDir('fxloopmount-');
    try {
      const fs = mountImageFs(kind, t.path, imageBytesFor(0, 5));
      assert.is(fs.dir, join(t.path, kind));
      assert.is(fs.loop!.image, join(t.path, `${kind}.img`));
      assert.ok(mountedAt(fs.dir));
      assert.is(fsTypeOf(fs.dir), kind);
      assert.ok(loopsOf(fs.loop!.image).startsWith(`${fs.loop!.device}:`));
      const before = usedBytes(fs.dir);
      writeFileSync(join(fs.dir, 'a'), Buffer.alloc(8 * 1024 * 1024, 1));
      execFileSync('sync');
      assert.ok(usedBytes(fs.dir) - before >= 8 * 1024 * 1024, 'statfs sees the file');
      // cp fails with --reflink=always where the file system cannot share extents.
      execFileSync('cp', ['--reflink=always', join(fs.dir, 'a'), join(fs.dir, 'b')]);
      unmountFs(fs);
      assert.not.ok(mountedAt(fs.dir));
      assert.not.ok(existsSync(fs.loop!.image));
      assert.not.ok(existsSync(fs.dir));
      const dev = spawnSync('losetup', [fs.loop!.device], { encoding: 'utf8' });
      assert.ok(dev.status !== 0 || !dev.stdout.includes(fs.loop!.image), `${fs.loop!.device} still backed by the image`);
    } finally { unmountAllSync(); t.cleanup(); }
  });
}

test('a mount left at the same place is replaced, not stacked; unmountAllSync undoes the rest', () => {
  const why = canLoopMount('xfs');
  if (why) { console.log(`  skip: xfs loop mount: ${why}`); return; }
  const t = tempDir('fxloopmount-');
  try {
    const first = mountImageFs('xfs', t.path, imageBytesFor(0, 5));
    writeFileSync(join(first.dir, 'old'), 'x');
    const second = mountImageFs('xfs', t.path, imageBytesFor(0, 5));
    assert.is(second.dir, first.dir);
    assert.is(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === second.dir).length, 1);
    assert.not.ok(existsSync(join(second.dir, 'old')), 'a fresh file system');
    assert.is(loopsOf(second.loop!.image).split('\n').length, 1);
    unmountAllSync();
    assert.not.ok(mountedAt(second.dir));
    assert.not.ok(existsSync(second.loop!.image));
  } finally { unmountAllSync(); t.cleanup(); }
});

test.run();
