/**
 * The read-ahead of ranged reads (lib/store/read-ahead.ts) over an object in memory, with a
 * fetch that counts its requests: what a restore's reads cost in GETs, and that every read gets
 * exactly its bytes whatever the order. (The same read-ahead against radosgw:
 * test/integration/s3-read-ahead.test.ts.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BUDGET_BYTES, type FetchRange, MAX_WINDOW, MIN_WINDOW, ReadAhead, WHOLE_BELOW } from '../../lib/store/read-ahead.js';
import { fuzzSeeds, mulberry32, seededBytes } from '../helpers/seeded.js';

/**
 * An object and a fetch of its ranges that logs each request and answers as S3 does: the size
 * with the bytes (a 206's Content-Range), nothing for a range past the end (a 416).
 */
function object(size: number, seed = 1) {
  const bytes = seededBytes(size, seed);
  const requests: Array<[number, number]> = [];
  const fetch: FetchRange = async (offset, length) => {
    requests.push([offset, length]);
    await new Promise((r) => setImmediate(r));
    if (offset >= size) return { data: Buffer.alloc(0) };
    const part = bytes.subarray(offset, offset + length);
    const data = Buffer.allocUnsafe(part.byteLength);
    data.set(part);
    return { data, size };
  };
  return { bytes, requests, fetch };
}

test('a first read fetches exactly its range; reads in order then come from windows, each asked for before it is needed', async () => {
  const o = object(40 << 20);
  const ra = new ReadAhead();
  const first = await ra.read('p', 8, 1000, o.fetch);
  assert.equal(o.requests, [[8, 1000]]);
  assert.ok(first.equals(o.bytes.subarray(8, 1008)));
  // A restore reading every record of the pack in order (records of 10-200 KB).
  const rnd = mulberry32(7);
  let at = 1008;
  while (at < o.bytes.length) {
    const n = Math.min(o.bytes.length - at, 10_000 + Math.floor(rnd() * 190_000));
    const got = await ra.read('p', at, n, o.fetch);
    assert.ok(got.equals(o.bytes.subarray(at, at + n)), `bytes at ${at}`);
    at += n;
  }
  // 40 MiB in windows of 256 KiB doubling to MAX_WINDOW: a handful of requests, not one per record.
  assert.ok(o.requests.length <= 2 + Math.ceil((40 << 20) / MAX_WINDOW) + 5, `${o.requests.length} requests`);
  assert.is(o.requests[1]![1], MIN_WINDOW);
  const fetched = o.requests.reduce((n, [, l]) => n + l, 0);
  assert.ok(fetched <= (40 << 20) + MAX_WINDOW, `fetched ${fetched}`);
});

test('a small object read a second time is fetched whole (a tree pack read in no order)', async () => {
  const o = object(300_000);
  const ra = new ReadAhead();
  await ra.read('t', 250_000, 127, o.fetch);
  for (const at of [240_000, 50_000, 30_000, 290_000]) assert.ok((await ra.read('t', at, 500, o.fetch)).equals(o.bytes.subarray(at, at + 500)));
  assert.equal(o.requests, [[250_000, 127], [0, 300_000]]);
  assert.ok(300_000 <= WHOLE_BELOW);
});

test('a small object whose size a listing gave is fetched whole at its first read; a large one is not', async () => {
  const o = object(300_000);
  const ra = new ReadAhead();
  ra.listed('t', 300_000);
  for (const at of [250_000, 240_000, 50_000, 290_000]) assert.ok((await ra.read('t', at, 500, o.fetch)).equals(o.bytes.subarray(at, at + 500)));
  assert.equal(o.requests, [[0, 300_000]]);
  const big = object(WHOLE_BELOW + 1);
  ra.listed('b', WHOLE_BELOW + 1);
  await ra.read('b', 1000, 10, big.fetch);
  assert.equal(big.requests, [[1000, 10]]);
  // Written again (forget): its listed size is no longer trusted.
  ra.forget('t');
  await ra.read('t', 100, 10, o.fetch);
  assert.equal(o.requests.at(-1), [100, 10]);
});

test('reads far apart fetch exactly their ranges (a one-file restore of a large store)', async () => {
  const o = object(64 << 20);
  const ra = new ReadAhead();
  for (const at of [10 << 20, 30 << 20, 50 << 20, 1 << 20]) await ra.read('d', at, 40_000, o.fetch);
  assert.equal(o.requests, [[10 << 20, 40_000], [30 << 20, 40_000], [50 << 20, 40_000], [1 << 20, 40_000]]);
});

test('a record across two windows is served from both; readers a little apart fetch the gaps, not the same bytes twice', async () => {
  const o = object(8 << 20);
  const ra = new ReadAhead();
  await ra.read('p', 0, 100, o.fetch);
  await ra.read('p', 100, 100, o.fetch); // window [100, 100 + MIN_WINDOW)
  await ra.read('p', MIN_WINDOW - 1000, 100, o.fetch); // past the middle: the next window is asked for
  assert.is(o.requests.length, 3);
  const across = await ra.read('p', 100 + MIN_WINDOW - 50, 100, o.fetch);
  assert.ok(across.equals(o.bytes.subarray(100 + MIN_WINDOW - 50, 100 + MIN_WINDOW + 50)));
  assert.is(o.requests.length, 3, JSON.stringify(o.requests));
  // Bytes are never fetched twice while they are held.
  const seen = new Uint8Array(8 << 20);
  for (const [at, n] of o.requests) for (let i = at; i < at + n; i++) assert.is(seen[i]++, 0, `byte ${i} fetched twice`);
});

test('a pack read in two orders (its second half, then its first) fetches each byte once: windows stop at bytes read before', async () => {
  const size = 12 << 20;
  const o = object(size);
  const ra = new ReadAhead();
  const rnd = mulberry32(3);
  const readRun = async (from: number, to: number) => {
    for (let at = from; at < to;) {
      const n = Math.min(to - at, 20_000 + Math.floor(rnd() * 150_000));
      assert.ok((await ra.read('p', at, n, o.fetch)).equals(o.bytes.subarray(at, at + n)), `bytes at ${at}`);
      at += n;
    }
  };
  await readRun(size / 2, size);
  await readRun(0, size / 2);
  const fetched = o.requests.reduce((n, [at, l]) => n + Math.max(0, Math.min(l, size - at)), 0);
  assert.is(fetched, size, `fetched ${fetched} of ${size} in ${o.requests.length} requests`);
});

test('a read that starts in a window and ends past it fetches only what the window lacks', async () => {
  const o = object(8 << 20);
  const ra = new ReadAhead();
  await ra.read('p', 0, 100, o.fetch);
  await ra.read('p', 100, 100, o.fetch); // window [100, 100 + MIN_WINDOW)
  const across = await ra.read('p', MIN_WINDOW - 500, 300_000, o.fetch);
  assert.ok(across.equals(o.bytes.subarray(MIN_WINDOW - 500, MIN_WINDOW - 500 + 300_000)));
  assert.is(o.requests[2]![0], 100 + MIN_WINDOW);
  const seen = new Uint8Array(8 << 20);
  for (const [at, n] of o.requests) for (let i = at; i < at + n; i++) assert.is(seen[i]++, 0, `byte ${i} fetched twice`);
});

test('view: a view of the window (no copy); read: a buffer of their own', async () => {
  const o = object(4 << 20);
  const ra = new ReadAhead();
  await ra.read('p', 0, 100, o.fetch);
  const v = await ra.view('p', 100, 1000, o.fetch);
  assert.ok(v.equals(o.bytes.subarray(100, 1100)));
  const w = await ra.view('p', 1100, 1000, o.fetch);
  assert.is(w.buffer, v.buffer, 'served from the same window');
  const r = await ra.read('p', 2100, 1000, o.fetch);
  assert.ok(r.buffer !== v.buffer && r.byteLength === 1000 && r.equals(o.bytes.subarray(2100, 3100)));
  ra.hold('h', 0, Buffer.from(o.bytes.subarray(0, 5000)), 4 << 20);
  const h = await ra.view('h', 10, 100, o.fetch);
  assert.ok(h.equals(o.bytes.subarray(10, 110)));
});

test('any reads, in any order, concurrent or not, get exactly their bytes; what is held stays within the budget', async () => {
  for (const seed of fuzzSeeds(1, 20)) {
    const rnd = mulberry32(seed);
    const sizes = [Math.floor(rnd() * 3_000_000) + 1, Math.floor(rnd() * 12_000_000) + 1, Math.floor(rnd() * 600_000) + 1];
    const objs = sizes.map((s, i) => object(s, seed * 10 + i));
    const budget = Math.floor(rnd() * BUDGET_BYTES) + 1;
    const ra = new ReadAhead(budget);
    const cursors = objs.map(() => 0);
    const reads: Array<Promise<void>> = [];
    for (let i = 0; i < 300; i++) {
      const k = Math.floor(rnd() * objs.length), o = objs[k]!;
      // In order mostly, sometimes a jump; sometimes past the end (fewer bytes back).
      const at = rnd() < 0.8 ? cursors[k]! : Math.floor(rnd() * o.bytes.length * 1.1);
      const n = 1 + Math.floor(rnd() * 300_000);
      cursors[k] = Math.min(at + n, o.bytes.length - 1);
      const read = (rnd() < 0.5 ? ra.read(`k${k}`, at, n, o.fetch) : ra.view(`k${k}`, at, n, o.fetch)).then((got) => {
        assert.ok(got.equals(o.bytes.subarray(at, at + n)), `seed ${seed}: read ${i} (${n} at ${at} of ${o.bytes.length})`);
      });
      reads.push(read);
      if (rnd() < 0.7) await read;
      // Within the budget, or one window alone (a window is at most MAX_WINDOW, or one read).
      assert.ok(ra.heldBytes <= Math.max(budget, MAX_WINDOW, 300_000), `seed ${seed}: ${ra.heldBytes} held, budget ${budget}`);
    }
    await Promise.all(reads);
  }
});

test('forget drops what is held of an object (written again): the next read fetches again', async () => {
  const o = object(500_000);
  const ra = new ReadAhead();
  await ra.read('x', 0, 10, o.fetch);
  await ra.read('x', 10, 10, o.fetch);
  await ra.read('x', 20, 10, o.fetch);
  assert.is(o.requests.length, 2);
  ra.forget('x');
  await ra.read('x', 30, 10, o.fetch);
  assert.is(o.requests.length, 3);
  assert.is(ra.heldBytes, 0);
});

test('an object\'s tail held at open: reads in it fetch nothing, and nothing is asked for past the end', async () => {
  const o = object(3_000_000);
  const ra = new ReadAhead();
  ra.hold('a', 2_000_000, o.bytes.subarray(2_000_000), 3_000_000);
  for (let at = 2_000_000; at < 3_000_000; at += 100_000) assert.ok((await ra.read('a', at, 100_000, o.fetch)).equals(o.bytes.subarray(at, at + 100_000)));
  assert.equal(o.requests, []);
  assert.ok((await ra.read('a', 1_990_000, 20_000, o.fetch)).equals(o.bytes.subarray(1_990_000, 2_010_000)));
});

test('peek serves a fetched window synchronously, and nothing else', async () => {
  const o = object(100_000);
  const ra = new ReadAhead();
  assert.is(ra.peek('a', 0, 10), null);
  ra.hold('a', 50_000, o.bytes.subarray(50_000), 100_000);
  assert.ok(ra.peek('a', 60_000, 100)!.equals(o.bytes.subarray(60_000, 60_100)));
  assert.is(ra.peek('a', 49_999, 2), null);
  assert.is(o.requests.length, 0);
});

test.run();
