// applyMeta: mode with setuid, owner (root), ns times, xattrs and POSIX ACLs, fallbacks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native, nativeLoadError } from '../../lib/native/load.js';
import {
  applyMeta, captureMeta, runningAsRoot, splitNs, type FileMeta,
} from '../../lib/fs/index.js';
import type { Warn } from '../../lib/errors/index.js';

let dir = '';
let n = 0;
const skip = (name: string, why: string) => console.log(`  skip (${name}): ${why}`);
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const fresh = (content = '') => { const p = join(dir, `f${n++}`); writeFileSync(p, content); return Buffer.from(p); };
const meta = (p: Buffer, xattrs = false) => captureMeta(p, Buffer.from('x'), { xattrs });
/** A warning sink; without `fallbacks`, the one-time NATIVE_FALLBACK warnings (each new sink hears them) are left out. */
const collect = (fallbacks = false) => {
  const list: Array<[string, string]> = [];
  const onWarn: Warn = (code, message) => { if (fallbacks || code !== 'NATIVE_FALLBACK') list.push([code, message]); };
  return { list, onWarn };
};

test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-apply-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

test('splitNs floors, so times before 1970 split correctly', () => {
  assert.equal(splitNs(1_234_567_890_123_456_789n), [1_234_567_890, 123_456_789]);
  assert.equal(splitNs(-1_500_000_000n), [-2, 500_000_000]);
  assert.equal(splitNs(0n), [0, 0]);
});

test('times exact to the nanosecond (native) or to ~1 µs (fallback, warned once)', async () => {
  const p = fresh('t');
  const m: FileMeta = { ...(await meta(p)), atimeNs: 1_111_111_111_123_456_789n, mtimeNs: 1_234_567_890_987_654_321n };
  const w = collect(true);
  await applyMeta(p, m, { owner: false, xattrs: false, onWarn: w.onWarn });
  await applyMeta(p, m, { owner: false, xattrs: false, onWarn: w.onWarn });
  const got = await meta(p);
  if (native) {
    assert.is(got.mtimeNs, m.mtimeNs);
    assert.is(got.atimeNs, m.atimeNs);
    assert.equal(w.list, []);
    // Before the epoch, on a file system that can store it.
    const old: FileMeta = { ...m, mtimeNs: -1_500_000_001n };
    await applyMeta(p, old, { owner: false, xattrs: false, onWarn: w.onWarn });
    assert.is((await meta(p)).mtimeNs, -1_500_000_001n);
  } else {
    const diff = (a: bigint, b: bigint) => Number(a > b ? a - b : b - a);
    assert.ok(diff(got.mtimeNs, m.mtimeNs) < 2_000, `mtime within 2 µs: ${got.mtimeNs} vs ${m.mtimeNs}`);
    assert.ok(diff(got.atimeNs, m.atimeNs) < 2_000, 'atime within 2 µs');
    assert.equal(w.list.map(([c]) => c), ['NATIVE_FALLBACK'], 'one warning for two calls');
    skip('ns-exact times', `native addon not loaded (${nativeLoadError})`);
  }
});

test('symlink: times set on the link itself, target untouched, no chmod', async () => {
  const target = fresh('target');
  const before = await meta(target);
  const link = Buffer.from(join(dir, `l${n++}`));
  symlinkSync(target, link);
  const m: FileMeta = { ...(await captureMeta(link, Buffer.from('l'), { xattrs: false })), mtimeNs: 1_000_000_000_500_000_000n };
  await applyMeta(link, m, { owner: runningAsRoot(), xattrs: false, onWarn: () => {} });
  const got = await captureMeta(link, Buffer.from('l'), { xattrs: false });
  assert.is(got.type, 'symlink');
  if (native) assert.is(got.mtimeNs, m.mtimeNs);
  else assert.ok(Math.abs(Number(got.mtimeNs - m.mtimeNs)) < 2_000);
  assert.is((await meta(target)).mtimeNs, before.mtimeNs, 'target not touched');
});

test('mode including setuid, setgid and sticky', async () => {
  const p = fresh();
  const m: FileMeta = { ...(await meta(p)), mode: 0o6755 };
  const w = collect();
  await applyMeta(p, m, { owner: runningAsRoot(), xattrs: false, onWarn: w.onWarn });
  assert.is((await meta(p)).mode, 0o6755);
  await applyMeta(p, { ...m, mode: 0o1640 }, { owner: runningAsRoot(), xattrs: false, onWarn: w.onWarn });
  assert.is((await meta(p)).mode, 0o1640);
  assert.equal(w.list, []);
});

test('setuid is dropped (warned) when the recorded owner is not restored', async () => {
  const p = fresh();
  const other = (process.geteuid!() === 65534 ? 65533 : 65534);
  const m: FileMeta = { ...(await meta(p)), mode: 0o4755, uid: other };
  const w = collect();
  await applyMeta(p, m, { owner: false, xattrs: false, onWarn: w.onWarn });
  assert.is((await meta(p)).mode, 0o755);
  assert.equal(w.list.map(([c]) => c), ['SETID_DROPPED']);
});

test('owner change (root only), setuid kept after chown', async () => {
  if (!runningAsRoot()) return skip('owner', 'not running as root');
  const p = fresh();
  const m: FileMeta = { ...(await meta(p)), uid: 65534, gid: 65534, mode: 0o4750 };
  const w = collect();
  await applyMeta(p, m, { owner: true, xattrs: false, onWarn: w.onWarn });
  const got = await meta(p);
  assert.is(got.uid, 65534);
  assert.is(got.gid, 65534);
  assert.is(got.mode, 0o4750, 'chmod after chown keeps setuid');
  assert.equal(w.list, []);
});

test('xattrs: capture then apply to another file', async () => {
  if (!has('setfattr')) return skip('xattrs', 'setfattr (attr) not installed');
  const src = fresh();
  const r = spawnSync('setfattr', ['-n', 'user.fox', '-v', '0x00ff10', src.toString()], { encoding: 'utf8' });
  if (r.status !== 0) return skip('xattrs', `no user xattrs on ${tmpdir()}: ${r.stderr.trim()}`);
  spawnSync('setfattr', ['-n', 'user.a', '-v', 'first', src.toString()]);
  if (!native) {
    const w = collect(true);
    const fake: FileMeta = { ...(await meta(src)), xattrs: [['user.a', Buffer.from('first')]] };
    await applyMeta(fresh(), fake, { owner: false, xattrs: true, onWarn: w.onWarn });
    await applyMeta(fresh(), fake, { owner: false, xattrs: true, onWarn: w.onWarn });
    // Two one-time warnings in all: xattrs not restored, and times only to about a microsecond.
    assert.is(w.list.length, 2, JSON.stringify(w.list));
    assert.ok(w.list.every(([c]) => c === 'NATIVE_FALLBACK'));
    assert.ok(w.list.some(([, msg]) => /extended attributes/.test(msg)));
    return skip('xattrs', `native addon not loaded (${nativeLoadError})`);
  }
  const m = await meta(src, true);
  assert.equal(m.xattrs!.map(([k]) => k), ['user.a', 'user.fox']);
  const dst = fresh();
  const w = collect();
  await applyMeta(dst, m, { owner: false, xattrs: true, onWarn: w.onWarn });
  assert.equal(w.list, []);
  assert.equal((await meta(dst, true)).xattrs, m.xattrs);
});

test('xattr the target refuses is a warning naming path and attribute', async () => {
  if (!native) return skip('xattr refusal', `native addon not loaded (${nativeLoadError})`);
  const link = Buffer.from(join(dir, `l${n++}`));
  symlinkSync('nowhere', link);
  const m: FileMeta = { ...(await captureMeta(link, Buffer.from('l'), { xattrs: false })), xattrs: [['user.nope', Buffer.from('v')]] };
  const w = collect();
  await applyMeta(link, m, { owner: false, xattrs: true, onWarn: w.onWarn });
  assert.is(w.list.length, 1, 'user.* on a symlink is refused by Linux');
  assert.is(w.list[0][0], 'XATTR');
  assert.match(w.list[0][1], 'user.nope');
  assert.match(w.list[0][1], link.toString());
});

test('POSIX ACL: captured as system.posix_acl_access, reproduced on another file', async () => {
  if (!has('setfacl') || !has('getfacl')) return skip('acl', 'setfacl/getfacl (acl) not installed');
  if (!native) return skip('acl', `native addon not loaded (${nativeLoadError})`);
  const src = fresh();
  const r = spawnSync('setfacl', ['-m', 'u:nobody:r', src.toString()], { encoding: 'utf8' });
  if (r.status !== 0) return skip('acl', `setfacl failed (no ACL support?): ${r.stderr.trim()}`);
  const m = await meta(src, true);
  assert.ok(m.xattrs?.some(([k]) => k === 'system.posix_acl_access'), 'ACL captured as xattr');
  const dst = fresh();
  const w = collect();
  await applyMeta(dst, m, { owner: runningAsRoot(), xattrs: true, onWarn: w.onWarn });
  assert.equal(w.list, []);
  const facl = (p: Buffer) => spawnSync('getfacl', ['--omit-header', '-n', p.toString()], { encoding: 'utf8' }).stdout;
  assert.match(facl(src), 'user:65534:r--');
  assert.is(facl(dst), facl(src));
  assert.is((await meta(dst)).mode, m.mode);
});

test('missing path throws NOT_FOUND naming it', async () => {
  const p = Buffer.from(join(dir, 'gone'));
  const m: FileMeta = { ...(await meta(fresh())) };
  try {
    await applyMeta(p, m, { owner: false, xattrs: false, onWarn: () => {} });
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code?: string }).code, 'NOT_FOUND');
    assert.match((e as Error).message, 'gone');
  }
});

test.run();
