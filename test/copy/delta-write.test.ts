// Delta updates (lib/copy/delta-write.ts): the plan takes every chunk the old file has, merges
// contiguous runs and gives up under half; a file with 8 KiB inserted in the middle is rebuilt
// byte for byte from the old one, writing little, on the temp dir and on loop-mounted XFS and
// btrfs (ranges reflinked); an old file that no longer matches its signature gives null and
// leaves everything as it was.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planDelta, writeDelta } from '../../lib/copy/delta-write.js';
import type { FileWrite } from '../../lib/copy/file-write.js';
import { captureMetaSync } from '../../lib/fs/capture-meta.js';
import { Materializer } from '../../lib/fs/materialize.js';
import { native } from '../../lib/native/load.js';
import { signFile } from '../../lib/signature/file-signature.js';
import type { Signature } from '../../lib/signature/signature-codec.js';
import { mountTestFs, type TestFs } from '../helpers/loop-fs.js';
import { seededBytes } from '../helpers/seeded.js';

let dir = '';
const mounts: Array<TestFs | { skip: string }> = [];
test.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foxing-delta-'));
  if (native) for (const k of ['xfs', 'btrfs'] as const) mounts.push(mountTestFs(k));
});
test.after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const m of mounts) if (!('skip' in m)) m.cleanup();
});

const id = (n: number) => new Uint8Array(32).fill(n);
const sig = (lengths: number[], ids: number[]): Signature => ({
  dev: 1n, ino: 1n, size: lengths.reduce((a, b) => a + b, 0), mtimeNs: 0n, ctimeNs: 0n, content: id(0),
  chunker: { algorithm: 'gear-fastcdc32-v1', min: 64, avg: 256, max: 4096, seed: 1 }, chunks: lengths.map((length, i) => ({ length, id: id(ids[i]) })),
});

test('planDelta: found chunks at their old offsets, contiguous runs merged, null under half found', () => {
  const old = sig([100, 100, 100, 100], [1, 2, 3, 4]);
  const plan = planDelta(sig([100, 100, 50, 100, 100], [1, 2, 9, 3, 4]), old)!;
  assert.equal(plan.runs, [
    { at: 0, length: 200, from: 0, reused: true },
    { at: 200, length: 50, from: 200, reused: false },
    { at: 250, length: 200, from: 200, reused: true },
  ]);
  assert.is(plan.reused, 400);
  assert.is(planDelta(sig([100, 100, 100], [7, 8, 1]), old), null, 'a third found: copy whole');
  assert.is(planDelta(sig([100], [1]), { ...old, chunks: null }), null, 'no chunk list');
});

function rebuildCase(base: string, label: string) {
  return async () => {
    const src = path.join(base, `${label}-src`), dst = path.join(base, `${label}-dst`);
    const data = seededBytes(8 << 20, 11);
    fs.writeFileSync(dst, data);
    const old = signFile(dst);
    const changed = Buffer.concat([data.subarray(0, 4 << 20), seededBytes(8192, 12), data.subarray(4 << 20)]);
    fs.writeFileSync(src, changed);
    const out = new Materializer({ root: Buffer.from(base), owner: false, onWarn: () => {} });
    const meta = captureMetaSync(Buffer.from(src), Buffer.from(path.basename(src)), { xattrs: false });
    const w: FileWrite = { src: Buffer.from(src), dst: Buffer.from(dst), meta, dev: meta.dev, inplace: false, archive: true, plainMode: 0o644 };
    const r = await writeDelta(out, w, old, (at) => out.applyMeta(at, meta));
    assert.ok(r, 'rebuilt by delta');
    assert.ok(fs.readFileSync(dst).equals(changed), 'every byte right');
    assert.ok(r!.reused >= changed.length - 256 * 1024, `reused ${r!.reused}`);
    assert.ok(r!.written <= 256 * 1024, `wrote ${r!.written}`);
    assert.is(fs.statSync(dst).mtimeMs, fs.statSync(src).mtimeMs, 'attributes applied before the rename');
    assert.equal(fs.readdirSync(base).filter((n) => n.startsWith('.fxtmp-')), []);
  };
}

test('8 KiB inserted in the middle of 8 MiB: rebuilt from the old file (temp dir)', async () => {
  if (!native) { console.log('  skip: the native addon is not loaded'); return; }
  await rebuildCase(dir, 'temp')();
});

test('the same on XFS and btrfs, ranges reflinked', async () => {
  if (!native) { console.log('  skip: the native addon is not loaded'); return; }
  for (const m of mounts) {
    if ('skip' in m) { console.log(`  skip: ${m.skip}`); continue; }
    await rebuildCase(m.mountPoint, m.kind)();
  }
});

test('an old file that is not what its signature says: null, nothing written, the file untouched', async () => {
  if (!native) { console.log('  skip: the native addon is not loaded'); return; }
  const src = path.join(dir, 'stale-src'), dst = path.join(dir, 'stale-dst');
  const data = seededBytes(2 << 20, 21);
  fs.writeFileSync(dst, data);
  const old = signFile(dst);
  fs.writeFileSync(src, Buffer.concat([data, Buffer.from('more')]));
  // Rewritten in place after it was signed: same content, but its ctime moved.
  fs.writeFileSync(dst, data);
  const out = new Materializer({ root: Buffer.from(dir), owner: false, onWarn: () => {} });
  const meta = captureMetaSync(Buffer.from(src), Buffer.from('stale-src'), { xattrs: false });
  const w: FileWrite = { src: Buffer.from(src), dst: Buffer.from(dst), meta, dev: meta.dev, inplace: false, archive: true, plainMode: 0o644 };
  assert.is(await writeDelta(out, w, old, (at) => out.applyMeta(at, meta)), null);
  assert.ok(fs.readFileSync(dst).equals(data));
  assert.equal(fs.readdirSync(dir).filter((n) => n.startsWith('.fxtmp-')), []);
});

test.run();
