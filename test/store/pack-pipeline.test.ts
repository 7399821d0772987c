// PackPipeline, the part ChunkWriter and WorkerPacker share: pending ids until indexed, seals in
// the background with a limit, the queue limit, the failure latch. Real PackWriters on FsStorage.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blake3 } from '../../lib/hash/blake3.js';
import type { BlobStorage, BlobWriter } from '../../lib/store/blob-storage.js';
import { FsStorage } from '../../lib/store/fs-storage.js';
import { PackPipeline } from '../../lib/store/pack-pipeline.js';
import { PackWriter, StagePool, type SealedPack } from '../../lib/store/pack-writer.js';
import { seededBytes } from '../helpers/seeded.js';

let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-pipeline-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

let n = 0;
function freshStorage(): FsStorage { return new FsStorage(join(dir, `store-${n++}`)); }

function chunk(seed: number, len = 1000): { id: Buffer; bytes: Buffer } {
  const bytes = seededBytes(len, seed);
  return { id: blake3().hash(bytes), bytes };
}

/** A storage whose commits wait for `gate` (a seal that takes as long as the test wants). */
function gatedStorage(st: FsStorage, gate: Promise<void>): BlobStorage {
  const s = Object.create(st) as BlobStorage;
  s.create = async (kind, o) => {
    const real: BlobWriter = await st.create(kind, o);
    return {
      get bytesWritten() { return real.bytesWritten; },
      write: (d) => real.write(d),
      commit: async (name) => { await gate; await real.commit(name); },
      abort: () => real.abort(),
    };
  };
  return s;
}

test('a chunk is pending from add until its pack is indexed, not merely sealed', async () => {
  const st = freshStorage();
  const p = new PackPipeline({ sealsBehind: 2, queueLimit: 1 << 20 });
  const w = await PackWriter.open(st);
  const c = chunk(1);
  p.addPending(c.id.toString('hex'));
  w.add(c.id, 0, 0, c.bytes.length, c.bytes);
  let sealed: SealedPack | null = null;
  p.startSeal(w, (pack) => { sealed = pack; });
  await p.allSealed();
  assert.ok(sealed, 'the seal handed its pack on');
  assert.ok(p.isPending(c.id.toString('hex')), 'sealed but not indexed: still pending');
  p.indexed(sealed!);
  assert.not.ok(p.isPending(c.id.toString('hex')), 'indexed: found through the index now');
  assert.is(await st.exists('pack', (sealed as SealedPack).packId), true);
  await st.close();
});

test('waitForSeals lets at most sealsBehind seals run behind the producer', async () => {
  const st = freshStorage();
  let open!: () => void;
  const gate = new Promise<void>((r) => { open = r; });
  const gated = gatedStorage(st, gate);
  const p = new PackPipeline({ sealsBehind: 1, queueLimit: 1 << 20 });
  for (let i = 0; i < 2; i++) {
    const w = await PackWriter.open(gated);
    const c = chunk(10 + i);
    w.add(c.id, 0, 0, c.bytes.length, c.bytes);
    p.startSeal(w, () => {});
  }
  let waited = false;
  const wait = p.waitForSeals().then(() => { waited = true; });
  await new Promise((r) => setTimeout(r, 30));
  assert.not.ok(waited, 'two seals run, one may: the producer waits');
  open();
  await wait;
  assert.ok(waited);
  await p.allSealed();
  await st.close();
});

test('an empty pack is dropped, not sealed; a failed seal is latched and thrown by every later check', async () => {
  const st = freshStorage();
  const p = new PackPipeline({ sealsBehind: 2, queueLimit: 1 << 20 }, (err) => new Error(`latched: ${(err as Error).message}`));
  const empty = await PackWriter.open(st);
  let handed = 0;
  p.startSeal(empty, () => { handed++; });
  await p.allSealed();
  assert.is(handed, 0, 'an empty pack is not handed on');
  assert.is(p.failed, null);

  const failing = Object.create(st) as BlobStorage;
  failing.create = async (kind, o) => {
    const real = await st.create(kind, o);
    return { get bytesWritten() { return real.bytesWritten; }, write: (d) => real.write(d),
      commit: async () => { throw new Error('EIO (simulated)'); }, abort: () => real.abort() };
  };
  const w = await PackWriter.open(failing);
  const c = chunk(3);
  w.add(c.id, 0, 0, c.bytes.length, c.bytes);
  p.startSeal(w, () => { handed++; });
  await p.allSealed(); // never rejects: the failure is latched
  assert.is(handed, 0);
  assert.match(String((p.failed as Error).message), /latched: EIO/);
  assert.throws(() => p.throwIfFailed(), /latched: EIO/);
  p.fail(new Error('a later one'));
  assert.throws(() => p.throwIfFailed(), /latched: EIO/, 'the first failure wins');
  await st.close();
});

test('a failed index step after the seal is latched too (ChunkWriter indexes in `then`)', async () => {
  const st = freshStorage();
  const p = new PackPipeline({ sealsBehind: 2, queueLimit: 1 << 20 });
  const w = await PackWriter.open(st);
  const c = chunk(4);
  w.add(c.id, 0, 0, c.bytes.length, c.bytes);
  p.startSeal(w, async () => { throw new Error('index commit failed (simulated)'); });
  await p.allSealed();
  assert.throws(() => p.throwIfFailed(), /index commit failed/);
  await st.close();
});

test('bound waits once an open pack queues more than the limit, and returns with at most half of it queued', async () => {
  const st = freshStorage();
  const limit = 2 << 20;
  const p = new PackPipeline({ sealsBehind: 2, queueLimit: limit });
  const w = PackWriter.create(st, { stages: new StagePool() });
  const big = seededBytes(5 << 20, 9);
  w.add(blake3().hash(big), 0, 0, big.length, big);
  assert.ok(w.queued > limit);
  await p.bound(w);
  assert.ok(w.queued <= limit / 2, `queued ${w.queued}`);
  p.startSeal(w, () => {});
  await p.allSealed();
  p.throwIfFailed();
  await st.close();
});

test.run();
