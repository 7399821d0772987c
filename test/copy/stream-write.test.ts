// Streams to a file (lib/copy/stream-write.ts): zero blocks left as holes and the bytes right;
// gzip, zstd, xz and lz4 input decoded with `decompress` (bzip2 refused) (and passed through without it); `size`
// preallocates; checkpoints every interval, the newest `keep` kept, each the stream as it was;
// an aborted or failing stream leaves nothing under the name and no temporary. Then `fxcp - DEST`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeStream } from '../../lib/copy/stream-write.js';
import { native } from '../../lib/native/load.js';
import { mountTestFs } from '../helpers/loop-fs.js';
import { FXCP, fxcp } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

let dir = '';
test.before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foxing-stream-')); });
test.after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

async function* pieces(data: Buffer, size = 65536): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

const temps = () => fs.readdirSync(dir).filter((n) => n.startsWith('.fxtmp-'));
const sparseInput = () => Buffer.concat([seededBytes(10_000, 1), Buffer.alloc(3 << 20), seededBytes(5000, 2), Buffer.alloc(100_000)]);

test('zero blocks become holes, the bytes are right, the zero tail too', async () => {
  const data = sparseInput();
  const dest = path.join(dir, 'sparse');
  const r = await writeStream(pieces(data, 7777), dest, { mode: 0o640 });
  assert.ok(fs.readFileSync(dest).equals(data));
  assert.is(r.bytes, data.length);
  assert.ok(r.holes >= 3 << 20, `${r.holes} bytes of holes`);
  const st = fs.statSync(dest);
  assert.ok(st.blocks * 512 < 200_000, `${st.blocks} blocks allocated`);
  assert.is(st.mode & 0o777, 0o640);
  assert.equal(temps(), []);
});

test('decompress: gzip decoded; without it the compressed bytes are written as they are', async () => {
  const data = sparseInput();
  const gz = gzipSync(data);
  const r = await writeStream(pieces(gz), path.join(dir, 'gz'), { mode: 0o644, decompress: true });
  assert.is(r.compression, 'gzip');
  assert.ok(fs.readFileSync(path.join(dir, 'gz')).equals(data));
  await writeStream(pieces(gz), path.join(dir, 'raw'), { mode: 0o644 });
  assert.ok(fs.readFileSync(path.join(dir, 'raw')).equals(gz));
  const plain = await writeStream(pieces(Buffer.from('hello')), path.join(dir, 'plain'), { mode: 0o644, decompress: true });
  assert.is(plain.compression, 'none');
  assert.is(fs.readFileSync(path.join(dir, 'plain'), 'utf8'), 'hello');
});

test('decompress: zstd, xz and lz4 streams made by the real tools are told by their magic and decoded; bzip2 refused by name, nothing left', async () => {
  const data = sparseInput();
  for (const [tool, kind] of [['zstd', 'zstd'], ['xz', 'xz'], ['lz4', 'lz4']] as const) {
    const z = spawnSync(tool, ['-c'], { input: data, maxBuffer: 64 << 20 });
    if (z.status !== 0) { console.log(`  skip: ${tool} is not installed`); continue; }
    const dest = path.join(dir, `dec.${tool}`);
    const r = await writeStream(pieces(z.stdout, 5000), dest, { mode: 0o644, decompress: true });
    assert.is(r.compression, kind);
    assert.ok(fs.readFileSync(dest).equals(data), tool);
    assert.ok(r.holes >= 3 << 20, `${tool}: ${r.holes} bytes of holes`);
  }
  const bz = spawnSync('bzip2', ['-c'], { input: Buffer.from('some text') });
  if (bz.status !== 0) { console.log('  skip: bzip2 is not installed'); return; }
  const dest = path.join(dir, 'dec.bz2');
  const err = await writeStream(pieces(bz.stdout), dest, { mode: 0o644, decompress: true }).then(() => null, (e: Error) => e);
  assert.match(String(err?.message), /dec\.bz2: the stream is bzip2, which --decompress does not decode/);
  assert.not.ok(fs.existsSync(dest));
  assert.equal(temps(), []);
});

test('size preallocates the space while the stream runs (what it did not use is released at the end)', async () => {
  if (!native) { console.log('  skip: the native addon is not loaded (fallocate)'); return; }
  let during = 0;
  async function* watched(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('x');
    const temp = temps();
    assert.is(temp.length, 1);
    during = fs.statSync(path.join(dir, temp[0])).blocks * 512;
    yield Buffer.from('y');
  }
  await writeStream(watched(), path.join(dir, 'pre'), { mode: 0o644, size: 4 << 20 });
  assert.ok(during >= 4 << 20, `${during} bytes allocated while streaming`);
  assert.is(fs.readFileSync(path.join(dir, 'pre'), 'utf8'), 'xy');
});

test('checkpoints: one per interval of the stream, each what had arrived, the newest kept (reflinks or the store, as the file system allows)', async () => {
  let t = 0;
  const data = seededBytes(10 * 65536, 3);
  const dest = path.join(dir, 'ck');
  async function* slow(): AsyncGenerator<Uint8Array> {
    for await (const p of pieces(data)) { t += 1000; yield p; }
  }
  const r = await writeStream(slow(), dest, { mode: 0o644, checkpoint: { intervalSec: 3, keep: 2 }, now: () => t });
  assert.is(r.checkpoints.length, 3);
  // Checkpoint k holds what had arrived when it was made (3 and 6 and 9 pieces in; the first is gone).
  const kept = checkpointsOf(dest);
  assert.equal(kept.map((c) => c.length), [6 * 65536, 9 * 65536]);
  for (const c of kept) assert.ok(c.equals(data.subarray(0, c.length)));
  assert.ok(fs.readFileSync(dest).equals(data));
});

/** The checkpoints of `dest` kept, oldest first: reflinked files, or the snapshots of its store, restored. */
function checkpointsOf(dest: string): Buffer[] {
  const d = path.dirname(dest), base = path.basename(dest);
  const files = fs.readdirSync(d).filter((n) => n.startsWith(`${base}.ckpt-`)).sort();
  if (files.length > 0) return files.map((n) => fs.readFileSync(path.join(d, n)));
  const store = `${dest}.ckpt`;
  const list = JSON.parse(fxcp(['snap', 'list', store, '--json']).stdout) as { snapshots: Array<{ id: string; tags: string[]; source: string }> };
  return list.snapshots.map((s) => {
    assert.equal(s.tags, ['checkpoint']);
    assert.is(s.source, dest);
    const out = path.join(d, `restored-${s.id}`);
    const res = fxcp(['snap', 'restore', store, '-o', out, '--snapshot', s.id]);
    assert.is(res.code, 0, res.stderr);
    const got = fs.readFileSync(path.join(out, base));
    fs.rmSync(out, { recursive: true });
    return got;
  });
}

test("checkpoints where extents cannot be shared (ext4) are snapshots in DEST.ckpt: each storing the file's new chunks only, the dropped ones collected", async () => {
  const m = mountTestFs('ext4');
  if ('skip' in m) { console.log(`  skip: ${m.skip}`); return; }
  try {
    const data = seededBytes(16 << 20, 5);
    let t = 0;
    async function* slow(): AsyncGenerator<Uint8Array> {
      for await (const p of pieces(data, 1 << 20)) { t += 1000; yield p; }
    }
    const dest = path.join(m.mountPoint, 'stream');
    const r = await writeStream(slow(), dest, { mode: 0o644, checkpoint: { intervalSec: 4, keep: 3 }, now: () => t });
    assert.is(r.checkpoints.length, 4);
    assert.ok(r.checkpoints.every((c) => c.startsWith(`${dest}.ckpt `)), r.checkpoints.join(', '));
    assert.equal(fs.readdirSync(m.mountPoint).filter((n) => n.startsWith('stream.ckpt-')), [], 'no copies beside the file');
    const kept = checkpointsOf(dest);
    assert.equal(kept.map((c) => c.length), [8 << 20, 12 << 20, 16 << 20]);
    for (const c of kept) assert.ok(c.equals(data.subarray(0, c.length)));
    assert.ok(fs.readFileSync(dest).equals(data));
    // Copies of the three kept would take 36 MiB; the store holds the 16 MiB once (and the
    // first checkpoint's 4 MiB are still its chunks: nothing was freed, nothing stored twice).
    const stored = Number(spawnSync('du', ['-s', '--block-size=1', `${dest}.ckpt`], { encoding: 'utf8' }).stdout.split('\t')[0]);
    assert.ok(stored < 20 << 20, `${stored} bytes in the checkpoints' store`);
    const check = fxcp(['store', 'check', `${dest}.ckpt`]);
    assert.is(check.code, 0, check.stdout + check.stderr);
  } finally {
    m.cleanup();
  }
});

test('checkpoints on XFS are reflinks: 16 MiB streamed with 3 checkpoints kept take about 16 MiB of the disk, not 52', async () => {
  if (!native) { console.log('  skip: the native addon is not loaded'); return; }
  const m = mountTestFs('xfs');
  if ('skip' in m) { console.log(`  skip: ${m.skip}`); return; }
  try {
    const used = () => { spawnSync('sync', ['-f', m.mountPoint]); const st = fs.statfsSync(m.mountPoint); return (st.blocks - st.bfree) * st.bsize; };
    const data = seededBytes(16 << 20, 4);
    let t = 0;
    async function* slow(): AsyncGenerator<Uint8Array> {
      for await (const p of pieces(data, 1 << 20)) { t += 1000; yield p; }
    }
    const before = used();
    const dest = path.join(m.mountPoint, 'stream');
    const r = await writeStream(slow(), dest, { mode: 0o644, checkpoint: { intervalSec: 4, keep: 3 }, now: () => t });
    assert.is(r.checkpoints.length, 4);
    const kept = fs.readdirSync(m.mountPoint).filter((n) => n.startsWith('stream.ckpt-'));
    assert.is(kept.length, 3);
    for (const n of kept) {
      const c = fs.readFileSync(path.join(m.mountPoint, n));
      assert.ok(c.length > 0 && c.equals(data.subarray(0, c.length)), n);
    }
    assert.ok(fs.readFileSync(dest).equals(data));
    // Copied, the checkpoints kept (8, 12 and 16 MiB) would add 36 MiB to the file's 16.
    const grew = before === 0 ? 0 : used() - before;
    assert.ok(grew < 20 << 20, `${grew} bytes used by the file and its checkpoints`);
  } finally {
    m.cleanup();
  }
});

test('an aborted stream or one that fails: nothing under the name, no temporary', async () => {
  const dest = path.join(dir, 'aborted');
  const ac = new AbortController();
  async function* failing(): AsyncGenerator<Uint8Array> {
    yield Buffer.alloc(100, 1);
    ac.abort();
    yield Buffer.alloc(100, 2);
  }
  let threw = false;
  try { await writeStream(failing(), dest, { mode: 0o644, signal: ac.signal }); } catch { threw = true; }
  assert.ok(threw);
  async function* broken(): AsyncGenerator<Uint8Array> { yield Buffer.alloc(10); throw new Error('the pipe broke'); }
  fs.writeFileSync(dest, 'old');
  try { await writeStream(broken(), dest, { mode: 0o644 }); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /pipe broke/); }
  assert.is(fs.readFileSync(dest, 'utf8'), 'old', 'the old file stays');
  assert.equal(temps(), []);
});

test('fxcp - DEST: standard input to a file; a directory as DEST is refused; copy-only options refused elsewhere', () => {
  const data = sparseInput();
  const dest = path.join(dir, 'cli.bin');
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  let r = spawnSync(FXCP, ['--decompress', '-', dest], { input: gzipSync(data), env, encoding: 'buffer' });
  assert.is(r.status, 0, r.stderr.toString());
  assert.ok(fs.readFileSync(dest).equals(data));
  assert.match(r.stdout.toString(), /decoded from gzip/);
  r = spawnSync(FXCP, ['-', dir], { input: 'x', env });
  assert.is(r.status, 2);
  assert.match(r.stderr.toString(), /is a directory/);
  r = spawnSync(FXCP, ['-a', '--size', '10', dir, path.join(dir, 'x')], { env });
  assert.is(r.status, 2);
  assert.match(r.stderr.toString(), /--size is for a copy of the standard input/);
});

test.run();
