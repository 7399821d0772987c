// The native addon's fs calls: xattrs, SEEK_DATA/SEEK_HOLE, exact-nanosecond utimens (also on a
// symlink itself), mknod, and Node-shaped errors. Every test skips with a printed reason when
// the addon is not loaded (FOXING_NO_NATIVE=1 or no build) or the file system lacks a feature.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { native, nativeAddonPath, nativeLoadError, type NativeBinding } from '../../lib/native/load.js';

let dir = '';
test.before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foxing-native-')); });
test.after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

/** The binding, or null after printing why this test skips. */
function need(label: string): NativeBinding | null {
  if (native === null) console.log(`  skip ${label}: addon not loaded (${nativeLoadError})`);
  return native;
}

function errorOf(fn: () => unknown): NodeJS.ErrnoException {
  try { fn(); } catch (e) { return e as NodeJS.ErrnoException; }
  throw new Error('expected an error');
}

test('load state is consistent', () => {
  assert.ok(nativeAddonPath.endsWith(path.join('native', 'build', 'Release', 'foxing_native.node')));
  if (process.env.FOXING_NO_NATIVE === '1') {
    assert.is(native, null);
    assert.match(nativeLoadError ?? '', /FOXING_NO_NATIVE/);
  } else if (native === null) {
    assert.type(nativeLoadError, 'string');
    console.log(`  note: addon not loaded (${nativeLoadError}); native tests skip`);
  } else {
    assert.is(nativeLoadError, null);
  }
});

test('xattr set/get/list round-trip (string and Buffer paths)', () => {
  const n = need('xattr'); if (n === null) return;
  const f = path.join(dir, 'x.txt');
  fs.writeFileSync(f, 'hello');
  const value = Buffer.from([0, 1, 2, 255, 0, 42]);
  try {
    n.xattrSet(f, 'user.foxing.test', value);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTSUP') { console.log(`  skip xattr: ${os.tmpdir()} does not support user xattrs (ENOTSUP)`); return; }
    throw e;
  }
  n.xattrSet(Buffer.from(f), 'user.empty', new Uint8Array(0));
  const big = Buffer.alloc(3000, 0x61);
  n.xattrSet(f, 'user.big', big);
  const names = n.xattrList(f);
  assert.ok(names.includes('user.foxing.test'), names.join());
  assert.ok(names.includes('user.empty'));
  assert.ok(names.includes('user.big'));
  assert.equal(n.xattrList(Buffer.from(f)).sort(), names.slice().sort());
  const got = n.xattrGet(f, 'user.foxing.test');
  assert.ok(Buffer.isBuffer(got));
  assert.ok(got.equals(value));
  assert.is(n.xattrGet(f, 'user.empty').length, 0);
  assert.ok(n.xattrGet(f, 'user.big').equals(big));
  // Replace.
  n.xattrSet(f, 'user.foxing.test', Buffer.from('v2'));
  assert.is(n.xattrGet(f, 'user.foxing.test').toString(), 'v2');
  // A file without attributes lists none.
  const g = path.join(dir, 'plain');
  fs.writeFileSync(g, '');
  assert.equal(n.xattrList(g).filter((s) => s.startsWith('user.')), []);
  // A missing attribute: ENODATA, Node-shaped.
  const e = errorOf(() => n.xattrGet(f, 'user.nope'));
  assert.is(e.code, 'ENODATA');
  assert.is(e.syscall, 'lgetxattr');
  assert.is(e.path, f);
});

test('xattr calls do not follow symlinks', () => {
  const n = need('xattr nofollow'); if (n === null) return;
  const f = path.join(dir, 'target');
  const l = path.join(dir, 'link-to-target');
  fs.writeFileSync(f, '');
  fs.symlinkSync(f, l);
  try { n.xattrSet(f, 'user.on.target', Buffer.from('t')); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTSUP') { console.log('  skip xattr nofollow: no user xattrs here'); return; }
    throw e;
  }
  assert.not.ok(n.xattrList(l).includes('user.on.target'), 'llistxattr read the target');
  assert.is(errorOf(() => n.xattrGet(l, 'user.on.target')).code, 'ENODATA');
  // Linux refuses user.* attributes on symlinks themselves (EPERM): proof that lsetxattr is used.
  assert.is(errorOf(() => n.xattrSet(l, 'user.on.link', Buffer.from('x'))).code, 'EPERM');
});

test('seekData / seekHole find the data of a sparse file', () => {
  const n = need('seek'); if (n === null) return;
  const f = path.join(dir, 'sparse');
  const MiB = 1024 * 1024;
  fs.writeFileSync(f, '');
  fs.truncateSync(f, 4 * MiB);
  const fd = fs.openSync(f, 'r+');
  try {
    fs.writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, MiB);
    fs.fsyncSync(fd);
    const first = n.seekData(fd, 0);
    if (first === 0 && n.seekHole(fd, 0) === 4 * MiB) {
      console.log('  skip seek: this file system reports no holes (the whole file is data)');
      return;
    }
    assert.ok(first <= MiB && first >= 0, `data at ${first}`);
    assert.is(first, MiB, 'the data starts at the written block (4 KiB blocks)');
    const hole = n.seekHole(fd, first);
    assert.ok(hole >= MiB + 4096 && hole <= 4 * MiB, `hole at ${hole}`);
    assert.is(n.seekHole(fd, 0), 0, 'the file starts with a hole');
    // After the last data only holes: -1 from seekData (ENXIO), and EOF is a hole.
    assert.is(n.seekData(fd, hole), -1);
    assert.is(n.seekHole(fd, 3 * MiB), 3 * MiB);
    assert.is(n.seekData(fd, 4 * MiB + 10), -1, 'past EOF');
    const e = errorOf(() => n.seekHole(fd, 5 * MiB));
    assert.is(e.code, 'ENXIO');
    assert.is(e.syscall, 'lseek');
  } finally {
    fs.closeSync(fd);
  }
  const bad = errorOf(() => n.seekData(987654, 0));
  assert.is(bad.code, 'EBADF');
  assert.is(bad.errno, -9);
});

test('utimens sets exact nanoseconds, on a symlink itself too', () => {
  const n = need('utimens'); if (n === null) return;
  const f = path.join(dir, 'times');
  fs.writeFileSync(f, 'x');
  n.utimens(f, 1_600_000_000, 123_456_789, 1_700_000_001, 987_654_321);
  let st = fs.lstatSync(f, { bigint: true });
  assert.is(st.mtimeNs, 1_700_000_001_987_654_321n);
  assert.is(st.atimeNs, 1_600_000_000_123_456_789n);
  // Odd values, and a Buffer path.
  n.utimens(Buffer.from(f), 0, 1, 4_102_444_800, 999_999_999);
  st = fs.lstatSync(f, { bigint: true });
  assert.is(st.atimeNs, 1n);
  assert.is(st.mtimeNs, 4_102_444_800_999_999_999n);
  // Symlink: its own times change, the target's do not.
  const l = path.join(dir, 'times-link');
  fs.symlinkSync(f, l);
  n.utimens(l, 1_500_000_000, 111, 1_500_000_000, 777_777_777);
  assert.is(fs.lstatSync(l, { bigint: true }).mtimeNs, 1_500_000_000_777_777_777n);
  assert.is(fs.lstatSync(f, { bigint: true }).mtimeNs, 4_102_444_800_999_999_999n);
  // Out-of-range nanoseconds: the kernel's EINVAL.
  assert.is(errorOf(() => n.utimens(f, 0, 1e9, 0, 0)).code, 'EINVAL');
});

test('mknod makes a fifo', () => {
  const n = need('mknod'); if (n === null) return;
  const p = path.join(dir, 'fifo');
  n.mknod(p, fs.constants.S_IFIFO | 0o644, 0);
  const st = fs.lstatSync(p);
  assert.ok(st.isFIFO());
  assert.is(st.mode & 0o777, 0o644 & ~process.umask());
  const e = errorOf(() => n.mknod(p, fs.constants.S_IFIFO | 0o644, 0));
  assert.is(e.code, 'EEXIST');
  assert.is(e.syscall, 'mknod');
});

test('non-UTF-8 names pass through Buffer paths unchanged', () => {
  const n = need('raw names'); if (n === null) return;
  const raw = Buffer.concat([Buffer.from(dir + '/'), Buffer.from([0x66, 0xff, 0xfe, 0x6f])]);
  n.mknod(raw, fs.constants.S_IFIFO | 0o600, 0);
  const names = fs.readdirSync(dir, { encoding: 'buffer' });
  assert.ok(names.some((b) => b.equals(Buffer.from([0x66, 0xff, 0xfe, 0x6f]))));
  n.utimens(raw, 10, 20, 30, 40);
  assert.is(fs.lstatSync(raw, { bigint: true }).mtimeNs, 30_000_000_040n);
  // Errors on such paths still carry a string path (invalid bytes become U+FFFD).
  const missing = Buffer.concat([raw, Buffer.from('-missing')]);
  const e = errorOf(() => n.utimens(missing, 0, 0, 0, 0));
  assert.is(e.code, 'ENOENT');
  assert.type(e.path, 'string');
});

test('errors look like Node fs errors', () => {
  const n = need('errors'); if (n === null) return;
  const p = path.join(dir, 'does-not-exist');
  const e = errorOf(() => n.xattrGet(p, 'user.x'));
  assert.instance(e, Error);
  assert.is(e.code, 'ENOENT');
  assert.is(e.errno, -2);
  assert.is(e.syscall, 'lgetxattr');
  assert.is(e.path, p);
  assert.is(e.message, `ENOENT: no such file or directory, lgetxattr '${p}'`);
  // The same shape as Node's own error for the same problem.
  const nodeErr = errorOf(() => fs.lstatSync(p));
  assert.is(e.errno, nodeErr.errno);
  assert.is(errorOf(() => n.xattrList(p)).syscall, 'llistxattr');
  assert.is(errorOf(() => n.xattrSet(p, 'user.x', new Uint8Array(1))).syscall, 'lsetxattr');
  assert.is(errorOf(() => n.utimens(p, 0, 0, 0, 0)).syscall, 'utimensat');
  assert.is(errorOf(() => n.mknod(path.join(p, 'sub'), fs.constants.S_IFIFO | 0o600, 0)).code, 'ENOENT');
  assert.is(errorOf(() => n.releaseFileMaps(p)).syscall, 'stat');
  // Bad arguments are TypeErrors / RangeErrors, not crashes.
  assert.throws(() => n.xattrList(42 as unknown as string), TypeError);
  assert.throws(() => n.xattrList('a\0b'), TypeError);
  assert.throws(() => n.xattrGet(p, 7 as unknown as string), TypeError);
  assert.throws(() => n.seekData(0, 1.5), RangeError);
  assert.throws(() => n.gearChunkLengths(new Uint8Array(1), new Uint32Array(10), 1, 2, 3, 0, 0, true), TypeError);
  assert.throws(() => n.gearChunkLengths(new Uint8Array(1), new Uint32Array(256), 5, 2, 3, 0, 0, true), RangeError);
});

test('the addon loads and chunks in worker threads (where the file pipeline chunks)', async () => {
  if (need('worker') === null) return;
  const chunkerUrl = new URL('../../lib/chunker/index.js', import.meta.url).href;
  const code = `const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(chunkerUrl)}).then((m) => {
      const c = m.createChunker();
      parentPort.postMessage({ impl: c.impl, lens: Array.from(c.cutLengths(new Uint8Array(5 << 20), true)) });
    }, (e) => parentPort.postMessage({ error: String(e) }));`;
  const results = await Promise.all([0, 1].map(() => new Promise<{ impl: string; lens: number[] }>((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.once('message', (m) => { void w.terminate(); resolve(m); });
    w.once('error', reject);
  })));
  for (const r of results) {
    assert.is(r.impl, 'native');
    assert.equal(r.lens, [2097152, 2097152, 1048576]);
  }
});

test('a worker terminated in the middle of native calls does not abort the process', () => {
  // Regression: without NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS node-addon-api rethrew the failed
  // napi call of a terminating worker out of its C wrapper and std::terminate killed the process
  // (seen in the tar import fuzz, whose failed imports close the chunk pool mid-job). It is timing
  // dependent, so a child process runs many terminate cycles and must exit cleanly.
  if (need('terminate') === null) return;
  const worker = `const b = require(${JSON.stringify(nativeAddonPath)});
    const { parentPort } = require('node:worker_threads');
    const buf = new Uint8Array(1 << 16).map((_, i) => (i * 7919) & 255);
    const gear = new Uint32Array(256).map((_, i) => (i * 2654435761) >>> 0);
    parentPort.postMessage('go');
    for (;;) { b.gearChunkLengths(buf, gear, 2048, 8192, 65536, 0xd9000353, 0x00035307, false); b.addressOffset(buf, 4096); }`;
  const main = `const { Worker } = require('node:worker_threads');
    (async () => {
      for (let i = 0; i < 60; i++) {
        const w = new Worker(${JSON.stringify(worker)}, { eval: true });
        await new Promise((r) => w.once('message', r));
        await new Promise((r) => setTimeout(r, (i * 7) % 4));
        await w.terminate();
      }
      console.log('cycles done');
    })();`;
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const r = spawnSync(process.execPath, ['-e', main], { env, encoding: 'utf8', timeout: 240_000 });
  assert.is(r.signal, null, `child killed by ${r.signal}: ${r.stderr}`);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /cycles done/);
});

test('releaseFileMaps advises only the mappings of the file it names', () => {
  const n = need('releaseFileMaps'); if (n === null) return;
  const f = path.join(dir, 'not-mapped');
  fs.writeFileSync(f, 'x');
  assert.is(n.releaseFileMaps(f), 0);
  // The addon's own file is mapped (dlopen, private mappings): not shared, so left alone.
  assert.is(n.releaseFileMaps(nativeAddonPath), 0);
  assert.is(n.releaseFileMaps(f, 0, 4096), 0);
  assert.throws(() => n.releaseFileMaps(f, -1, 4096), RangeError);
  assert.throws(() => n.releaseFileMaps(f, 0, 1.5), RangeError);
  // What it does to a shared mapping (the index's) is tested in test/index/store-index.test.ts.
});

test.run();
