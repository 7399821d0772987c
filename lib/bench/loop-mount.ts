// File systems for the copy benchmark: the work dir's own one, and image files in the work dir
// formatted as XFS (`-m reflink=1`), btrfs or ext4 and loop-mounted there, so that reflinks and
// holes are measured on the file systems that have them. Loop mounts need root, mkfs and
// /dev/loop-control; without them a file system is skipped with the reason (canLoopMount).
//
// Mounting and unmounting go through the real tools (truncate-made sparse image, mkfs, losetup,
// mount, umount). Every mount is recorded until unmounted, so the harness's exit path
// (unmountAllSync, also on SIGINT) never leaves a mount or a loop device behind, and a mount left
// by a killed run at the same place is unmounted before the next one is made.
import { spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type FsKind = 'ext4' | 'xfs' | 'btrfs';
export const FS_KINDS: readonly FsKind[] = ['ext4', 'xfs', 'btrfs'];

export interface BenchFs {
  kind: FsKind;
  /** Shown in the report, e.g. "xfs (loop, reflink=1)" or "ext4 (the work dir's)". */
  label: string;
  /** Where the suite puts its trees (the mount point, or a directory on the work dir's file system). */
  dir: string;
  /** Set for a loop-mounted image: unmountFs detaches and removes it. */
  loop: { image: string; device: string } | null;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/**
 * Image size for a tree of `apparentBytes` held `copies` times at once (the source and one copy per
 * tool): apparent, not allocated, bytes, since a tool that does not keep holes (rsync -a without
 * -S) writes them out in full. A quarter more for metadata and btrfs' DUP metadata, and at least
 * 1 GiB (XFS refuses images under 300 MiB; small btrfs images run out of metadata space first).
 * The image is sparse: the host's disk pays only for what is written.
 */
export function imageBytesFor(apparentBytes: number, copies: number): number {
  const want = apparentBytes * copies * 1.25 + 512 * MiB;
  return Math.max(GiB, Math.ceil(want / MiB) * MiB);
}

const MKFS: Record<FsKind, { exe: string; args: string[]; label: string }> = {
  xfs: { exe: 'mkfs.xfs', args: ['-q', '-f', '-m', 'reflink=1'], label: 'xfs (loop, reflink=1)' },
  btrfs: { exe: 'mkfs.btrfs', args: ['-q', '-f'], label: 'btrfs (loop)' },
  // Inode tables and journal written now: ext4's lazy init would write them in the background
  // during the timed runs.
  ext4: { exe: 'mkfs.ext4', args: ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0'], label: 'ext4 (loop)' },
};

function which(exe: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, exe);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

/** Runs a tool; returns its stdout, or throws with its first line of stderr. */
function run(exe: string, args: string[], timeoutMs = 120_000): string {
  const r = spawnSync(which(exe) ?? exe, args, { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout || '').split('\n').map((l) => l.trim()).find(Boolean) ?? (r.error?.message ?? `exit ${r.status ?? r.signal}`);
    throw new Error(`${exe} ${args.join(' ')}: ${why}`);
  }
  return r.stdout;
}

/** null when a `kind` image can be loop-mounted here, else why not (for the report). */
export function canLoopMount(kind: FsKind): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root: loop mounts need root';
  const missing = [MKFS[kind].exe, 'losetup', 'mount', 'umount'].filter((x) => !which(x));
  if (missing.length) return `${missing.join(', ')} not installed`;
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control (loop devices unavailable here)';
  return null;
}

/** The file system type of the mount holding `dir` (findmnt's name: ext4, xfs, tmpfs …), or ''. */
export function fsTypeOf(dir: string): string {
  try { return run('findmnt', ['-n', '-o', 'FSTYPE', '--target', dir]).trim(); } catch { return ''; }
}

/** Bytes in use on the file system holding `dir` (statfs: blocks minus free blocks). */
export function usedBytes(dir: string): number {
  const s = statfsSync(dir);
  return (s.blocks - s.bfree) * s.bsize;
}

function isMountPoint(dir: string): boolean {
  const abs = resolve(dir);
  // /proc/self/mountinfo field 5 is the mount point, with spaces and the like as octal escapes.
  const esc = abs.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  try { return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === esc); } catch { return false; }
}

const mounted = new Map<string, BenchFs>();

/**
 * Makes a sparse image of `bytes` at `root`/KIND.img, formats it as `kind` and mounts it on
 * `root`/KIND through a loop device with direct I/O (the image's writes reach the disk as a real
 * device's would, instead of sitting in the host's page cache a second time; plain loop when the
 * host refuses direct I/O). Throws with the failing tool's message; nothing is left mounted then.
 */
export function mountImageFs(kind: FsKind, root: string, bytes: number): BenchFs {
  const dir = join(root, kind);
  const image = join(root, `${kind}.img`);
  mkdirSync(root, { recursive: true });
  if (isMountPoint(dir)) detachSync({ kind, label: '', dir, loop: { image, device: '' } });
  rmSync(image, { force: true });
  mkdirSync(dir, { recursive: true });
  const fd = openSync(image, 'w');
  try { ftruncateSync(fd, bytes); } finally { closeSync(fd); }
  let device = '';
  try {
    run(MKFS[kind].exe, [...MKFS[kind].args, image], 600_000);
    try { device = run('losetup', ['--find', '--show', '--direct-io=on', image]).trim(); } catch { device = run('losetup', ['--find', '--show', image]).trim(); }
    run('mount', [device, dir]);
  } catch (e) {
    if (device) { try { run('losetup', ['-d', device]); } catch { /* reported below */ } }
    rmSync(image, { force: true });
    throw e;
  }
  const fs: BenchFs = { kind, label: MKFS[kind].label, dir, loop: { image, device } };
  mounted.set(dir, fs);
  return fs;
}

/**
 * Unmounts, detaches the loop device(s) of the image and removes image and mount point. A busy
 * mount (a process still inside, writeback in flight) is retried after `sync` for a few seconds,
 * then lazily unmounted so the loop device is freed when the last user lets go.
 */
function detachSync(fs: BenchFs): void {
  if (isMountPoint(fs.dir)) {
    let done = false;
    for (let i = 0; i < 10 && !done; i++) {
      try { run('umount', [fs.dir]); done = true; } catch {
        spawnSync('sync');
        spawnSync('sleep', ['0.5']);
      }
    }
    if (!done) run('umount', ['-l', fs.dir]);
  }
  if (fs.loop) {
    // Every device still backed by the image: the recorded one, and any a killed run left.
    let devices: string[] = fs.loop.device ? [fs.loop.device] : [];
    try {
      const listed = run('losetup', ['-j', fs.loop.image]).split('\n').map((l) => l.split(':')[0]!.trim()).filter(Boolean);
      devices = [...new Set([...devices, ...listed])];
    } catch { /* losetup -j failed: try the recorded device */ }
    for (const d of devices) { try { run('losetup', ['-d', d]); } catch { /* already detached */ } }
    rmSync(fs.loop.image, { force: true });
  }
  mounted.delete(fs.dir);
  if (!isMountPoint(fs.dir)) rmSync(fs.dir, { recursive: true, force: true });
}

/** Unmounts a file system made by mountImageFs (a no-op for the work dir's own). */
export function unmountFs(fs: BenchFs): void {
  if (fs.loop) detachSync(fs);
}

/** Unmounts everything still mounted (the harness's exit and signal path); never throws. */
export function unmountAllSync(): void {
  for (const fs of [...mounted.values()]) {
    try { detachSync(fs); } catch (e) { process.stderr.write(`bench: could not unmount ${fs.dir}: ${(e as Error).message}\n`); }
  }
}
