// makeSpecial: FIFOs (native and the mkfifo fallback, raw names), devices, refusals.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeError } from '../../lib/errors/index.js';
import { native, nativeLoadError } from '../../lib/native/load.js';
import { captureMeta, errnoOf, joinPath, makeSpecial, mkfifoCommand, runningAsRoot } from '../../lib/fs/index.js';

let dir = '';
let d = Buffer.alloc(0);
const skip = (name: string, why: string) => console.log(`  skip (${name}): ${why}`);
const hasMkfifo = spawnSync('sh', ['-c', 'command -v mkfifo']).status === 0;
const cap = (p: Buffer) => captureMeta(p, Buffer.from('x'), { xattrs: false });

test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-special-')); d = Buffer.from(dir); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

test('fifo through makeSpecial (native or fallback)', async () => {
  if (!native && !hasMkfifo) return skip('fifo', 'no native addon and no mkfifo');
  const p = joinPath(d, Buffer.from('pipe'));
  await makeSpecial(p, { type: 'fifo', mode: 0o640, rdev: 0 });
  const m = await cap(p);
  assert.is(m.type, 'fifo');
  try {
    await makeSpecial(p, { type: 'fifo', mode: 0o640, rdev: 0 });
    assert.unreachable('existing entry must not be replaced');
  } catch (e) {
    assert.is(errnoOf(e), 'EEXIST');
  }
});

test('mkfifo fallback with a non-UTF-8 name', async () => {
  if (!hasMkfifo) return skip('mkfifo fallback', 'mkfifo not installed');
  const name = Buffer.from([0x66, 0xff, 0x6f]);
  const p = joinPath(d, name);
  await mkfifoCommand(p, 0o600);
  const m = await cap(p);
  assert.is(m.type, 'fifo');
  assert.is(m.mode & 0o077, 0, 'mode applied (under umask)');
  // No temporary name left behind.
  assert.not.ok(readdirSync(d).some((x) => x.startsWith('.fxtmp-')));
  try {
    await mkfifoCommand(p, 0o600);
    assert.unreachable();
  } catch (e) {
    assert.is(errnoOf(e), 'EEXIST');
  }
  // Plain UTF-8 names go straight to mkfifo.
  await mkfifoCommand(joinPath(d, Buffer.from('pipé')), 0o644);
  assert.is((await cap(joinPath(d, Buffer.from('pipé')))).type, 'fifo');
});

test('character device: needs native and root', async () => {
  const p = joinPath(d, Buffer.from('null'));
  const meta = { type: 'chardev' as const, mode: 0o666, rdev: (1 << 8) | 3 };
  if (!native) {
    try {
      await makeSpecial(p, meta);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, NativeError);
      assert.match((e as Error).message, 'null');
    }
    return skip('chardev', `native addon not loaded (${nativeLoadError}); checked the error instead`);
  }
  try {
    await makeSpecial(p, meta);
  } catch (e) {
    if (!runningAsRoot() || (e as { code?: string }).code === 'NOT_PERMITTED') {
      assert.is((e as { code?: string }).code, 'NOT_PERMITTED');
      return skip('chardev', 'no permission to create device nodes (not root or no CAP_MKNOD)');
    }
    throw e;
  }
  const m = await cap(p);
  assert.is(m.type, 'chardev');
  assert.is(m.rdev, meta.rdev);
});

test('a socket is made with the native addon (the copy keeps them, as cp -a), refused by name without it', async () => {
  const p = joinPath(d, Buffer.from('s'));
  if (!native) {
    try {
      await makeSpecial(p, { type: 'socket', mode: 0o755, rdev: 0 });
      assert.unreachable();
    } catch (e) {
      assert.instance(e, NativeError);
      assert.match((e as Error).message, /sockets need the native addon/);
    }
    return;
  }
  await makeSpecial(p, { type: 'socket', mode: 0o755, rdev: 0 });
  const m = await cap(p);
  assert.is(m.type, 'socket');
});

test.run();
