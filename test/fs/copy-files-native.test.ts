// The addon's batch copier (lib/fs/copy-files-native.ts, native/src/copy_files.cc) on real file
// systems: the temp dir, tmpfs, and loop-mounted XFS (reflink=1) and btrfs. Content, mode,
// owner and ns times as asked; the strategy each file system gets (reflink on XFS and btrfs,
// copy_file_range elsewhere); a source with holes copied extent by extent, holes kept; and
// each failure as the JavaScript path reports it, with no temporary left and
// the real name untouched. Then `fxcp -a --json` on XFS and btrfs: each file's strategy.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { available, copyFilesNative, type FileCopyJob } from '../../lib/fs/copy-files-native.js';
import { resetCopyProbes } from '../../lib/fs/copy-data.js';
import { errnoOf } from '../../lib/fs/fs-error.js';
import { native } from '../../lib/native/load.js';
import { mountTestFs, type TestFs, type TestFsKind } from '../helpers/loop-fs.js';
import { fxcp, isRoot } from '../helpers/run-cli.js';

let dir = '';
const mounts = new Map<TestFsKind, TestFs | { skip: string }>();

test.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foxing-copy-files-'));
  if (available) for (const k of ['tmpfs', 'xfs', 'btrfs'] as const) mounts.set(k, mountTestFs(k));
});
test.after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const m of mounts.values()) if (!('skip' in m)) m.cleanup();
});

/** A fresh directory on `kind` ('ext4' here means the temp dir, whatever it is), or null after printing why not. */
function on(kind: TestFsKind | 'temp', label: string): string | null {
  if (!available) { console.log(`  skip ${label}: the native addon is not loaded`); return null; }
  const base = kind === 'temp' ? dir : (() => {
    const m = mounts.get(kind as TestFsKind)!;
    if ('skip' in m) { console.log(`  skip ${label}: ${m.skip}`); return null; }
    return m.mountPoint;
  })();
  return base ? fs.mkdtempSync(path.join(base, 'case-')) : null;
}

function jobFor(src: string, dst: string, over: Partial<FileCopyJob> = {}): FileCopyJob {
  const st = fs.lstatSync(src, { bigint: true });
  const dstDev = fs.statSync(path.dirname(dst), { bigint: true }).dev;
  return {
    src: Buffer.from(src), dst: Buffer.from(dst), size: Number(st.size), data: Number(st.size), ino: st.ino, atimeNs: st.atimeNs, mtimeNs: st.mtimeNs,
    srcDev: st.dev, dstDev, fresh: !fs.existsSync(dst), archive: true, chown: isRoot, uid: Number(st.uid), gid: Number(st.gid),
    mode: Number(st.mode) & 0o7777, fallbackMode: Number(st.mode) & 0o777, ...over,
  };
}

function temps(d: string): string[] {
  return fs.readdirSync(d).filter((n) => n.startsWith('.fxtmp-'));
}

/** A file with a hole: 8 KiB of data, a hole to 1 MiB, 4 KiB of data at the end. */
function writeHoley(file: string): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, 1 << 20);
    fs.writeSync(fd, randomBytes(8192), 0, 8192, 0);
    fs.writeSync(fd, randomBytes(4096), 0, 4096, (1 << 20) - 4096);
    fs.fsyncSync(fd);
  } finally { fs.closeSync(fd); }
}

for (const [kind, strategy] of [['temp', 'copy-range'], ['tmpfs', 'copy-range'], ['xfs', 'reflink'], ['btrfs', 'reflink']] as const) {
  test(`${kind}: a batch copied by ${strategy} with mode, owner and ns times, holes kept`, async () => {
    const d = on(kind, `${kind} batch`);
    if (!d) return;
    resetCopyProbes();
    fs.mkdirSync(path.join(d, 'src'));
    fs.mkdirSync(path.join(d, 'dst'));
    const names = ['empty', 'one', 'small', 'big', 'setuid', 'holey'];
    fs.writeFileSync(path.join(d, 'src', 'empty'), '');
    fs.writeFileSync(path.join(d, 'src', 'one'), 'x');
    fs.writeFileSync(path.join(d, 'src', 'small'), randomBytes(5000));
    fs.writeFileSync(path.join(d, 'src', 'big'), randomBytes(3 << 20));
    fs.writeFileSync(path.join(d, 'src', 'setuid'), '#!/bin/sh\n');
    fs.chmodSync(path.join(d, 'src', 'setuid'), 0o4755);
    writeHoley(path.join(d, 'src', 'holey'));
    fs.utimesSync(path.join(d, 'src', 'small'), new Date('2001-02-03T04:05:06.789Z'), new Date('2002-03-04T05:06:07.891Z'));
    // The old file at a name is replaced whole.
    fs.writeFileSync(path.join(d, 'dst', 'small'), 'old content, longer than one byte');
    const jobs = names.map((n) => jobFor(path.join(d, 'src', n), path.join(d, 'dst', n)));
    const out = await copyFilesNative(jobs);
    names.forEach((n, i) => {
      const o = out[i];
      assert.ok(o.copied, `${n}: ${o.error?.message}`);
      const a = fs.lstatSync(path.join(d, 'src', n), { bigint: true }), b = fs.lstatSync(path.join(d, 'dst', n), { bigint: true });
      assert.ok(fs.readFileSync(path.join(d, 'src', n)).equals(fs.readFileSync(path.join(d, 'dst', n))), `${n}: content`);
      assert.is(b.mode, a.mode, `${n}: mode`);
      assert.is(b.mtimeNs, a.mtimeNs, `${n}: mtime`);
      assert.is(b.atimeNs, jobs[i].atimeNs, `${n}: atime as listed (the copy's read may have moved the source's)`);
      assert.is(b.uid, a.uid, `${n}: uid`);
      if (a.size > 0n) assert.is(o.copied!.strategy, strategy, `${n}: strategy`);
      if (n === 'holey') {
        assert.ok(b.blocks <= a.blocks, `holes kept (${b.blocks} <= ${a.blocks} blocks)`);
        if (strategy !== 'reflink') assert.is(o.copied!.bytes, 8192 + 4096, 'only the data extents copied');
      }
    });
    assert.equal(temps(path.join(d, 'dst')), []);
  });
}

test('without the owner set (chown not asked), the fallback mode is applied: setuid dropped', async () => {
  const d = on('temp', 'fallback mode');
  if (!d) return;
  fs.writeFileSync(path.join(d, 's'), 'x');
  fs.chmodSync(path.join(d, 's'), 0o4755);
  const [o] = await copyFilesNative([jobFor(path.join(d, 's'), path.join(d, 't'), { chown: false, fallbackMode: 0o755 })]);
  assert.ok(o.copied);
  assert.is(fs.statSync(path.join(d, 't')).mode & 0o7777, 0o755);
});

// The copier sets owner and mode only where the new file lacks them (it is created with its
// final bits less the umask): what the umask takes, another owner, and setuid after that chown.
test('owner and mode where the new file lacks them: bits the umask strips, another owner, setuid kept after the chown', async () => {
  const d = on('temp', 'owner and mode');
  if (!d) return;
  const old = process.umask(0o027);
  try {
    const cases: Array<[string, number, number]> = [['open', 0o777, 0], ['private', 0o600, 0], ['setgid', 0o2775, 0]];
    if (isRoot) cases.push(['theirs', 0o640, 4321], ['their-setuid', 0o4755, 4321]);
    else console.log('  skip other owners: not root');
    for (const [n, mode, uid] of cases) {
      fs.writeFileSync(path.join(d, n), n);
      fs.chmodSync(path.join(d, n), mode);
      if (uid) fs.chownSync(path.join(d, n), uid, uid);
      fs.chmodSync(path.join(d, n), mode);
    }
    const out = await copyFilesNative(cases.map(([n]) => jobFor(path.join(d, n), path.join(d, `${n}.copy`))));
    cases.forEach(([n, mode, uid], i) => {
      assert.ok(out[i].copied, `${n}: ${out[i].error?.message}`);
      const st = fs.statSync(path.join(d, `${n}.copy`));
      assert.is((st.mode & 0o7777).toString(8), mode.toString(8), `${n}: mode`);
      if (isRoot) assert.equal([st.uid, st.gid], [uid, uid], `${n}: owner`);
    });
  } finally {
    process.umask(old);
  }
});

test('a new file is written unnamed (O_TMPFILE) and linked; a name that appeared since is replaced by the rename', async () => {
  const d = on('temp', 'unnamed new file');
  if (!d) return;
  fs.writeFileSync(path.join(d, 's'), 'source');
  const job = jobFor(path.join(d, 's'), path.join(d, 't'));
  assert.ok(job.fresh);
  fs.writeFileSync(path.join(d, 't'), 'appeared after the listing');
  fs.writeFileSync(path.join(d, 'u'), 'old');
  const out = await copyFilesNative([job, { ...job, dst: Buffer.from(path.join(d, 'n')) }, { ...job, dst: Buffer.from(path.join(d, 'u')), fresh: false }]);
  for (const o of out) assert.ok(o.copied, o.error?.message);
  for (const n of ['t', 'n', 'u']) assert.is(fs.readFileSync(path.join(d, n), 'utf8'), 'source', n);
  assert.equal(temps(d), []);
});

test("a directory's attributes alone (metaOnly): owner, mode with setgid, ns times; a missing one fails by name", async () => {
  const d = on('temp', 'directory attributes');
  if (!d) return;
  fs.mkdirSync(path.join(d, 'dir'));
  const st = fs.statSync(path.join(d, 'dir'), { bigint: true });
  const job: FileCopyJob = {
    src: Buffer.from(path.join(d, 'dir')), dst: Buffer.from(path.join(d, 'dir')), size: 0, data: 0, ino: 0n,
    atimeNs: 1_000_000_123n, mtimeNs: 2_000_000_456n, srcDev: st.dev, dstDev: st.dev, fresh: false, metaOnly: true,
    archive: true, chown: isRoot, uid: Number(st.uid), gid: Number(st.gid), mode: 0o2750, fallbackMode: 0o2750,
  };
  fs.mkdirSync(path.join(d, 'theirs'));
  const theirs = { ...job, src: Buffer.from(path.join(d, 'theirs')), dst: Buffer.from(path.join(d, 'theirs')), uid: 4321, gid: 4321 };
  const [ok, missing, other] = await copyFilesNative([job, { ...job, dst: Buffer.from(path.join(d, 'gone')) }, theirs]);
  assert.ok(ok.copied, ok.error?.message);
  // Another owner (as root): set, and the mode with setgid after it.
  if (isRoot) {
    assert.ok(other.copied, other.error?.message);
    const t = fs.statSync(path.join(d, 'theirs'));
    assert.equal([t.uid, t.gid, (t.mode & 0o7777).toString(8)], [4321, 4321, '2750']);
  }
  const after = fs.statSync(path.join(d, 'dir'), { bigint: true });
  assert.is(Number(after.mode) & 0o7777, 0o2750);
  assert.is(after.mtimeNs, 2_000_000_456n);
  assert.is(after.atimeNs, 1_000_000_123n);
  assert.is(errnoOf(missing.error), 'ENOENT');
  assert.match(missing.error!.message, /gone/);
});

test('new directories (makeDir): made with their bits; one there kept; a file in the way replaced; a missing parent made only as far as asked', async () => {
  const d = on('temp', 'new directories');
  if (!d) return;
  const dirJob = (p: string, mode: number, parent?: { mode: number; levels: number }): FileCopyJob => ({
    src: Buffer.from(p), dst: Buffer.from(p), size: 0, data: 0, ino: 0n, atimeNs: 0n, mtimeNs: 0n, srcDev: 0n, dstDev: 0n, fresh: false,
    makeDir: true, archive: false, chown: false, uid: 0, gid: 0, mode, fallbackMode: mode, parent,
  });
  const umask = process.umask();
  fs.mkdirSync(path.join(d, 'kept'), 0o700);
  fs.writeFileSync(path.join(d, 'kept', 'x'), 'inside');
  fs.writeFileSync(path.join(d, 'file-in-the-way'), '');
  fs.writeFileSync(path.join(d, 'not-a-dir'), '');
  const out = await copyFilesNative([
    dirJob(path.join(d, 'made'), 0o751),
    dirJob(path.join(d, 'kept'), 0o755),
    dirJob(path.join(d, 'file-in-the-way'), 0o750),
    // Its parent and grandparent are new and not made yet (their jobs are elsewhere): made.
    dirJob(path.join(d, 'a', 'b', 'c'), 0o755, { mode: 0o750, levels: 2 }),
    // One level allowed: the grandparent is not made, the job fails naming the parent.
    dirJob(path.join(d, 'p', 'q', 'r'), 0o755, { mode: 0o750, levels: 1 }),
    dirJob(path.join(d, 'not-a-dir', 'sub'), 0o755, { mode: 0o750, levels: 1 }),
  ]);
  out.slice(0, 4).forEach((o, i) => assert.ok(o.copied, `job ${i}: ${o.error?.message}`));
  const bits = (p: string) => fs.lstatSync(path.join(d, p)).mode & 0o7777;
  assert.is(bits('made'), 0o751 & ~umask);
  assert.is(bits('kept'), 0o700, 'an existing directory is kept as it is');
  assert.is(fs.readFileSync(path.join(d, 'kept', 'x'), 'utf8'), 'inside');
  assert.ok(fs.lstatSync(path.join(d, 'file-in-the-way')).isDirectory());
  assert.is(bits('a/b/c'), 0o755 & ~umask);
  assert.is(bits('a/b'), 0o750 & ~umask, 'the parent with the mode asked for it');
  assert.is(bits('a'), 0o700, 'a directory above: private until its own attributes are set');
  assert.is(errnoOf(out[4].error), 'ENOENT');
  assert.match(out[4].error!.message, /cannot create directory .*p\/q\/r: /);
  assert.not.ok(fs.existsSync(path.join(d, 'p')), 'nothing made above the levels allowed');
  assert.is(errnoOf(out[5].error), 'ENOTDIR');
});

test('a file whose new directory is not made yet makes it (parent), then is copied; without `parent` it fails by name', async () => {
  const d = on('temp', 'file in a new directory');
  if (!d) return;
  fs.writeFileSync(path.join(d, 's'), 'data');
  const fresh = (to: string, parent?: { mode: number; levels: number }) => ({ ...jobFor(path.join(d, 's'), path.join(d, 'dst-missing')), dst: Buffer.from(to), fresh: true, parent });
  const [made, named, refused] = await copyFilesNative([
    fresh(path.join(d, 'n1', 'n2', 'f'), { mode: 0o755, levels: 2 }),
    { ...fresh(path.join(d, 'm1', 'f'), { mode: 0o711, levels: 1 }), fresh: false },
    fresh(path.join(d, 'o1', 'f')),
  ]);
  assert.ok(made.copied, made.error?.message);
  assert.is(fs.readFileSync(path.join(d, 'n1', 'n2', 'f'), 'utf8'), 'data');
  assert.is(fs.lstatSync(path.join(d, 'n1', 'n2')).mode & 0o777, 0o755 & ~process.umask());
  assert.ok(named.copied, named.error?.message);
  assert.is(fs.readFileSync(path.join(d, 'm1', 'f'), 'utf8'), 'data', 'a named temporary too');
  assert.equal(temps(path.join(d, 'm1')), []);
  assert.is(errnoOf(refused.error), 'ENOENT');
  assert.not.ok(fs.existsSync(path.join(d, 'o1')));
});

test('without -a: only the mode given, times left as written', async () => {
  const d = on('temp', 'plain mode');
  if (!d) return;
  fs.writeFileSync(path.join(d, 's'), 'x');
  fs.utimesSync(path.join(d, 's'), 1000, 1000);
  const [o] = await copyFilesNative([jobFor(path.join(d, 's'), path.join(d, 't'), { archive: false, chown: false, mode: 0o600 })]);
  assert.ok(o.copied);
  const st = fs.statSync(path.join(d, 't'));
  assert.is(st.mode & 0o7777, 0o600);
  assert.ok(st.mtimeMs > 1_000_000, 'mtime not copied');
});

test('failures: each reported as the JavaScript path reports it, no temporary left, the real name untouched', async () => {
  const d = on('temp', 'failures');
  if (!d) return;
  const s = path.join(d, 's'), t = path.join(d, 't');
  fs.writeFileSync(s, 'source');
  fs.writeFileSync(t, 'old');
  fs.mkdirSync(path.join(d, 'in-the-way'));
  fs.writeFileSync(path.join(d, 'in-the-way', 'x'), '');
  fs.symlinkSync('s', path.join(d, 'link'));
  const base = jobFor(s, t);
  const out = await copyFilesNative([
    { ...base, src: Buffer.from(path.join(d, 'missing')) },
    { ...base, ino: base.ino + 1n },
    { ...base, size: 100 },
    { ...base, dst: Buffer.from(path.join(d, 'in-the-way')) },
    { ...base, src: Buffer.from(path.join(d, 'link')) },
    { ...base, dst: Buffer.from(path.join(d, 'no-such-dir', 't')) },
  ]);
  assert.is(errnoOf(out[0].error), 'ENOENT');
  assert.match(out[0].error!.message, /cannot read .*missing: no such file or directory/);
  assert.is(out[1].error?.code, 'CHANGED');
  assert.match(out[1].error!.message, /no longer the regular file that was listed/);
  assert.is(out[2].error?.code, 'CHANGED');
  assert.match(out[2].error!.message, /shrank while it was copied/);
  assert.match(out[3].error!.message, /cannot replace .*in-the-way: a directory is in the way/);
  assert.is(errnoOf(out[4].error), 'ELOOP', 'a symlink is not followed');
  assert.is(errnoOf(out[5].error), 'ENOENT');
  assert.match(out[5].error!.message, /cannot create a temporary file in .*no-such-dir/);
  assert.is(fs.readFileSync(t, 'utf8'), 'old');
  assert.equal(temps(d), []);
  assert.ok(fs.existsSync(path.join(d, 'in-the-way', 'x')));
});

test('the binding refuses malformed arguments with a TypeError or RangeError', () => {
  if (!native) { console.log('  skip binding arguments: the native addon is not loaded'); return; }
  const nums = new Float64Array(8), times = new BigInt64Array(4), out = new Float64Array(7);
  assert.throws(() => native!.copyBatchAsync(Buffer.from('a\0'), nums, times, out), /NUL-terminated, two a file/);
  assert.throws(() => native!.copyBatchAsync(Buffer.from('a\0b\0'), new Float64Array(7), times, out), /lengths do not match/);
  assert.throws(() => native!.copyBatchAsync(Buffer.from('a\0b\0'), nums, new BigInt64Array(4) as never, new Float64Array(3)), /lengths do not match/);
  assert.throws(() => native!.copyBatchAsync(Buffer.from('a\0b\0'), new Float64Array([-1, 0, 0, 0, 0, 0, 0, 0]), times, out), /bad size/);
  assert.throws(() => native!.copyBatchAsync('a' as never, nums, times, out), TypeError);
});

// A large file goes in a batch only as a reflink (lib/copy/write-batcher.ts): refused, nothing
// is written and the caller copies it; where the file system shares extents, it is cloned.
for (const [kind, clones] of [['tmpfs', false], ['xfs', true], ['btrfs', true]] as const) {
  test(`clone-only on ${kind}: ${clones ? 'cloned' : 'refused, nothing written, no temporary'}`, async () => {
    const d = on(kind, `clone-only on ${kind}`);
    if (!d) return;
    resetCopyProbes();
    fs.writeFileSync(path.join(d, 's'), randomBytes(5 << 20));
    fs.writeFileSync(path.join(d, 'old'), 'old');
    const fresh = jobFor(path.join(d, 's'), path.join(d, 'new'), { cloneOnly: true });
    const over = jobFor(path.join(d, 's'), path.join(d, 'old'), { cloneOnly: true });
    const out = await copyFilesNative([fresh, over]);
    for (const [o, name] of [[out[0], 'new'], [out[1], 'old']] as const) {
      if (clones) {
        assert.is(o.copied?.strategy, 'reflink', o.error?.message);
        assert.ok(fs.readFileSync(path.join(d, name)).equals(fs.readFileSync(path.join(d, 's'))), name);
      } else {
        assert.ok('notCloned' in o && o.notCloned, JSON.stringify(o));
        if (name === 'new') assert.not.ok(fs.existsSync(path.join(d, name)), 'nothing under the new name');
        else assert.is(fs.readFileSync(path.join(d, name), 'utf8'), 'old', 'the old file untouched');
      }
    }
    assert.equal(temps(d), []);
  });
}

for (const kind of ['xfs', 'btrfs'] as const) {
  test(`fxcp -a --json on ${kind}: every file reports its strategy, reflink; holes kept`, () => {
    const d = on(kind, `fxcp on ${kind}`);
    if (!d) return;
    fs.mkdirSync(path.join(d, 'src', 'sub'), { recursive: true });
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(d, 'src', 'sub', `f${i}`), randomBytes(1000 + i * 100));
    fs.writeFileSync(path.join(d, 'src', 'large'), randomBytes(6 << 20));
    writeHoley(path.join(d, 'src', 'holey'));
    const r = fxcp(['-a', '--json', `${d}/src/`, `${d}/dst`]);
    assert.is(r.code, 0, r.stderr);
    const writes = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((x) => x.action === 'write');
    assert.is(writes.length, 42);
    for (const w of writes) assert.is(w.strategy, 'reflink', w.path);
    const a = fs.statSync(path.join(d, 'src', 'holey')), b = fs.statSync(path.join(d, 'dst', 'holey'));
    assert.ok(b.blocks <= a.blocks, 'holes kept');
    assert.ok(fs.readFileSync(path.join(d, 'src', 'large')).equals(fs.readFileSync(path.join(d, 'dst', 'large'))));
  });
}

test.run();
