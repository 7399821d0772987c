// PackWriter into FsStorage, read back with readPackEntries; damaged packs name their path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError, IntegrityError, ToolkitError } from '../../lib/errors/index.js';
import { blake3 } from '../../lib/hash/blake3.js';
import type { BlobStorage, BlobWriter } from '../../lib/store/blob-storage.js';
import { FsStorage } from '../../lib/store/fs-storage.js';
import { decodeRecordHeader } from '../../lib/store/pack-codec.js';
import { readPackEntries } from '../../lib/store/pack-reader.js';
import { PackWriter } from '../../lib/store/pack-writer.js';
import { PACK_HEADER_BYTES, RECORD_HEADER_BYTES, TRAILER_ENTRY_BYTES, TRAILER_TAIL_BYTES } from '../../lib/store/store-layout.js';

let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-packwriter-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

let n = 0;
function freshStorage(): FsStorage { return new FsStorage(join(dir, `store-${n++}`)); }

function seeded(len: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; b[i] = x & 0xff; }
  return b;
}

async function writePack(st: BlobStorage, payloads: Buffer[]) {
  const w = await PackWriter.open(st);
  for (const [i, p] of payloads.entries()) w.add(blake3().hash(p), i % 2, 0, p.length, p);
  return w.seal();
}

async function expectError(p: Promise<unknown>, pattern: RegExp | string): Promise<ToolkitError> {
  try {
    await p;
  } catch (e) {
    // A trailer that fails its checksum is an IntegrityError; any other damage a FormatError.
    assert.ok(e instanceof FormatError || e instanceof IntegrityError, `expected FormatError or IntegrityError, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return e as ToolkitError;
  }
  assert.unreachable('expected an error');
  throw new Error('unreachable');
}

test('write, seal, read back: entries and record bytes match', async () => {
  const st = freshStorage();
  const payloads = [seeded(100, 1), seeded(0, 2), seeded(70_000, 3), seeded(1_500_000, 4), seeded(5, 5)];
  const w = await PackWriter.open(st);
  let expectSize = PACK_HEADER_BYTES;
  for (const [i, p] of payloads.entries()) {
    w.add(blake3().hash(p), i % 2, 0, p.length, p);
    expectSize += RECORD_HEADER_BYTES + p.length;
    assert.is(w.size, expectSize);
    assert.is(w.count, i + 1);
  }
  const sealed = await w.seal();
  assert.match(sealed.packId, /^[0-9a-f]{64}$/);
  assert.is(sealed.size, expectSize + payloads.length * TRAILER_ENTRY_BYTES + TRAILER_TAIL_BYTES);
  assert.is(await st.size('pack', sealed.packId), sealed.size);
  const names: string[] = [];
  for await (const x of st.list('pack')) names.push(x);
  assert.equal(names, [sealed.packId]);

  const entries = await readPackEntries(st, sealed.packId);
  assert.is(entries.length, payloads.length);
  for (const [i, e] of entries.entries()) {
    assert.ok(e.id.equals(blake3().hash(payloads[i])));
    assert.is(e.type, i % 2);
    assert.is(e.rawLength, payloads[i].length);
    assert.is(e.storedLength, payloads[i].length);
    assert.is(e.offset, sealed.entries[i].offset);
    const hdr = decodeRecordHeader(await st.readRange('pack', sealed.packId, e.offset, RECORD_HEADER_BYTES), e.offset);
    assert.ok(hdr.id.equals(e.id));
    assert.is(hdr.storedLength, e.storedLength);
    const payload = await st.readRange('pack', sealed.packId, e.offset + RECORD_HEADER_BYTES, e.storedLength);
    assert.ok(payload.equals(payloads[i]), `payload ${i}`);
  }
  await st.close();
});

test('pack id = BLAKE3 of the trailer entries, stable for identical content', async () => {
  const a = freshStorage(), b = freshStorage();
  const payloads = [seeded(1000, 7), seeded(2000, 8), seeded(3, 9)];
  const pa = await writePack(a, payloads);
  const pb = await writePack(b, payloads);
  assert.is(pa.packId, pb.packId);
  const file = readFileSync(a.describe('pack', pa.packId));
  const body = file.subarray(file.length - TRAILER_TAIL_BYTES - payloads.length * TRAILER_ENTRY_BYTES, file.length - TRAILER_TAIL_BYTES);
  assert.is(blake3().hash(body).toString('hex'), pa.packId);
  assert.ok(readFileSync(b.describe('pack', pb.packId)).equals(file));
  const pc = await writePack(b, [seeded(1000, 7), seeded(2000, 8), seeded(4, 9)]);
  assert.is.not(pc.packId, pa.packId);
  await a.close(); await b.close();
});

test('empty pack seals and reads back with no entries', async () => {
  const st = freshStorage();
  const sealed = await writePack(st, []);
  assert.is(sealed.size, PACK_HEADER_BYTES + TRAILER_TAIL_BYTES);
  assert.equal(await readPackEntries(st, sealed.packId), []);
  await st.close();
});

async function damagedCopy(mutate: (path: string, size: number) => void): Promise<{ st: FsStorage; id: string; path: string }> {
  const st = freshStorage();
  const sealed = await writePack(st, [seeded(500, 11), seeded(600, 12), seeded(700, 13)]);
  const path = st.describe('pack', sealed.packId);
  chmodSync(path, 0o644);
  mutate(path, sealed.size);
  return { st, id: sealed.packId, path };
}

function flipByte(path: string, at: number): void {
  const b = readFileSync(path);
  b[at] ^= 0x40;
  writeFileSync(path, b);
}

test('flipped byte in the trailer entries → checksum error naming the pack path', async () => {
  const { st, id, path } = await damagedCopy((p, size) => flipByte(p, size - TRAILER_TAIL_BYTES - TRAILER_ENTRY_BYTES + 3));
  const e = await expectError(readPackEntries(st, id), /checksum mismatch/);
  assert.ok(e.message.startsWith(path), e.message);
  assert.is(e.data.path, path);
  await st.close();
});

test('flipped byte in the trailer tail (count, offset, magic) → error naming the pack path', async () => {
  for (const rel of [0, 5, 30, 46]) {
    const { st, id, path } = await damagedCopy((p, size) => flipByte(p, size - TRAILER_TAIL_BYTES + rel));
    const e = await expectError(readPackEntries(st, id), path);
    assert.ok(e.message.startsWith(`${path}: `), e.message);
    await st.close();
  }
});

test('flipped pack magic → bad magic naming the path', async () => {
  const { st, id, path } = await damagedCopy((p) => flipByte(p, 1));
  const e = await expectError(readPackEntries(st, id), /bad magic/);
  assert.ok(e.message.startsWith(path));
  await st.close();
});

test('truncated pack → error naming the path', async () => {
  for (const cut of [1, 47, 48, 200, 1000]) {
    const { st, id, path } = await damagedCopy((p, size) => truncateSync(p, size - cut));
    const e = await expectError(readPackEntries(st, id), path);
    assert.match(e.message, /truncated|inconsistent/);
    await st.close();
  }
  const { st, id, path } = await damagedCopy((p) => truncateSync(p, 20));
  const e = await expectError(readPackEntries(st, id), /truncated/);
  assert.is(e.code, 'TRUNCATED');
  assert.ok(e.message.startsWith(path));
  await st.close();
});

test('a failed write breaks the writer and nothing appears under a pack name', async () => {
  const st = freshStorage();
  const failing: BlobStorage = Object.create(st) as BlobStorage;
  let inner: BlobWriter | undefined;
  failing.create = async (kind) => {
    inner = await st.create(kind);
    const real = inner;
    return {
      get bytesWritten() { return real.bytesWritten; },
      write: async () => { throw new Error('disk full (simulated)'); },
      writev: async () => { throw new Error('disk full (simulated)'); },
      commit: (name: string) => real.commit(name),
      abort: () => real.abort(),
    };
  };
  const w = await PackWriter.open(failing);
  w.add(blake3().hash(seeded(10, 1)), 0, 0, 10, seeded(10, 1));
  try {
    await w.seal();
    assert.unreachable('seal should fail');
  } catch (e) {
    assert.match((e as Error).message, /disk full/);
  }
  const names: string[] = [];
  for await (const x of st.list('pack')) names.push(x);
  assert.equal(names, []);
  assert.equal(readdirSync(join(st.root, 'tmp')), []);
  await st.close();
});

test('a write failing in a background flush is reported by the writer, not as an unhandled rejection', async () => {
  // add() flushes on its own once 1 MiB is queued; if that write fails before the producer calls
  // drain() or seal(), the failure must surface as PACK_BROKEN on the next add() and as the seal()
  // error. An unhandled rejection would crash the process (Node's default), losing the message.
  const unhandled: unknown[] = [];
  const onUnhandled = (r: unknown) => { unhandled.push(r); };
  process.on('unhandledRejection', onUnhandled);
  try {
    const failing = {
      create: async () => ({
        bytesWritten: 0,
        write: async () => { throw new Error('EIO (simulated)'); },
        writev: async () => { await new Promise((r) => setTimeout(r, 5)); throw new Error('EIO (simulated)'); },
        commit: async () => {},
        abort: async () => {},
      }),
    } as unknown as BlobStorage;
    const w = await PackWriter.open(failing);
    const big = seeded(2 << 20, 3);
    w.add(blake3().hash(big), 0, 0, big.length, big);
    await new Promise((r) => setTimeout(r, 60));
    try {
      w.add(blake3().hash(Buffer.from('x')), 0, 0, 1, Buffer.from('x'));
      assert.unreachable('add after a failed write should throw');
    } catch (e) {
      assert.instance(e, ToolkitError);
      assert.is((e as ToolkitError).code, 'PACK_BROKEN');
    }
    try {
      await w.seal();
      assert.unreachable('seal should fail');
    } catch (e) {
      assert.match((e as Error).message, /EIO|unusable/);
    }
    assert.equal(unhandled.map(String), [], 'unhandled rejections');
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('many records across several flushes keep their order and bytes', async () => {
  const st = freshStorage();
  const payloads = Array.from({ length: 60 }, (_, i) => seeded(30_000 + i * 997, 100 + i));
  const w = await PackWriter.open(st);
  for (const [i, p] of payloads.entries()) {
    w.add(blake3().hash(p), 0, 0, p.length, p);
    if (i % 20 === 19) await w.drain();
  }
  const sealed = await w.seal();
  assert.is(statSync(st.describe('pack', sealed.packId)).size, sealed.size);
  const file = readFileSync(st.describe('pack', sealed.packId));
  const entries = await readPackEntries(st, sealed.packId);
  for (const [i, e] of entries.entries()) {
    const payload = file.subarray(e.offset + RECORD_HEADER_BYTES, e.offset + RECORD_HEADER_BYTES + e.storedLength);
    assert.ok(blake3().hash(payload).equals(e.id), `record ${i}`);
    assert.ok(payload.equals(payloads[i]));
  }
  await st.close();
});

test('add copies the record: one reused buffer, several writers at once, records larger than a staging buffer', async () => {
  // Callers pass views of buffers they reuse (a read buffer, a codec's output space), and
  // staging buffers are recycled between this thread's writers: every pack must still hold
  // exactly the bytes it was given.
  const st = freshStorage();
  const writers = [PackWriter.create(st), PackWriter.create(st), PackWriter.create(st)];
  const reused = Buffer.allocUnsafe(3 << 20);
  const given: Buffer[][] = writers.map(() => []);
  for (let i = 0; i < 45; i++) {
    const len = i % 15 === 7 ? (1 << 20) + 12_345 + i : 5_000 + i * 3_001;
    seeded(len, 500 + i).copy(reused);
    const view = reused.subarray(0, len);
    const k = i % writers.length;
    writers[k].add(blake3().hash(view), 0, 0, len, view);
    given[k].push(Buffer.from(view));
    if (i % 10 === 9) await writers[(i / 10) % 3 | 0].drain();
  }
  for (const [k, w] of writers.entries()) {
    const sealed = await w.seal();
    const file = readFileSync(st.describe('pack', sealed.packId));
    assert.is(file.length, sealed.size);
    const entries = await readPackEntries(st, sealed.packId);
    assert.is(entries.length, given[k].length);
    for (const [i, e] of entries.entries()) {
      const payload = file.subarray(e.offset + RECORD_HEADER_BYTES, e.offset + RECORD_HEADER_BYTES + e.storedLength);
      assert.ok(payload.equals(given[k][i]), `writer ${k} record ${i}`);
    }
  }
  await st.close();
});

test.run();
