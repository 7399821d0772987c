// A new directory's entries written as one group of batch rows (lib/copy/dir-group.ts): its
// subdirectories made, its files copied with mode and ns times, its own attributes set last
// (after every entry was made, so its mtime is the source's); a directory whose own mkdir has
// not run yet (the other pool thread) made by its rows, its last row included; a file gone
// since the listing reported by name while the rest is written. Then the real fxcp on trees
// whose directories take the group's every path: one group with its attributes, several groups
// (a wide directory), directories with entries left to the main thread, restrictive modes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DirGroup, type GroupFiles, type GroupSink, splitDir } from '../../lib/copy/dir-group.js';
import { BATCH_FILES, WriteBatcher } from '../../lib/copy/write-batcher.js';
import { available, runBatch } from '../../lib/fs/copy-files-native.js';
import { native } from '../../lib/native/load.js';
import { captureMetaSync } from '../../lib/fs/capture-meta.js';
import { errnoOf } from '../../lib/fs/fs-error.js';
import { Materializer } from '../../lib/fs/materialize.js';
import { scanDir, type ScannedDir } from '../../lib/fs/scan-dir.js';
import { compareCopy, touchAt, writeTree } from '../helpers/copy-tree.js';
import { fxcp, isRoot, tempDir } from '../helpers/run-cli.js';

let tmp: { path: string; cleanup: () => void };
test.before(() => { tmp = tempDir('fxgroup-'); });
test.after(() => tmp.cleanup());

interface Seen { written: Array<[string, string]>; failed: Array<[string, unknown]>; totals: number[][] }

/** Entries `files` of `scan` as one group's files. */
function groupOf(scan: ScannedDir, files: number[]): GroupFiles {
  return { files, data: files.reduce((n, i) => n + scan.rawSize(i), 0), bytes: files.reduce((n, i) => n + scan.rawSize(i), 0) };
}

/**
 * A group of `src`'s listing into `dst` (every subdirectory and file, its attributes last unless
 * `self` is false), run; what it reported (each file, unless `each` is false: the totals).
 */
async function runGroup(src: string, dst: string, opts: { self?: boolean; ensure?: { mode: number; levels: number }; each?: boolean } = {}): Promise<Seen> {
  const root = path.dirname(dst);
  const writer = new WriteBatcher(new Materializer({ root: Buffer.from(root), owner: isRoot, onWarn: () => {} }), isRoot, () => {});
  const scan = scanDir(Buffer.from(src), true);
  const dirs: number[] = [], files: number[] = [];
  for (let i = 0; i < scan.count; i++) (scan.type(i) === 'dir' ? dirs : files).push(i);
  const meta = captureMetaSync(Buffer.from(src), Buffer.from(path.basename(src)), { xattrs: false });
  const seen: Seen = { written: [], failed: [], totals: [] };
  const sink: GroupSink<ScannedDir> = {
    each: opts.each !== false,
    written: (s, i, strategy) => { seen.written.push([s.name(i).toString(), strategy]); },
    wroteAll: (_s, ...totals) => { seen.totals.push(totals); },
    failed: (s, i, err) => { seen.failed.push([i < 0 ? '.' : s.name(i).toString(), err]); },
  };
  const dev = fs.statSync(root, { bigint: true }).dev;
  const g = new DirGroup(writer, scan, Buffer.from(dst), dev, meta.dev, dirs, groupOf(scan, files), opts.self === false ? null : meta, opts.ensure, sink, scan);
  assert.is(g.files, dirs.length + files.length + (opts.self === false ? 0 : 1));
  assert.is(g.rows, 0, 'no rows in the batch\'s arrays: the addon makes them from the listing');
  await runBatch([g]);
  await g.done;
  return seen;
}

test('splitDir: subdirectories and the files a batch takes, cut into groups of a batch; the rest left (a symlink, a hard link, 5 MiB of data)', () => {
  const src = path.join(tmp.path, 'split');
  const files: Record<string, string | Buffer> = { 'sub/': '', 'big.bin': Buffer.alloc(5 << 20, 1), 'hard.txt': 'h' };
  for (let k = 0; k < BATCH_FILES + 5; k++) files[`f${String(k).padStart(2, '0')}.txt`] = `${k}`;
  writeTree(src, files);
  fs.linkSync(path.join(src, 'hard.txt'), path.join(src, 'hard-2.txt'));
  fs.symlinkSync('f00.txt', path.join(src, 'link'));
  fs.writeFileSync(path.join(src, 'setid'), 's');
  fs.chmodSync(path.join(src, 'setid'), 0o4755);
  const scan = scanDir(Buffer.from(src), true);
  const dev = fs.statSync(src, { bigint: true }).dev;
  const s = splitDir(scan, src.length, dev, true);
  const names = (ix: number[]) => ix.map((i) => scan.name(i).toString());
  assert.equal(names(s.dirs), ['sub']);
  assert.equal(s.groups.map((g) => g.files.length), [BATCH_FILES, 5]);
  assert.is(s.rest, 5, 'big.bin, hard.txt, hard-2.txt, link, setid (its mode without the owner is the main thread\'s to work out)');
  assert.equal(s.groups.map((g) => g.bytes), [s.groups[0].files.reduce((n, i) => n + scan.rawSize(i), 0), 5 * 2]);
  assert.is(s.files, BATCH_FILES + 5);
  assert.equal([...s.grouped].filter((x) => x === 1).length, BATCH_FILES + 5);
  // Without -H a hard-linked file is grouped too; on another device, no file is.
  assert.is(splitDir(scan, src.length, dev, false).rest, 3);
  assert.is(splitDir(scan, src.length, dev + 1n, false).files, 0);
  // A subdirectory whose path would be long is left to the main thread (handles).
  assert.equal(splitDir(scan, 3070, dev, true).dirs, []);
});

test('a group makes the subdirectories, copies the files (mode, ns times), and sets the directory\'s attributes after them', async () => {
  if (!available) { console.log('  skip: the native addon is not loaded'); return; }
  const src = path.join(tmp.path, 'g1-src');
  writeTree(src, { 'a.txt': 'alpha', 'b.bin': Buffer.alloc(70000, 3), 's1/': '', 's2/': '' });
  fs.chmodSync(path.join(src, 'a.txt'), 0o640);
  fs.chmodSync(path.join(src, 's2'), 0o750);
  touchAt(path.join(src, 'a.txt'), '1500000000.123456789');
  touchAt(path.join(src, 'b.bin'), '1500000001.5');
  fs.chmodSync(src, 0o751);
  touchAt(src, '1600000000.000000007');
  const dst = path.join(tmp.path, 'g1-dst');
  // Its own mkdir has not run (its parent's group): the rows make it.
  const seen = await runGroup(src, dst, { ensure: { mode: 0o700, levels: 1 } });
  assert.equal(seen.failed, []);
  assert.equal(seen.written.map(([n]) => n).sort(), ['a.txt', 'b.bin']);
  // (The subdirectories' own attributes are their own groups' work: their modes are those they were made with.)
  assert.equal(compareCopy(src, dst, { owner: isRoot, times: false }).filter((d) => !/^s[12]: mode/.test(d)), []);
  for (const f of ['a.txt', 'b.bin']) assert.is(fs.statSync(path.join(dst, f), { bigint: true }).mtimeNs, fs.statSync(path.join(src, f), { bigint: true }).mtimeNs, f);
  const st = fs.statSync(dst, { bigint: true });
  assert.is(st.mtimeNs, 1_600_000_000_000_000_007n, 'set after the entries were made');
  assert.is(Number(st.mode) & 0o7777, 0o751);
});

test('a group reported by its totals: one call with the files, their sizes, the bytes copied and the count by strategy; the rows as with each', async () => {
  if (!available) { console.log('  skip: the native addon is not loaded'); return; }
  const src = path.join(tmp.path, 'gt-src');
  writeTree(src, { 'a.txt': 'alpha', 'b.bin': Buffer.alloc(70000, 3), 'empty': '', 's1/': '' });
  touchAt(path.join(src, 'a.txt'), '1500000000.123456789');
  touchAt(src, '1600000000.000000007');
  const dst = path.join(tmp.path, 'gt-dst');
  fs.mkdirSync(dst);
  const seen = await runGroup(src, dst, { each: false });
  assert.equal(seen.failed, []);
  assert.equal(seen.written, [], 'no file reported one by one');
  assert.is(seen.totals.length, 1);
  const [files, sizes, bytes, reflinks, ranges, readWrites] = seen.totals[0];
  assert.equal([files, sizes, bytes], [3, 70005, 70005]);
  assert.is(reflinks + ranges + readWrites, 3);
  assert.equal(compareCopy(src, dst, { owner: isRoot, times: false }).filter((d) => !/^s1: mode/.test(d)), []);
  assert.is(fs.statSync(path.join(dst, 'a.txt'), { bigint: true }).mtimeNs, 1_500_000_000_123_456_789n);
  assert.is(fs.statSync(dst, { bigint: true }).mtimeNs, 1_600_000_000_000_000_007n);
});

test('the binding refuses a malformed group before it queues anything', () => {
  if (!native) { console.log('  skip: the native addon is not loaded'); return; }
  const src = path.join(tmp.path, 'gb-src');
  writeTree(src, { 'a.txt': 'a' });
  const scan = scanDir(Buffer.from(src));
  const dst = path.join(tmp.path, 'gb-dst');
  // One group of entry 0, no subdirectory, no attributes row (GROUP_PARAMS numbers: count, entries, subdirectories, ...).
  const params = (count = scan.count, entries = 1, dirs = 0) => new Float64Array([count, entries, dirs, 0, 0, 0, 0, 0, 0, 0, 0]);
  const call = (o: { paths?: Buffer; scans?: Uint8Array[]; gparams?: Float64Array; gentries?: Uint32Array; gout?: Float64Array } = {}) => native!.copyBatchAsync(
    o.paths ?? Buffer.from(`${src}\0${dst}\0`), new Float64Array(0), new BigInt64Array(0), new Float64Array(0), o.scans ?? [scan.packed],
    o.gparams ?? params(), o.gentries ?? new Uint32Array([0]), new BigInt64Array(3), o.gout ?? new Float64Array(9 + 7));
  assert.throws(() => call({ paths: Buffer.from(`${src}\0`) }), /NUL-terminated, two a file and two a group/);
  assert.throws(() => call({ paths: Buffer.from(`${src}\0${dst}\0x\0`) }), /paths left over/);
  assert.throws(() => call({ gentries: new Uint32Array([1]) }), /not in its listing/);
  assert.throws(() => call({ gentries: new Uint32Array(0) }), /gentries is not a typed array of the right type and length/);
  assert.throws(() => call({ gparams: params(scan.count, 1, 2) }), /its subdirectories more than its entries/);
  assert.throws(() => call({ gparams: params(1000) }), /shorter than its count/);
  assert.throws(() => call({ gout: new Float64Array(9) }), /gout is not a typed array of the right type and length/);
  // Two entries whose name ends go back (5, then 3), and names past the end (the last end 99).
  const bad = (ends: number[]) => {
    const b = Buffer.alloc(2 * (9 * 8 + 5 * 8 + 4) + 8);
    ends.forEach((e, k) => b.writeUInt32LE(e, 2 * (9 * 8 + 5 * 8) + 4 * k));
    return b;
  };
  assert.throws(() => call({ scans: [bad([5, 3])], gparams: params(2) }), /name ends that go back/);
  assert.throws(() => call({ scans: [bad([5, 99])], gparams: params(2) }), /names past its end/);
  assert.throws(() => call({ scans: 'x' as never }), /scans must be an Array/);
  assert.is(fs.existsSync(path.join(dst, 'a.txt')), false);
});

test("an empty new directory's group is its attributes alone: the row makes it when its mkdir has not run; without `ensure` that fails by name", async () => {
  if (!available) { console.log('  skip: the native addon is not loaded'); return; }
  const src = path.join(tmp.path, 'g2-src');
  fs.mkdirSync(src, 0o755);
  fs.chmodSync(src, 0o705);
  touchAt(src, '1400000000.25');
  const made = path.join(tmp.path, 'g2-dst');
  assert.equal((await runGroup(src, made, { ensure: { mode: 0o700, levels: 1 } })).failed, []);
  const st = fs.statSync(made, { bigint: true });
  assert.equal([Number(st.mode) & 0o7777, st.mtimeNs], [0o705, 1_400_000_000_250_000_000n]);
  const seen = await runGroup(src, path.join(tmp.path, 'g2-missing'));
  assert.is(seen.failed.length, 1);
  assert.is(seen.failed[0][0], '.');
  assert.is(errnoOf(seen.failed[0][1]), 'ENOENT');
  assert.match((seen.failed[0][1] as Error).message, /g2-missing/);
  assert.not.ok(fs.existsSync(path.join(tmp.path, 'g2-missing')));
});

test('a file gone since the listing is reported by name; the others are written and the attributes still set', async () => {
  if (!available) { console.log('  skip: the native addon is not loaded'); return; }
  const src = path.join(tmp.path, 'g3-src');
  writeTree(src, { 'keep.txt': 'kept', 'gone.txt': 'gone' });
  touchAt(src, '1300000000.5');
  const dst = path.join(tmp.path, 'g3-dst');
  fs.mkdirSync(dst);
  const root = path.dirname(dst);
  const writer = new WriteBatcher(new Materializer({ root: Buffer.from(root), owner: isRoot, onWarn: () => {} }), isRoot, () => {});
  const scan = scanDir(Buffer.from(src), true);
  const files = [0, 1];
  const meta = captureMetaSync(Buffer.from(src), Buffer.from('g3-src'), { xattrs: false });
  fs.unlinkSync(path.join(src, 'gone.txt'));
  const failed: Array<[string, unknown]> = [];
  const written: string[] = [];
  const g = new DirGroup(writer, scan, Buffer.from(dst), meta.dev, meta.dev, [], groupOf(scan, files), meta, undefined, {
    each: false,
    written: (_c, i) => { written.push(scan.name(i).toString()); },
    wroteAll: () => { throw new Error('a group with a failed row reports its rows one by one'); },
    failed: (_c, i, err) => { failed.push([scan.name(i).toString(), err]); },
  }, null);
  await runBatch([g]);
  assert.equal(written, ['keep.txt']);
  assert.is(failed.length, 1);
  assert.is(failed[0][0], 'gone.txt');
  assert.match((failed[0][1] as Error).message, /gone\.txt/);
  assert.equal(fs.readdirSync(dst), ['keep.txt']);
  assert.is(fs.statSync(dst, { bigint: true }).mtimeNs, 1_300_000_000_500_000_000n);
});

test('a group addresses its rows through its two directories opened once: names whose full paths pass PATH_MAX are written', async () => {
  if (!available) { console.log('  skip: the native addon is not loaded'); return; }
  // Each directory path ~3,850 bytes (under PATH_MAX, 4,096), each entry name 240: a row's
  // full path is ~4,090 + 240, which open/linkat/mkdir refuse (ENAMETOOLONG); relative to the
  // group's directory handles, it is one name.
  const deep = (top: string) => {
    let p = path.join(tmp.path, top);
    while (p.length + 241 < 3860) p = path.join(p, 'd'.repeat(240));
    p = path.join(p, 'e'.repeat(3860 - p.length - 1));
    fs.mkdirSync(p, { recursive: true });
    return p;
  };
  const src = deep('long-src'), dstParent = deep('long-dst');
  const name = (c: string) => c.repeat(240);
  // (Made relative to the directory: the full paths are too long for this process as well.)
  const sh = (cwd: string, script: string) => spawnSync('sh', ['-c', script], { cwd, encoding: 'utf8' }).stdout;
  sh(src, `printf 'content a' > ${name('a')}; printf 'content b' > ${name('b')}; mkdir ${name('s')}`);
  const dst = path.join(dstParent, 'x');
  assert.ok(dst.length < 4096 && dst.length + 1 + 240 >= 4096, `${dst.length}`);
  try {
    const seen = await runGroup(src, dst, { ensure: { mode: 0o700, levels: 1 } });
    assert.equal(seen.failed.map(([n, e]) => `${n.slice(0, 3)}: ${(e as Error).message.slice(0, 80)}`), []);
    assert.equal(fs.readdirSync(dst).sort(), [name('a'), name('b'), name('s')]);
    assert.equal(sh(dst, `cat ${name('a')}; echo; cat ${name('b')}`), 'content a\ncontent b');
    assert.ok(fs.statSync(dst).mtimeMs === fs.statSync(src).mtimeMs, 'its attributes set last');
  } finally {
    // (Node's rm cannot remove what it cannot name.)
    sh(src, 'rm -rf -- *');
    sh(dstParent, 'rm -rf x');
  }
});

test('fxcp -a: nested new directories (one group each, a wide one split, some with a symlink, restrictive modes) copied whole, times to the ns', () => {
  const src = path.join(tmp.path, 'cli-src');
  const files: Record<string, string> = {};
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) { files[`d${i}/e${j}/f.txt`] = `${i}${j}`; files[`d${i}/e${j}/g.txt`] = `g${i}${j}`; }
  for (let k = 0; k < 70; k++) files[`wide/w${k}.txt`] = `w${k}`;
  files['d0/empty/'] = '';
  files['d1/linked/t.txt'] = 't';
  writeTree(src, files);
  fs.symlinkSync('t.txt', path.join(src, 'd1/linked/l'));
  fs.chmodSync(path.join(src, 'd2/e1'), 0o555);
  fs.chmodSync(path.join(src, 'd2/e2'), 0o2750);
  fs.chmodSync(path.join(src, 'd0/empty'), 0o1777);
  let n = 0;
  const stamp = (rel: string) => touchAt(path.join(src, rel), `${1600000000 + n++}.${String(n * 7919).padStart(9, '0')}`);
  for (const rel of Object.keys(files)) if (!rel.endsWith('/')) stamp(rel);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) stamp(`d${i}/e${j}`);
  for (const rel of ['d0/empty', 'd1/linked', 'd0', 'd1', 'd2', 'wide', '.']) stamp(rel);
  const dst = path.join(tmp.path, 'cli-dst');
  const r = fxcp(['-a', `${src}/`, `${dst}/`]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(compareCopy(src, dst, { owner: isRoot }), []);
});

test.run();
