/**
 * Seeded fuzzing of every reader of wire bytes (formats/wire.md): the frame decoder over valid
 * streams cut at random points and over mutated ones, and each body decoder over mutated
 * bodies. A reader gives back exactly what was sent, or refuses with a clean one-line
 * ToolkitError (PROTOCOL or TRANSPORT); never a crash, a hang, or a frame over the limit.
 * FUZZ_SEED replays one seed; FUZZ_ROUNDS / FUZZ_OFFSET run a longer campaign (helpers/seeded.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToolkitError } from '../../lib/errors/index.js';
import { encodeFrame, type Frame, FrameDecoder } from '../../lib/transport/frame-codec.js';
import { FRAME, isReply, MAX_FRAME_BYTES, MAX_READ_BYTES, PREAMBLE } from '../../lib/transport/wire-layout.js';
import {
  decodeBitmap, decodeChunkRecords, decodeIds, decodeJson, decodeWalkPage, encodeBitmap, encodeChunkRecords, encodeIds, encodeWalkPage,
} from '../../lib/transport/wire-messages.js';
import {
  decodeBlobList, decodeBlobRead, decodeBlobStat, decodeBlobWrite, encodeBlobWrite, handleField, kindField, nameField,
} from '../../lib/transport/blob-messages.js';
import { fuzzSeeds, mulberry32, seededBytes } from '../helpers/seeded.js';

const ITERATIONS = 300;
const REPLIES = [FRAME.RHello, FRAME.ROpen, FRAME.RHaveChunks, FRAME.RChunk, FRAME.RWalkIds, FRAME.RError, FRAME.RBye,
  FRAME.ROpenBlobs, FRAME.RBlobList, FRAME.RBlobStat, FRAME.RBlobData, FRAME.ROk];

function clean(err: unknown, seed: number, codes: string[]): void {
  if (!(err instanceof ToolkitError)) throw new Error(`seed ${seed}: not a clean error: ${(err as Error)?.stack ?? String(err)}`);
  assert.ok(codes.includes(err.code), `seed ${seed}: code ${err.code}`);
  assert.ok(!err.message.includes('\n'), `seed ${seed}: one-line message`);
}

function randomStream(rnd: () => number, seed: number): { bytes: Buffer; frames: Array<[number, number, string]> } {
  const frames: Array<[number, number, string]> = [];
  const parts: Uint8Array[] = [PREAMBLE];
  const n = 1 + Math.floor(rnd() * 6);
  for (let i = 0; i < n; i++) {
    const type = REPLIES[Math.floor(rnd() * REPLIES.length)]!;
    const body = seededBytes(Math.floor(rnd() * (rnd() < 0.2 ? 200_000 : 300)), seed * 31 + i);
    parts.push(encodeFrame(type, i + 1, body));
    frames.push([type, i + 1, body.toString('hex')]);
  }
  return { bytes: Buffer.concat(parts), frames };
}

function feed(d: FrameDecoder, bytes: Buffer, rnd: () => number): Frame[] {
  const out: Frame[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 16 : 70_000));
    out.push(...d.push(bytes.subarray(at, at + n)));
    at += n;
  }
  return out;
}

test(`frame decoder: ${ITERATIONS} seeded streams cut at random points decode exactly`, () => {
  for (const seed of fuzzSeeds(1, ITERATIONS)) {
    const rnd = mulberry32(seed);
    const { bytes, frames } = randomStream(rnd, seed);
    const d = new FrameDecoder('client');
    const got = feed(d, bytes, rnd);
    d.end();
    assert.equal(got.map((f) => [f.type, f.requestId, Buffer.from(f.body).toString('hex')]), frames, `seed ${seed}`);
  }
});

test(`frame decoder: ${ITERATIONS} seeded mutations give frames or a clean refusal`, () => {
  for (const seed of fuzzSeeds(1000, ITERATIONS)) {
    const rnd = mulberry32(seed);
    const { bytes } = randomStream(rnd, seed);
    const b = rnd() < 0.3 ? Buffer.from(bytes.subarray(0, Math.floor(rnd() * bytes.length))) : Buffer.from(bytes);
    for (let i = 0, flips = Math.floor(rnd() * 4); i < flips; i++) b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
    const d = new FrameDecoder('client');
    try {
      for (const f of feed(d, b, rnd)) {
        assert.ok(f.body.length <= MAX_FRAME_BYTES, `seed ${seed}: frame over the limit`);
        assert.ok(isReply(f.type), `seed ${seed}: a frame of type ${f.type} reached a client`);
      }
      d.end();
    } catch (err) {
      clean(err, seed, ['PROTOCOL', 'TRANSPORT']);
    }
  }
});

/** Mutates a body: cut, grown, or bits flipped. */
function mutate(body: Uint8Array, rnd: () => number): Buffer {
  const r = rnd();
  if (r < 0.25) return Buffer.from(body.subarray(0, Math.floor(rnd() * body.length)));
  if (r < 0.35) return Buffer.concat([body, seededBytes(1 + Math.floor(rnd() * 50), Math.floor(rnd() * 1e9))]);
  const b = Buffer.from(body);
  for (let i = 0, flips = 1 + Math.floor(rnd() * 3); i < flips && b.length > 0; i++) b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
  return b;
}

test(`body decoders: ${ITERATIONS} seeded mutations of each body give values or a clean refusal`, () => {
  for (const seed of fuzzSeeds(5000, ITERATIONS)) {
    const rnd = mulberry32(seed);
    const ids = Array.from({ length: 1 + Math.floor(rnd() * 40) }, (_, i) => seededBytes(32, seed * 7 + i));
    const chunks = ids.slice(0, 4).map((id, i) => {
      const stored = seededBytes(1 + Math.floor(rnd() * 500), seed + i);
      return { id, type: i & 1, codec: 0, rawLength: stored.length, stored };
    });
    const bodies: Array<[Uint8Array, (b: Uint8Array) => unknown]> = [
      [encodeIds(ids), (b) => decodeIds(b, 'ids')],
      [encodeBitmap(ids.map((_, i) => i % 3 === 0)), (b) => decodeBitmap(b, ids.length, 'bitmap')],
      [encodeChunkRecords(chunks), (b) => decodeChunkRecords(b, 'records')],
      [encodeWalkPage(rnd() < 0.5, ids.map((id, i) => ({ id, type: i & 1 }))), (b) => decodeWalkPage(b, 'walk')],
      [Buffer.from(JSON.stringify({ wire: 1, path: '/x', create: true })), (b) => decodeJson(b, 'json')],
    ];
    for (const [body, decode] of bodies) {
      const original = decode(body);
      assert.ok(original !== undefined);
      try {
        decode(mutate(body, rnd));
      } catch (err) {
        clean(err, seed, ['PROTOCOL']);
      }
    }
  }
});

test(`blob bodies (§7): ${ITERATIONS} seeded mutations of each give values or a clean refusal`, () => {
  const json = (o: unknown) => Buffer.from(JSON.stringify(o));
  for (const seed of fuzzSeeds(7000, ITERATIONS)) {
    const rnd = mulberry32(seed);
    const names = Array.from({ length: Math.floor(rnd() * 30) }, (_, i) => seededBytes(32, seed * 5 + i).toString('hex')).sort();
    const bodies: Array<[Uint8Array, (b: Uint8Array) => unknown]> = [
      [encodeBlobWrite(1 + Math.floor(rnd() * 1000), seededBytes(1 + Math.floor(rnd() * 300), seed)), (b) => decodeBlobWrite(b)],
      [json({ names, last: names.length === 0 || rnd() < 0.5 }), (b) => decodeBlobList(decodeJson(b, 'RBlobList'))],
      [json({ size: Math.floor(rnd() * 1e9) }), (b) => decodeBlobStat(decodeJson(b, 'RBlobStat'))],
      [json({ kind: rnd() < 0.5 ? 'pack' : 'snapshot', name: names[0] ?? 'ab'.repeat(16), offset: Math.floor(rnd() * 1e6), length: Math.floor(rnd() * 1e6) }),
        (b) => decodeBlobRead(decodeJson(b, 'TBlobRead'))],
      [json({ kind: 'pack', name: names[0] ?? 'ab'.repeat(16), handle: 1 + Math.floor(rnd() * 1e6) }),
        (b) => { const o = decodeJson(b, 'TBlobCommit'); return [kindField(o, 'TBlobCommit'), nameField(o, 'name', 'TBlobCommit'), handleField(o, 'TBlobCommit')]; }],
    ];
    for (const [body, decode] of bodies) {
      assert.ok(decode(body) !== undefined, `seed ${seed}: the unmutated body decodes`);
      try {
        const got = decode(mutate(body, rnd));
        // Whatever passes is within the limits §7 sets.
        if (got && typeof got === 'object' && 'names' in got) assert.ok((got as { names: string[] }).names.every((n) => /^[0-9a-f]{8,64}$/.test(n)), `seed ${seed}`);
        if (got && typeof got === 'object' && 'length' in got && 'offset' in got) assert.ok((got as { length: number }).length <= MAX_READ_BYTES, `seed ${seed}`);
      } catch (err) {
        clean(err, seed, ['PROTOCOL']);
      }
    }
  }
});

test('blob bodies: what a reader must refuse (formats/wire.md §7)', () => {
  const code = (f: () => unknown) => { try { f(); return 'ok'; } catch (e) { return (e as ToolkitError).code; } };
  const j = (o: unknown) => decodeJson(Buffer.from(JSON.stringify(o)), 'x');
  assert.is(code(() => decodeBlobWrite(new Uint8Array(4))), 'PROTOCOL');
  assert.is(code(() => decodeBlobWrite(Uint8Array.from([0, 0, 0, 0, 1]))), 'PROTOCOL');
  assert.is(code(() => decodeBlobList(j({ names: ['b'.repeat(16), 'a'.repeat(16)], last: true }))), 'PROTOCOL');
  assert.is(code(() => decodeBlobList(j({ names: ['../x'], last: true }))), 'PROTOCOL');
  assert.is(code(() => decodeBlobList(j({ names: [], last: false }))), 'PROTOCOL');
  assert.is(code(() => decodeBlobStat(j({ size: -1 }))), 'PROTOCOL');
  assert.is(code(() => decodeBlobStat(j({ size: null }))), 'ok');
  assert.is(code(() => decodeBlobRead(j({ kind: 'pack', name: 'a'.repeat(16), offset: 0, length: MAX_READ_BYTES + 1 }))), 'PROTOCOL');
  assert.is(code(() => decodeBlobRead(j({ kind: 'config', name: 'a'.repeat(16), offset: 0, length: 1 }))), 'PROTOCOL');
  assert.is(code(() => decodeBlobRead(j({ kind: 'pack', name: 'a'.repeat(16), offset: 1.5, length: 1 }))), 'PROTOCOL');
  assert.is(code(() => handleField(j({ handle: 0 }), 'x')), 'PROTOCOL');
  assert.is(code(() => nameField(j({ name: 'A'.repeat(16) }), 'name', 'x')), 'PROTOCOL');
});

test('chunk records: bad types, codecs and lengths are refused', () => {
  const one = (f: (b: Buffer) => void) => { const b = Buffer.from(encodeChunkRecords([{ id: Buffer.alloc(32, 1), type: 0, codec: 0, rawLength: 3, stored: Buffer.from('abc') }])); f(b); return b; };
  const code = (b: Buffer) => { try { decodeChunkRecords(b, 'x'); return 'ok'; } catch (e) { return (e as ToolkitError).code; } };
  assert.is(code(one(() => {})), 'ok');
  assert.is(code(one((b) => { b[32] = 2; })), 'PROTOCOL');
  assert.is(code(one((b) => { b[33] = 9; })), 'PROTOCOL');
  assert.is(code(one((b) => { b.writeUInt32LE(0, 34); })), 'PROTOCOL');
  assert.is(code(one((b) => { b.writeUInt32LE(4, 38); })), 'PROTOCOL');
  assert.is(code(Buffer.alloc(0)), 'PROTOCOL');
});

test.run();
