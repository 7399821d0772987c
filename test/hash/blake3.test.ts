// BLAKE3: every implementation gives identical digests (the SIMD library, the addon's own, the
// mix of both that blake3() returns, wasm); incremental equals one-shot; known vectors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blake3, blake3Impl, HASH_NAME, ID_BYTES } from '../../lib/hash/blake3.js';
import { mulberry32, seededBytes } from '../helpers/seeded.js';



const native = blake3Impl('native');
const wasm = blake3Impl('wasm')!;
const LENGTHS = [0, 1, 2, 63, 64, 65, 1023, 1024, 1025, 2048, 2049, 4097, 65_536, 65_537, (1 << 20) + 7];

test('both implementations load; the default is one of them', () => {
  assert.ok(native, 'native @napi-rs/blake-hash should load on this machine');
  assert.is(native!.impl, 'native');
  assert.is(wasm.impl, 'wasm');
  assert.ok(['native', 'wasm'].includes(blake3().impl));
  assert.is(HASH_NAME, 'blake3-256');
  assert.is(ID_BYTES, 32);
});

test('known vectors', () => {
  const abc = '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85';
  const empty = 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262';
  for (const impl of [native!, wasm]) {
    assert.is(impl.hash(Buffer.from('abc')).toString('hex'), abc, impl.impl);
    assert.is(impl.hash(new Uint8Array(0)).toString('hex'), empty, impl.impl);
    const h = impl.hasher();
    h.update(Buffer.from('a'));
    h.update(Buffer.from('bc'));
    assert.is(h.digest().toString('hex'), abc, `${impl.impl} incremental`);
  }
});

test('native vs wasm parity on seeded inputs of many lengths', () => {
  for (const [i, len] of LENGTHS.entries()) {
    const data = seededBytes(len, 1000 + i);
    const a = native!.hash(data);
    const b = wasm.hash(data);
    assert.is(a.length, 32);
    assert.is(a.toString('hex'), b.toString('hex'), `length ${len}`);
  }
  // A subarray with a non-zero byteOffset hashes its own bytes only.
  const big = seededBytes(5000, 77);
  const view = big.subarray(123, 4567);
  assert.is(native!.hash(view).toString('hex'), wasm.hash(Buffer.from(view)).toString('hex'));
  assert.is(wasm.hash(view).toString('hex'), native!.hash(Buffer.from(view)).toString('hex'));
  assert.is.not(native!.hash(view).toString('hex'), native!.hash(big).toString('hex'));
});

// The addon's own implementation (native/src/blake3.cc), alone and as the mix blake3() uses:
// every length class of the tree (one block, one chunk, 2^k chunks, an uneven number of chunks).
test('the addon\'s own BLAKE3 equals the SIMD library at every tree shape', () => {
  const own = blake3Impl('own');
  const simd = blake3Impl('simd');
  if (!own || !simd) { console.log('  skipped: needs the native addon and @napi-rs/blake-hash'); return; }
  const lengths = [...LENGTHS, 3072, 3073, 4096, 7 * 1024, 8 * 1024 + 1, 31 * 1024 + 5, 33 * 1024, 4_194_304, 4_194_305];
  for (const [i, len] of lengths.entries()) {
    const data = seededBytes(len, 3000 + i);
    const want = simd.hash(data).toString('hex');
    assert.is(own.hash(data).toString('hex'), want, `own, length ${len}`);
    assert.is(native!.hash(data).toString('hex'), want, `mixed, length ${len}`);
  }
  const big = seededBytes(9000, 99);
  assert.is(own.hash(big.subarray(17, 8017)).toString('hex'), simd.hash(Buffer.from(big.subarray(17, 8017))).toString('hex'));
});

test('input in shared memory (a SharedArrayBuffer view) hashes as the same bytes do', () => {
  const h = blake3();
  for (const n of [0, 48, 4096, 70_000, 5 << 20]) {
    const bytes = seededBytes(n + 7, n);
    const shared = Buffer.from(new SharedArrayBuffer(n + 7)).fill(0);
    bytes.copy(shared);
    assert.ok(h.hash(shared.subarray(7)).equals(h.hash(Buffer.from(bytes.subarray(7)))), `${n} bytes`);
  }
});

test('incremental hasher equals one-shot for random splits', () => {
  const rnd = mulberry32(42);
  for (const [i, len] of LENGTHS.entries()) {
    const data = seededBytes(len, 2000 + i);
    const want = native!.hash(data).toString('hex');
    for (const impl of [native!, wasm]) {
      const h = impl.hasher();
      let off = 0;
      while (off < len) {
        const n = Math.min(len - off, 1 + Math.floor(rnd() * (rnd() < 0.5 ? 100 : 70_000)));
        h.update(data.subarray(off, off + n));
        off += n;
      }
      if (len === 0) h.update(new Uint8Array(0));
      assert.is(h.digest().toString('hex'), want, `${impl.impl} length ${len}`);
    }
  }
});

test('single-bit changes change the digest', () => {
  const data = seededBytes(4096, 5);
  const base = blake3().hash(data).toString('hex');
  for (const at of [0, 1023, 1024, 4095]) {
    const d = Buffer.from(data); d[at] ^= 1;
    assert.is.not(blake3().hash(d).toString('hex'), base, `bit at ${at}`);
  }
});

test.run();
