/**
 * Real file systems for tests: a loop-mounted image file (XFS with reflink, btrfs, ext4) or a
 * tmpfs of a given size, mounted on a fresh temporary directory. The copy tests use them to see
 * what reflinks, copy_file_range and holes really do on each file system.
 *
 * Root only (mount, losetup); without root, or without mkfs.<kind>, `mountTestFs` returns
 * `{ skip }` with the reason, which the test prints. Images are sparse files (a 300 MB image
 * costs the few MB mkfs writes) in a temporary directory; `cleanup` unmounts (lazily when busy),
 * detaches the loop device and removes the image and directories. It never throws, so call it
 * in `finally`. A test process killed before cleanup leaves a mount behind: `findmnt | grep
 * foxing-loopfs-` finds it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canLoopMount, mountImageFs, unmountFs } from '../../lib/bench/loop-mount.js';
import { isRoot } from './run-cli.js';

export type TestFsKind = 'xfs' | 'btrfs' | 'ext4' | 'tmpfs';

export interface TestFs {
  kind: TestFsKind;
  /** Where it is mounted (an empty directory, writable by root). */
  mountPoint: string;
  /** The loop device (null for tmpfs). */
  device: string | null;
  /** Unmounts, detaches and removes everything; safe to call twice; never throws. */
  cleanup(): void;
}

/** Image sizes: XFS refuses less than 300 MB; btrfs' default profile wants about as much. */
const DEFAULT_MB: Record<TestFsKind, number> = { xfs: 300, btrfs: 300, ext4: 64, tmpfs: 64 };

/**
 * Mounts a fresh file system of `kind` (`sizeMB` megabytes), or says why it cannot. Image file
 * systems are the benchmark's (lib/bench/loop-mount.ts: mkfs, a loop device, mount, and an
 * unmount that waits out a busy mount); tmpfs is mounted here.
 */
export function mountTestFs(kind: TestFsKind, sizeMB = DEFAULT_MB[kind]): TestFs | { skip: string } {
  if (!isRoot) return { skip: `mounting ${kind} needs root` };
  if (kind !== 'tmpfs') {
    const why = canLoopMount(kind);
    if (why) return { skip: `${why} (test/setup/install-test-tools.sh)` };
  }
  const base = mkdtempSync(join(tmpdir(), `foxing-loopfs-${kind}-`));
  const removeBase = () => { try { rmSync(base, { recursive: true, force: true }); } catch { /* a lazily unmounted dir may linger */ } };
  if (kind === 'tmpfs') {
    const mountPoint = join(base, 'mnt');
    mkdirSync(mountPoint);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMB}m`, 'tmpfs', mountPoint], { encoding: 'utf8' });
    if (m.status !== 0) { removeBase(); return { skip: `mount -t tmpfs failed: ${(m.stderr ?? '').trim()}` }; }
    let done = false;
    return {
      kind, mountPoint, device: null, cleanup() {
        if (done) return;
        done = true;
        if (spawnSync('umount', [mountPoint]).status !== 0) spawnSync('umount', ['-l', mountPoint]);
        removeBase();
      },
    };
  }
  let fs;
  try {
    fs = mountImageFs(kind, base, sizeMB * 1024 * 1024);
  } catch (e) {
    removeBase();
    return { skip: `mounting ${kind} failed: ${(e as Error).message}` };
  }
  let done = false;
  return {
    kind, mountPoint: fs.dir, device: fs.loop?.device ?? null, cleanup() {
      if (done) return;
      done = true;
      try { unmountFs(fs); } catch { /* lazily unmounted: the device goes at last close */ }
      removeBase();
    },
  };
}
