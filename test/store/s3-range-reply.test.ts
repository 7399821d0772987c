/**
 * The ranged-GET answer check (lib/store/s3-range-reply.ts): the bytes of a reply a server (or
 * anything posing as one) sent are used only at the offset they are proved to have. The rows
 * are answers radosgw 16 gave (captured on the test cluster); then seeded mutations of them,
 * where every outcome is either bytes that are exactly the object's at the offset returned, or
 * an S3_ERROR naming the object.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToolkitError } from '../../lib/errors/index.js';
import { type AskedRange, rangeHeader, rangeReply } from '../../lib/store/s3-range-reply.js';
import { fuzzSeeds, mulberry32 } from '../helpers/seeded.js';

const OBJECT = Buffer.from('0123456789');
const WHERE = 's3://b/p/packs/ab/ab01.pack';
const reply = (status: number, contentRange: string | undefined, body: string | Buffer) =>
  ({ status, headers: contentRange === undefined ? {} : { 'content-range': contentRange }, body: Buffer.from(body) });
const isBad = (fn: () => unknown, why: RegExp) => {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ToolkitError);
    assert.is((e as ToolkitError).code, 'S3_ERROR');
    assert.match((e as Error).message, new RegExp(`^${WHERE}: bad answer to GET of bytes=`));
    assert.match((e as Error).message, why);
    return;
  }
  assert.unreachable('accepted');
};

test('answers radosgw gave: ranges, a range past the end, suffixes, 416', () => {
  assert.is(rangeHeader({ offset: 2, length: 4 }), 'bytes=2-5');
  assert.is(rangeHeader({ suffix: 4 }), 'bytes=-4');
  const rows: Array<[AskedRange, ReturnType<typeof reply>, { data: string; start: number; size?: number }]> = [
    [{ offset: 2, length: 4 }, reply(206, 'bytes 2-5/10', '2345'), { data: '2345', start: 2, size: 10 }],
    [{ offset: 8, length: 13 }, reply(206, 'bytes 8-9/10', '89'), { data: '89', start: 8, size: 10 }],
    [{ suffix: 4 }, reply(206, 'bytes 6-9/10', '6789'), { data: '6789', start: 6, size: 10 }],
    [{ suffix: 40 }, reply(206, 'bytes 0-9/10', '0123456789'), { data: '0123456789', start: 0, size: 10 }],
    [{ offset: 10, length: 3 }, reply(416, undefined, '<?xml version="1.0"?><Error><Code>InvalidRange</Code></Error>'), { data: '', start: 10, size: undefined }],
    [{ suffix: 4 }, reply(416, 'bytes */0', ''), { data: '', start: 0, size: 0 }],
    // A server or proxy that ignores Range: the whole object, the range cut out of it.
    [{ offset: 2, length: 4 }, reply(200, undefined, '0123456789'), { data: '2345', start: 2, size: 10 }],
    [{ suffix: 4 }, reply(200, undefined, '0123456789'), { data: '6789', start: 6, size: 10 }],
    [{ offset: 12, length: 4 }, reply(200, undefined, '0123456789'), { data: '', start: 10, size: 10 }],
    [{ offset: 0, length: 4 }, reply(206, 'bytes 0-3/*', '0123'), { data: '0123', start: 0, size: undefined }],
  ];
  for (const [asked, res, want] of rows) {
    const got = rangeReply(WHERE, asked, res);
    assert.equal({ data: got.data.toString(), start: got.start, size: got.size }, want, `${rangeHeader(asked)} ${res.status}`);
  }
});

test('answers for other bytes than asked, or that disagree with themselves, are refused naming the object', () => {
  isBad(() => rangeReply(WHERE, { offset: 2, length: 4 }, reply(206, 'bytes 3-6/10', '3456')), /is not the range asked for/);
  isBad(() => rangeReply(WHERE, { offset: 2, length: 4 }, reply(206, 'bytes 2-7/10', '234567')), /is not the range asked for/);
  isBad(() => rangeReply(WHERE, { offset: 2, length: 4 }, reply(206, 'bytes 2-5/10', '234')), /announces 4 bytes, the body holds 3/);
  isBad(() => rangeReply(WHERE, { offset: 2, length: 4 }, reply(206, undefined, '2345')), /Content-Range '' is not bytes FIRST-LAST\/TOTAL/);
  isBad(() => rangeReply(WHERE, { offset: 2, length: 4 }, reply(206, 'bytes 2-5/4', '2345')), /is not a range of the object/);
  isBad(() => rangeReply(WHERE, { offset: 5, length: 1 }, reply(206, 'bytes 5-4/10', '')), /is not a range of the object/);
  isBad(() => rangeReply(WHERE, { suffix: 4 }, reply(206, 'bytes 5-8/10', '5678')), /is not the object's last 4 bytes/);
  isBad(() => rangeReply(WHERE, { suffix: 2 }, reply(206, 'bytes 6-9/10', '6789')), /is not the object's last 2 bytes/);
  isBad(() => rangeReply(WHERE, { offset: 0, length: 4 }, reply(204, undefined, '')), /HTTP 204/);
});

test('seeded mutations of real answers: the bytes returned are the object\'s at the offset returned, or S3_ERROR', () => {
  const real: Array<[AskedRange, string, string]> = [
    [{ offset: 2, length: 4 }, 'bytes 2-5/10', '2345'], [{ offset: 8, length: 13 }, 'bytes 8-9/10', '89'],
    [{ suffix: 4 }, 'bytes 6-9/10', '6789'], [{ suffix: 40 }, 'bytes 0-9/10', '0123456789'],
  ];
  let accepted = 0, refused = 0;
  for (const seed of fuzzSeeds(1, 4000)) {
    const rnd = mulberry32(seed);
    const [asked, cr0, body0] = real[seed % real.length]!;
    let cr = cr0;
    let body = body0;
    let status = 206;
    for (let i = 0, n = 1 + Math.floor(rnd() * 3); i < n; i++) {
      const r = rnd();
      const at = Math.floor(rnd() * (cr.length + 1));
      if (r < 0.35) cr = cr.slice(0, at) + '0123456789-/* bx'[Math.floor(rnd() * 16)] + cr.slice(at + (rnd() < 0.5 ? 1 : 0));
      else if (r < 0.5) cr = cr.slice(0, at);
      else if (r < 0.7) {
        // A body from elsewhere in the object, of another length.
        const from = Math.floor(rnd() * 11);
        body = OBJECT.toString().slice(from, from + Math.floor(rnd() * 11));
      } else if (r < 0.8) body = body.slice(0, Math.floor(rnd() * (body.length + 1)));
      else if (r < 0.9) status = [200, 206, 206, 416, 500][Math.floor(rnd() * 5)]!;
      else cr = `bytes ${Math.floor(rnd() * 12)}-${Math.floor(rnd() * 12)}/${rnd() < 0.8 ? 10 : Math.floor(rnd() * 12)}`;
    }
    // A 200 is the whole object (that is what the status says): mutate it as a whole object only.
    const res = reply(status, cr, status === 200 ? OBJECT : body);
    let got;
    try {
      got = rangeReply(WHERE, asked, res);
    } catch (e) {
      assert.instance(e, ToolkitError, `seed ${seed}: ${e}`);
      assert.is((e as ToolkitError).code, 'S3_ERROR', `seed ${seed}`);
      assert.ok((e as Error).message.startsWith(`${WHERE}: `), `seed ${seed}: ${(e as Error).message}`);
      assert.not.match((e as Error).message, /\n/);
      refused++;
      continue;
    }
    accepted++;
    // The body is only trusted to be the object's bytes when the answer was consistent: then
    // it must be what the object holds there (the mutated bodies were cut from the object).
    const claimed = OBJECT.subarray(got.start, got.start + got.data.byteLength);
    if (got.data.toString() !== claimed.toString()) {
      // Consistent headers over a body from elsewhere cannot be detected here (the records'
      // hashes catch those); but the header must then announce this body's length at this start.
      assert.is(res.status, 206, `seed ${seed}`);
      const m = /^bytes (\d+)-(\d+)\//.exec(cr)!;
      assert.equal([Number(m[1]), Number(m[2]) - Number(m[1]) + 1], [got.start, got.data.byteLength], `seed ${seed}`);
    }
    if ('suffix' in asked) assert.ok(got.data.byteLength <= asked.suffix, `seed ${seed}`);
    else {
      assert.ok(got.data.byteLength <= asked.length, `seed ${seed}`);
      if (got.data.byteLength > 0) assert.is(got.start, asked.offset, `seed ${seed}`);
    }
    if (got.size !== undefined && got.data.byteLength > 0) assert.ok(got.start + got.data.byteLength <= got.size, `seed ${seed}`);
  }
  assert.ok(accepted > 100 && refused > 100, `${accepted} accepted, ${refused} refused`);
});

test.run();
