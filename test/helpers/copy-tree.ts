/**
 * Fixtures and checks for the copy engine's tests (`fxcp SRC... DEST`): a record of every
 * entry of a tree (type, mode, owner, mtime to the ns, size, content hash, symlink target,
 * device number, xattrs and ACLs, hard-link group, allocated blocks, inode), a comparison of
 * two trees by those records, and builders for the trees the tests copy.
 *
 * Names are raw bytes: a name that is not UTF-8 is shown as `\xNN` escapes, so two names never
 * collapse into one key. Reads whole files to hash them: fixtures are small, except the large
 * files of the kill tests, which are hashed by streaming (hashFile).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blake3 } from '../../lib/hash/blake3.js';
import { native } from '../../lib/native/load.js';

export interface EntryRecord {
  type: string;
  mode: string;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  size: bigint;
  rdev: bigint;
  target: string | null;
  hash: string | null;
  xattrs: string;
  /** The first path (in walk order) of the entry's hard-link group, for a multiply-linked file. */
  linkGroup: string | null;
  blocks: bigint;
  ino: bigint;
  ctimeNs: bigint;
}

const TYPE: Record<number, string> = { 0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink', 0o010000: 'fifo', 0o140000: 'socket', 0o020000: 'chardev', 0o060000: 'blockdev' };

/** A name as a readable key: UTF-8 when it is, else each byte outside printable ASCII as \xNN. */
export function showName(b: Buffer): string {
  const s = b.toString('utf8');
  if (Buffer.from(s, 'utf8').equals(b) && !s.includes('\n')) return s;
  return [...b].map((c) => (c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`)).join('');
}

/** BLAKE3 of a file's contents, read 1 MiB at a time. */
export function hashFile(p: string | Buffer): string {
  const h = blake3().hasher();
  const fd = openSync(p, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest().toString('hex');
}

function xattrsOf(p: Buffer): string {
  if (!native) return '';
  try {
    return native.xattrList(p).sort().map((n) => `${n}=${native!.xattrGet(p, n).toString('hex')}`).join(';');
  } catch {
    return '';
  }
}

/** Every entry below `root` (the root itself as '.'), by relative path. */
export function listTree(root: string): Map<string, EntryRecord> {
  const out = new Map<string, EntryRecord>();
  const groups = new Map<string, string>();
  const walk = (abs: Buffer, rel: string) => {
    const st = lstatSync(abs, { bigint: true });
    const type = TYPE[Number(st.mode & 0o170000n)] ?? 'unknown';
    let linkGroup: string | null = null;
    if (type === 'file' && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      if (!groups.has(key)) groups.set(key, rel);
      linkGroup = groups.get(key)!;
    }
    out.set(rel, {
      type, mode: (st.mode & 0o7777n).toString(8), uid: Number(st.uid), gid: Number(st.gid), mtimeNs: st.mtimeNs, size: type === 'dir' ? 0n : st.size,
      rdev: st.rdev, target: type === 'symlink' ? showName(readlinkSync(abs, { encoding: 'buffer' })) : null,
      hash: type === 'file' ? hashFile(abs) : null, xattrs: type === 'symlink' ? '' : xattrsOf(abs), linkGroup, blocks: st.blocks, ino: st.ino, ctimeNs: st.ctimeNs,
    });
    if (type === 'dir') {
      for (const n of readdirSync(abs, { encoding: 'buffer' }).sort(Buffer.compare)) {
        walk(Buffer.concat([abs, Buffer.from('/'), n]), rel === '.' ? showName(n) : `${rel}/${showName(n)}`);
      }
    }
  };
  walk(Buffer.from(root), '.');
  return out;
}

export interface TreeCompareOptions {
  /** Compare owner and group (default true). */
  owner?: boolean;
  /** Compare the mode bits (default true). */
  mode?: boolean;
  /** Compare mtimes (default true; never for symlinks when `symlinkTimes` is false). */
  times?: boolean;
  /** Compare the root directory's own attributes (default true). */
  rootMeta?: boolean;
  /** Compare xattrs and ACLs (default true). */
  xattrs?: boolean;
  /** Compare allocated blocks (holes kept) for regular files (default false). */
  holes?: boolean;
}

/** Differences from tree `a` to tree `b`, one line each (empty: the same). */
export function compareCopy(a: string, b: string, opts: TreeCompareOptions = {}): string[] {
  const la = listTree(a), lb = listTree(b);
  const diffs: string[] = [];
  for (const [rel, x] of la) {
    const y = lb.get(rel);
    if (!y) { diffs.push(`${rel}: missing`); continue; }
    const d = (k: string, p: unknown, q: unknown) => { if (p !== q) diffs.push(`${rel}: ${k} ${String(p)} != ${String(q)}`); };
    d('type', x.type, y.type);
    if (x.type !== y.type) continue;
    const meta = rel !== '.' || opts.rootMeta !== false;
    if (meta && opts.mode !== false && x.type !== 'symlink') d('mode', x.mode, y.mode);
    if (meta && opts.owner !== false) { d('uid', x.uid, y.uid); d('gid', x.gid, y.gid); }
    if (meta && opts.times !== false) d('mtime', x.mtimeNs, y.mtimeNs);
    if (meta && opts.xattrs !== false) d('xattrs', x.xattrs, y.xattrs);
    d('size', x.size, y.size);
    d('content', x.hash, y.hash);
    d('target', x.target, y.target);
    if (x.type === 'chardev' || x.type === 'blockdev') d('rdev', x.rdev, y.rdev);
    d('hard-link group', x.linkGroup, y.linkGroup);
    if (opts.holes && x.type === 'file') d('blocks', x.blocks, y.blocks);
  }
  for (const rel of lb.keys()) if (!la.has(rel)) diffs.push(`${rel}: extra`);
  return diffs;
}

/** The relative paths of a tree (the root left out), sorted. */
export function pathSet(root: string): string[] {
  return [...listTree(root).entries()].filter(([r]) => r !== '.').map(([r, e]) => (e.type === 'dir' ? `${r}/` : r)).sort();
}

/** Writes files (path -> content) under root, making directories as needed. */
export function writeTree(root: string, files: Record<string, string | Buffer>): void {
  mkdirSync(root, { recursive: true });
  for (const [rel, data] of Object.entries(files)) {
    if (rel.endsWith('/')) { mkdirSync(join(root, rel), { recursive: true }); continue; }
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), data);
  }
}

/** Runs a command (no shell), throwing with its stderr when it fails. */
export function run(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Whether `cmd` runs here. */
export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** A UNIX socket bound at `path` (the socket file stays after the process ends). */
export function makeSocket(path: string): void {
  run('python3', ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])', path]);
}

/** Sets a file's mtime (and atime) to `@SECONDS.NANOS` with touch -h (a symlink's own time). */
export function touchAt(path: string, at: string): void {
  run('touch', ['-h', '-d', `@${at}`, path]);
}

/**
 * The tree `-a` must keep whole: modes with setuid, setgid and sticky bits, odd ns mtimes,
 * symlinks (relative, absolute, dangling, out of the tree, a loop), hard links across
 * directories, an empty directory, a fifo, a socket, user xattrs and a POSIX ACL, and as root
 * a device and a foreign owner. Returns what it could not make, and why.
 */
export function buildRichTree(root: string, isRoot: boolean): string[] {
  const skipped: string[] = [];
  writeTree(root, { 'a.txt': 'alpha\n', 'd/b.txt': 'bravo\n', 'd/e/c.bin': Buffer.alloc(70000, 7), 'empty/': '', 'x/y/z/deep.txt': 'deep' });
  const p = (r: string) => join(root, r);
  run('chmod', ['4755', p('a.txt')]);
  run('chmod', ['2750', p('d/e')]);
  run('chmod', ['1777', p('empty')]);
  run('chmod', ['0640', p('d/b.txt')]);
  run('ln', [p('d/b.txt'), p('x/y/b-link.txt')]);
  run('ln', [p('a.txt'), p('a-link.txt')]);
  run('ln', ['-s', 'a.txt', p('rel-link')]);
  run('ln', ['-s', '/etc/hostname', p('abs-link')]);
  run('ln', ['-s', 'no/such/target', p('dangling')]);
  run('ln', ['-s', '../../outside', p('d/out-link')]);
  run('ln', ['-s', 'loop-b', p('loop-a')]);
  run('ln', ['-s', 'loop-a', p('loop-b')]);
  run('mkfifo', [p('fifo')]);
  makeSocket(p('sock'));
  try {
    run('setfattr', ['-n', 'user.colour', '-v', 'blue', p('a.txt')]);
    run('setfattr', ['-n', 'user.dir-note', '-v', '0x00ff10', p('d')]);
  } catch (e) { skipped.push(`xattrs: ${(e as Error).message}`); }
  try {
    run('setfacl', ['-m', 'u:1234:rw', p('d/b.txt')]);
    run('setfacl', ['-d', '-m', 'g:5678:rx', p('d/e')]);
  } catch (e) { skipped.push(`ACLs: ${(e as Error).message}`); }
  if (isRoot) {
    run('mknod', [p('null-dev'), 'c', '1', '3']);
    run('chown', ['1234:5678', p('d/b.txt')]);
    run('chown', ['-h', '4321:8765', p('rel-link')]);
    run('chown', ['1234:5678', p('x/y')]);
  } else {
    skipped.push('device node and owners: needs root');
  }
  // Times last, deepest first, so making the entries does not move them again.
  const times: Array<[string, string]> = [
    ['x/y/z/deep.txt', '1600000000.000000001'], ['d/e/c.bin', '1700000000.123456789'], ['a.txt', '1500000000.999999999'],
    ['d/b.txt', '1650000000.5'], ['rel-link', '1400000000.424242424'], ['fifo', '1600000001.1'],
    // Every entry has a time of its own in the past: rsync leaves a symlink's or a special's time
    // alone when it is within the same second as the copy's, so "now" times made comparisons
    // with rsync fail whenever the tree was built and copied within one second.
    ['abs-link', '1400000001.1'], ['dangling', '1400000002.2'], ['d/out-link', '1400000003.3'], ['loop-a', '1400000004.4'],
    ['loop-b', '1400000005.5'], ['sock', '1400000006.6'], ...(isRoot ? [['null-dev', '1400000007.7'] as [string, string]] : []),
    ['x/y/z', '1600000002.2'],
    ['x/y', '1600000003.3'], ['x', '1600000004.4'], ['d/e', '1600000005.5'], ['d', '1600000006.6'], ['empty', '1600000007.7'], ['.', '1600000008.8'],
  ];
  for (const [r, at] of times) touchAt(p(r), at);
  return skipped;
}

/** Lines of a command's stdout as a sorted list (blank lines left out). */
export function lineSet(s: string): string[] {
  return s.split('\n').filter((l) => l.length > 0).sort();
}

