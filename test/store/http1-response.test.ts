/**
 * The HTTP/1.1 response parser (lib/store/http1-response.ts) reads bytes a server, or anything
 * posing as one, sent: real framings are read right however the bytes are split, what RFC 9112
 * says to reject is rejected with a named HttpProtocolError, and seeded mutations of real
 * responses only ever end in a response within the body limit or in that error.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Http1ParseOptions, HttpProtocolError, Http1ResponseParser, MAX_HEAD_BYTES } from '../../lib/store/http1-response.js';
import { fuzzSeeds, mulberry32 } from '../helpers/seeded.js';

const GET: Http1ParseOptions = { head: false, maxBody: 1 << 20 };

/** Feeds `wire` in pieces cut at `cuts`, then the close when `close`; the response, or what was thrown. */
function parse(wire: Buffer, opts: Http1ParseOptions = GET, cuts: number[] = [], close = false) {
  const p = new Http1ResponseParser(opts);
  let at = 0;
  for (const c of [...cuts, wire.length]) {
    p.push(wire.subarray(at, c));
    at = c;
  }
  if (close) p.end();
  return p.result();
}

const ok = (body: string, extra = '') => Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\nETag: "e1"\r\n${extra}\r\n${body}`);
const CHUNKED = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/xml\r\n\r\n' +
  '5;name=value\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n');

test('a Content-Length body and a chunked one are read whole at every split point', () => {
  const a = ok('<xml>body</xml>');
  const c = CHUNKED;
  for (let cut = 0; cut <= a.length; cut++) {
    const r = parse(a, GET, [cut]);
    assert.is(r.body.toString(), '<xml>body</xml>');
    assert.is(r.headers.etag, '"e1"');
    assert.ok(r.reusable);
  }
  for (let cut = 0; cut <= c.length; cut++) {
    for (const second of [cut, Math.min(c.length, cut + 3)]) {
      const r = parse(c, GET, [cut, second]);
      assert.is(r.body.toString(), 'hello, world', `cut at ${cut}, ${second}`);
      assert.is(r.headers['content-type'], 'application/xml');
      assert.ok(r.reusable);
    }
  }
});

test('framing: interim 100, HEAD, 204 and 304 without bodies, bodies until the close, repeated fields', () => {
  const r = parse(Buffer.from(`HTTP/1.1 100 Continue\r\n\r\n${ok('x').toString()}`));
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'x');
  const head = parse(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n'), { ...GET, head: true });
  assert.is(head.body.length, 0);
  assert.is(head.headers['content-length'], '1234');
  assert.is(parse(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n')).status, 204);
  assert.is(parse(Buffer.from('HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n')).body.length, 0);
  const untilClose = parse(Buffer.from('HTTP/1.1 200 OK\r\n\r\nall of it'), GET, [20], true);
  assert.is(untilClose.body.toString(), 'all of it');
  assert.not.ok(untilClose.reusable);
  const twice = parse(Buffer.from('HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 0\r\n\r\n'));
  assert.is(twice.headers['x-a'], '1, 2');
});

test('reuse: Connection: close, HTTP/1.0, a length beside chunked and bytes after the response end it', () => {
  assert.not.ok(parse(ok('x', 'Connection: close\r\n')).reusable);
  assert.not.ok(parse(Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx')).reusable);
  assert.ok(parse(Buffer.from('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx')).reusable);
  const smuggled = parse(Buffer.from(CHUNKED.toString().replace('Transfer-Encoding', 'Content-Length: 3\r\nTransfer-Encoding')));
  assert.is(smuggled.body.toString(), 'hello, world');
  assert.not.ok(smuggled.reusable);
  assert.not.ok(parse(Buffer.concat([ok('x'), Buffer.from('HTTP/1.1 200')])).reusable);
});

test('rejected, each with the problem named', () => {
  const cases: Array<[string | Buffer, RegExp, Partial<Http1ParseOptions>?]> = [
    ['HTTP/2 200 OK\r\n\r\n', /status line 'HTTP\/2 200 OK'/],
    ['HTTP/1.1 99 Odd\r\n\r\n', /status line/],
    ['HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', /header line 'no colon here'/],
    ['HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n', /header line ' folded'/],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n', /content-length '1, 2'/],
    ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /content-length '-1'/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', /transfer-encoding 'gzip' does not end in chunked/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /chunk size 'zz'/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n', /chunk data longer than its size/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n', /chunk size line not ended by CRLF/],
    ['HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n', /body of 11 bytes is over 10/, { maxBody: 10 }],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\n', /body over 10 bytes/, { maxBody: 10 }],
    ['HTTP/1.1 200 OK\r\n\r\n12345678901', /body over 10 bytes/, { maxBody: 10 }],
    [`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`, /head over 65536 bytes/],
    [`HTTP/1.1 100 Continue\r\nX: ${'a'.repeat(MAX_HEAD_BYTES / 2)}\r\n\r\nHTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_HEAD_BYTES / 2)}\r\n\r\n`, /head over 65536 bytes/],
  ];
  for (const [wire, message, opts] of cases) {
    try {
      parse(Buffer.from(wire), { ...GET, ...opts }, [], true);
      assert.unreachable(`accepted: ${String(wire).slice(0, 60)}`);
    } catch (err) {
      assert.instance(err, HttpProtocolError, String(err));
      assert.match((err as Error).message, message);
    }
  }
});

test('a connection closed early: before any byte a hang-up, within a response a cut-short one (both ECONNRESET)', () => {
  const p = new Http1ResponseParser(GET);
  assert.not.ok(p.started);
  assert.throws(() => p.end(), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET' && /socket hang up/.test(e.message));
  const q = new Http1ResponseParser(GET);
  q.push(ok('abcdef').subarray(0, 45));
  assert.ok(q.started);
  assert.throws(() => q.end(), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET' && /closed before the response ended/.test(e.message));
});

test('seeded mutations and splits end in a response within the limit or an HttpProtocolError, never anything else', () => {
  const wires = [ok('<Error><Code>NoSuchKey</Code></Error>'), CHUNKED, Buffer.from(`HTTP/1.1 100 Continue\r\n\r\n${ok('y').toString()}`), Buffer.from('HTTP/1.1 200 OK\r\n\r\nuntil close')];
  const junk = ['\r\n', '\r\n\r\n', ':', 'Content-Length: 99999999\r\n', 'Transfer-Encoding: chunked\r\n', '0\r\n\r\n', 'ffffffffffff\r\n', 'HTTP/1.1 '];
  for (const seed of fuzzSeeds(1, 3000)) {
    const rnd = mulberry32(seed);
    let s = wires[seed % wires.length]!.toString('latin1');
    for (let i = 1 + Math.floor(rnd() * 5); i > 0; i--) {
      const at = Math.floor(rnd() * (s.length + 1));
      const r = rnd();
      if (r < 0.3) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rnd() * 8));
      else if (r < 0.6) s = s.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 256)) + s.slice(at);
      else if (r < 0.85) s = s.slice(0, at) + junk[Math.floor(rnd() * junk.length)] + s.slice(at);
      else s = s.slice(0, at);
    }
    const wire = Buffer.from(s, 'latin1');
    const cuts = [Math.floor(rnd() * wire.length), Math.floor(rnd() * wire.length)].sort((a, b) => a - b);
    const opts = { head: rnd() < 0.1, maxBody: 4096 };
    const close = rnd() < 0.5;
    try {
      const p = new Http1ResponseParser(opts);
      p.push(wire.subarray(0, cuts[0]));
      p.push(wire.subarray(cuts[0], cuts[1]));
      p.push(wire.subarray(cuts[1]));
      if (close) p.end();
      if (!p.done) continue; // still waiting for bytes: a timeout's business
      const res = p.result();
      assert.ok(res.status >= 200 && res.status <= 599 && res.body.length <= 4096, `seed ${seed}`);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e instanceof HttpProtocolError || e.code === 'ECONNRESET' || /before the response ended/.test(e.message)) continue;
      throw new Error(`seed ${seed}: ${e.stack}`);
    }
  }
});

test.run();
