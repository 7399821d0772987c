/**
 * The frame codec (formats/wire.md §1): round trips split at every kind of boundary, and each
 * thing a reader must refuse, refused with its code before anything is allocated for it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToolkitError } from '../../lib/errors/index.js';
import { encodeFrame, FrameDecoder } from '../../lib/transport/frame-codec.js';
import { FRAME, MAX_FRAME_BYTES, PREAMBLE } from '../../lib/transport/wire-layout.js';

const cat = (...parts: Uint8Array[]) => Buffer.concat(parts);

function codeOf(fn: () => unknown): string {
  try { fn(); } catch (err) { return err instanceof ToolkitError ? err.code : `not a ToolkitError: ${String(err)}`; }
  return 'no error';
}

test('frames round trip, fed whole or a byte at a time', () => {
  const frames = [
    encodeFrame(FRAME.RHello, 1, Buffer.from('{"wire":1}')),
    encodeFrame(FRAME.RChunk, 2, new Uint8Array(70_000).fill(7)),
    encodeFrame(FRAME.RBye, 3),
  ];
  const stream = cat(PREAMBLE, ...frames);
  const whole = new FrameDecoder('client').push(stream);
  assert.equal(whole.map((f) => [f.type, f.requestId, f.body.length]), [[FRAME.RHello, 1, 10], [FRAME.RChunk, 2, 70_000], [FRAME.RBye, 3, 0]]);
  const d = new FrameDecoder('client');
  const got = [];
  for (const b of stream) got.push(...d.push(Uint8Array.of(b)));
  d.end();
  assert.equal(got.map((f) => Buffer.from(f.body).toString('hex')), whole.map((f) => Buffer.from(f.body).toString('hex')));
});

test('a stream not starting with the preamble is refused, quoting what came', () => {
  const d = new FrameDecoder('client', 'ssh://h/x');
  try {
    d.push(Buffer.from('Welcome to host!\n'));
    assert.unreachable();
  } catch (err) {
    assert.is((err as ToolkitError).code, 'PROTOCOL');
    assert.match((err as Error).message, /Welcome to host/);
    assert.match((err as Error).message, /login script/);
  }
});

test('lengths outside 5..16 MiB are refused from the header alone', () => {
  const header = (len: number, type: number) => { const b = Buffer.alloc(9); b.writeUInt32LE(len, 0); b[4] = type; return b; };
  assert.is(codeOf(() => new FrameDecoder('client').push(cat(PREAMBLE, header(4, FRAME.RBye)))), 'PROTOCOL');
  assert.is(codeOf(() => new FrameDecoder('client').push(cat(PREAMBLE, header(MAX_FRAME_BYTES + 1, FRAME.RChunk)))), 'PROTOCOL');
  assert.is(codeOf(() => new FrameDecoder('client').push(cat(PREAMBLE, header(0xffffffff, FRAME.RChunk)))), 'PROTOCOL');
  assert.is(codeOf(() => encodeFrame(FRAME.RChunk, 1, new Uint8Array(MAX_FRAME_BYTES))), 'PROTOCOL');
});

test('unknown types, and requests at a client or replies at a server, are refused', () => {
  assert.is(codeOf(() => new FrameDecoder('client').push(cat(PREAMBLE, encodeFrame(0x55, 1)))), 'PROTOCOL');
  assert.is(codeOf(() => new FrameDecoder('client').push(cat(PREAMBLE, encodeFrame(FRAME.TBye, 1)))), 'PROTOCOL');
  assert.is(codeOf(() => new FrameDecoder('server').push(cat(PREAMBLE, encodeFrame(FRAME.RBye, 1)))), 'PROTOCOL');
  assert.is(codeOf(() => new FrameDecoder('server').push(cat(PREAMBLE, encodeFrame(FRAME.TBye, 1)))), 'no error');
});

test('a stream ending inside the preamble or a frame is a dropped connection; between frames it is fine', () => {
  const d1 = new FrameDecoder('client');
  d1.push(PREAMBLE.subarray(0, 3));
  assert.is(codeOf(() => d1.end()), 'TRANSPORT');
  const d2 = new FrameDecoder('client');
  d2.push(cat(PREAMBLE, encodeFrame(FRAME.RBye, 1).subarray(0, 7)));
  assert.is(codeOf(() => d2.end()), 'TRANSPORT');
  const d3 = new FrameDecoder('client');
  d3.push(cat(PREAMBLE, encodeFrame(FRAME.RBye, 1)));
  assert.is(codeOf(() => d3.end()), 'no error');
  assert.is(codeOf(() => new FrameDecoder('client').end()), 'TRANSPORT');
});

test('after a refusal the decoder stays refused', () => {
  const d = new FrameDecoder('client');
  assert.is(codeOf(() => d.push(Buffer.from('nope'))), 'PROTOCOL');
  assert.is(codeOf(() => d.push(PREAMBLE)), 'PROTOCOL');
});

test.run();
