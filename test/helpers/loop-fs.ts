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
import { haveCommand, isRoot } from './run-cli.js';

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

const MKFS: Record<Exclude<TestFsKind, 'tmpfs'>, string[]> = {
  xfs: ['mkfs.xfs', '-q', '-m', 'reflink=1'],
  btrfs: ['mkfs.btrfs', '-q'],
  ext4: ['mkfs.ext4', '-q', '-F'],
};

function run(cmd: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: (r.stdout ?? '').trim(), err: (r.stderr ?? r.error?.message ?? '').trim() };
}

/** Mounts a fresh file system of `kind` (`sizeMB` megabytes), or says why it cannot. */
export function mountTestFs(kind: TestFsKind, sizeMB = DEFAULT_MB[kind]): TestFs | { skip: string } {
  if (!isRoot) return { skip: `mounting ${kind} needs root` };
  if (kind !== 'tmpfs') {
    const mkfs = MKFS[kind][0];
    if (!haveCommand(mkfs)) return { skip: `${mkfs} is not installed (test/setup/install-test-tools.sh)` };
    if (!haveCommand('losetup')) return { skip: 'losetup is not installed' };
  }
  const base = mkdtempSync(join(tmpdir(), `foxing-loopfs-${kind}-`));
  const mountPoint = join(base, 'mnt');
  mkdirSync(mountPoint);
  let device: string | null = null;
  let mounted = false;
  let done = false;
  const cleanup = (): void => {
    if (done) return;
    done = true;
    if (mounted && !run('umount', [mountPoint]).ok) run('umount', ['-l', mountPoint]);
    // After a lazy unmount the device is still busy: -d then marks it autoclear, freed at last close.
    if (device) run('losetup', ['-d', device]);
    try { rmSync(base, { recursive: true, force: true }); } catch { /* a lazily unmounted dir may linger */ }
  };
  try {
    if (kind === 'tmpfs') {
      const m = run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMB}m`, 'tmpfs', mountPoint]);
      if (!m.ok) { cleanup(); return { skip: `mount -t tmpfs failed: ${m.err}` }; }
      mounted = true;
      return { kind, mountPoint, device, cleanup };
    }
    const image = join(base, `${kind}.img`);
    const t = run('truncate', ['-s', `${sizeMB}M`, image]);
    if (!t.ok) { cleanup(); return { skip: `truncate failed: ${t.err}` }; }
    const [mkfs, ...mkfsArgs] = MKFS[kind];
    const f = run(mkfs, [...mkfsArgs, image]);
    if (!f.ok) { cleanup(); return { skip: `${mkfs} failed: ${f.err}` }; }
    const l = run('losetup', ['--find', '--show', image]);
    if (!l.ok || !l.out.startsWith('/dev/')) { cleanup(); return { skip: `losetup failed (no loop devices here?): ${l.err}` }; }
    device = l.out;
    const m = run('mount', [device, mountPoint]);
    if (!m.ok) { cleanup(); return { skip: `mount ${kind} failed: ${m.err}` }; }
    mounted = true;
    return { kind, mountPoint, device, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}
