// The signature record (formats/signatures.md, lib/signature/signature-codec.ts): the golden
// records decode to their fields and encode back byte for byte; each rule of §3 rejects with a
// FormatError naming it; validity follows (dev, ino, size, mtime, ctime); and a seeded fuzz of
// the decoder over damaged records: every outcome is a FormatError or a record that encodes
// back to the same bytes, never another exception and never a changed meaning.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FormatError } from '../../lib/errors/index.js';
import { blake3 } from '../../lib/hash/blake3.js';
import {
  CHECK_BYTES, decodeSignature, encodeSignature, HEADER_BYTES, isValidFor, readSignature, type Signature,
} from '../../lib/signature/signature-codec.js';
import { goldenRecords, type GoldenRecord, signatureOf } from '../../fixtures/gen-signature-golden.js';
import { ROOT } from '../helpers/run-cli.js';
import { fuzzSeeds, mulberry32 } from '../helpers/seeded.js';

const golden = (JSON.parse(readFileSync(`${ROOT}/fixtures/signature/golden.json`, 'utf8')) as { records: GoldenRecord[] }).records;

test('golden records: decoded to their fields, encoded back byte for byte, and the generator agrees', () => {
  assert.equal(goldenRecords(), golden, 'fixtures/signature/golden.json is what the generator makes now');
  for (const g of golden) {
    const sig = decodeSignature(Buffer.from(g.hex, 'hex'));
    assert.is(sig.dev.toString(), g.fields.dev, g.name);
    assert.is(sig.ino.toString(), g.fields.ino);
    assert.is(sig.size, g.fields.size);
    assert.is(sig.mtimeNs.toString(), g.fields.mtimeNs);
    assert.is(sig.ctimeNs.toString(), g.fields.ctimeNs);
    assert.equal(sig.chunks?.map((c) => c.length) ?? null, g.fields.chunks);
    assert.is(encodeSignature(sig).toString('hex'), g.hex);
  }
});

/** A fresh check over a record whose bytes a test changed on purpose. */
function resealed(b: Buffer): Buffer {
  const end = b.length - CHECK_BYTES;
  blake3().hash(b.subarray(0, end)).copy(b, end, 0, CHECK_BYTES);
  return b;
}

function rejects(b: Buffer, why: RegExp, label: string): void {
  assert.throws(() => decodeSignature(b), (e: unknown) => e instanceof FormatError && why.test((e as Error).message), label);
  assert.is(readSignature(b), null, label);
}

test('each rule of formats/signatures.md §3 rejects, naming it', () => {
  const good = Buffer.from(golden[0].hex, 'hex');
  const edit = (f: (b: Buffer) => void, reseal = true) => { const b = Buffer.from(good); f(b); return reseal ? resealed(b) : b; };
  rejects(good.subarray(0, 50), /shorter than a record/, 'short');
  rejects(edit((b) => b.write('FXSH', 0, 'latin1')), /magic/, 'magic');
  rejects(edit((b) => { b[4] = 2; }), /version 2/, 'a newer version');
  rejects(edit((b) => { b[5] |= 2; }), /unknown flags/, 'flags');
  rejects(edit((b) => { b[6] = 1; }), /unknown flags/, 'reserved');
  rejects(edit((b) => { b.writeUInt32LE(b.readUInt32LE(96) + 1, 96); }), /bytes where/, 'count against length');
  rejects(edit((b) => { b.writeUInt32LE(2 ** 21, 96); }), /more than/, 'count over the bound');
  rejects(edit((b) => { b[b.length - 1] ^= 1; }, false), /check mismatch/, 'the check');
  rejects(edit((b) => { b[60] ^= 1; }, false), /check mismatch/, 'a flipped bit');
  rejects(Buffer.concat([good, Buffer.alloc(1)]), /bytes where/, 'padded');
  rejects(edit((b) => { b.writeBigUInt64LE(2n ** 60n, 24); }), /size over/, 'size');
  rejects(edit((b) => { b.writeUInt32LE(1000, 84); }), /chunker parameters/, 'avg not a power of two');
  rejects(edit((b) => { b.writeUInt32LE(b.readUInt32LE(HEADER_BYTES) + 1, HEADER_BYTES); }), /sum to/, 'lengths against size');
  rejects(edit((b) => { b.writeUInt32LE(0, HEADER_BYTES); }), /length 0/, 'an empty chunk');
  const noList = Buffer.from(golden[2].hex, 'hex');
  noList[96] = 1;
  rejects(resealed(noList), /without the chunk-list flag/, 'chunks without the flag');
  assert.is(readSignature(null), null);
});

test('the encoder refuses what the decoder would reject', () => {
  const sig = signatureOf(7, 5000, true);
  assert.throws(() => encodeSignature({ ...sig, size: 4999 }), /sum to/);
  assert.throws(() => encodeSignature({ ...sig, content: new Uint8Array(31) }), /32 bytes/);
  assert.throws(() => encodeSignature({ ...sig, chunker: { ...sig.chunker, min: 10 } }), /chunker parameters/);
});

test('valid only while dev, ino, size, mtime and ctime (ns) are unchanged', () => {
  const sig = decodeSignature(Buffer.from(golden[0].hex, 'hex'));
  const now = { dev: sig.dev, ino: sig.ino, size: sig.size, mtimeNs: sig.mtimeNs, ctimeNs: sig.ctimeNs };
  assert.ok(isValidFor(sig, now));
  for (const [k, v] of [['dev', sig.dev + 1n], ['ino', sig.ino + 1n], ['size', sig.size + 1], ['mtimeNs', sig.mtimeNs + 1n], ['ctimeNs', sig.ctimeNs + 1n]] as const) {
    assert.not.ok(isValidFor(sig, { ...now, [k]: v }), k);
  }
});

test('fuzz: damaged records give a FormatError or a record that encodes back the same, nothing else', () => {
  const bases = golden.map((g) => Buffer.from(g.hex, 'hex'));
  let accepted = 0;
  for (const seed of fuzzSeeds(1, 3000)) {
    const rnd = mulberry32(seed);
    const base = bases[seed % bases.length];
    let b: Buffer = Buffer.from(base);
    const kind = seed % 5;
    if (kind === 0) b = b.subarray(0, Math.floor(rnd() * b.length));
    else if (kind === 1) for (let i = 1 + Math.floor(rnd() * 4); i > 0; i--) b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
    else if (kind === 2) b = Buffer.concat([b, Buffer.from([Math.floor(rnd() * 256)])]);
    else if (kind === 3) { b[Math.floor(rnd() * HEADER_BYTES)] = Math.floor(rnd() * 256); b = resealed(b); }
    else b = resealed(Buffer.from(Array.from({ length: base.length }, () => Math.floor(rnd() * 256))));
    let sig: Signature;
    try {
      sig = decodeSignature(b);
    } catch (err) {
      if (!(err instanceof FormatError)) throw new Error(`seed ${seed}: ${(err as Error).stack}`);
      continue;
    }
    accepted++;
    assert.ok(encodeSignature(sig).equals(b), `seed ${seed}: accepted bytes must be the canonical encoding`);
  }
  // Resealed header edits that keep the record consistent (a changed dev, ino or time) are accepted.
  assert.ok(accepted < 3000);
});

test.run();
