/**
 * The S3 XML reader (lib/store/s3-xml.ts) reads bytes a server (or anything posing as one) sent:
 * real responses are read right, and seeded mutations of them never throw and yield only
 * well-formed fields.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { completeMultipartBody, parseErrorBody, parseListPage, parseUploadId, parseUploads, xmlDecode } from '../../lib/store/s3-xml.js';
import { fuzzSeeds, mulberry32 } from '../helpers/seeded.js';

const LIST = '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>' +
  '<Prefix>p/packs/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>' +
  '<Contents><Key>p/packs/ab/ab01.pack</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><Size>123</Size></Contents>' +
  '<Contents><Key>p/a&amp;b</Key><Size>0</Size></Contents><NextContinuationToken>tok&lt;1</NextContinuationToken></ListBucketResult>';
const ERROR = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>it &quot;is&quot; gone</Message><RequestId>x</RequestId></Error>';
const UPLOAD = '<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>2~abc</UploadId></InitiateMultipartUploadResult>';
const UPLOADS = '<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><Upload><Key>p/tmp/pack-1-x</Key><UploadId>2~u</UploadId><Initiated>2026-01-01T00:00:00.000Z</Initiated></Upload></ListMultipartUploadsResult>';
/** A page of an export's key with more to come (s3-multipart-uploads.ts follows the markers). */
const UPLOADS_PAGE = '<ListMultipartUploadsResult><Bucket>b</Bucket><Prefix>a/x.fxar</Prefix><IsTruncated>true</IsTruncated>' +
  '<NextKeyMarker>a/x.fxar</NextKeyMarker><NextUploadIdMarker>2~v&amp;w</NextUploadIdMarker>' +
  '<Upload><Key>a/x.fxar</Key><UploadId>2~v&amp;w</UploadId><Initiated>2026-01-02T00:00:00.000Z</Initiated></Upload></ListMultipartUploadsResult>';

test('real responses', () => {
  assert.equal(parseListPage(LIST), { objects: [{ key: 'p/packs/ab/ab01.pack', size: 123 }, { key: 'p/a&b', size: 0 }], nextToken: 'tok<1' });
  assert.equal(parseListPage(LIST.replace('<IsTruncated>true', '<IsTruncated>false')).nextToken, undefined);
  assert.equal(parseErrorBody(ERROR), { code: 'NoSuchKey', message: 'it "is" gone' });
  assert.equal(parseErrorBody(''), {});
  assert.is(parseUploadId(UPLOAD), '2~abc');
  assert.equal(parseUploads(UPLOADS).uploads, [{ key: 'p/tmp/pack-1-x', uploadId: '2~u', initiated: '2026-01-01T00:00:00.000Z' }]);
  assert.equal(parseUploads(UPLOADS_PAGE), { uploads: [{ key: 'a/x.fxar', uploadId: '2~v&w', initiated: '2026-01-02T00:00:00.000Z' }], nextKeyMarker: 'a/x.fxar', nextUploadIdMarker: '2~v&w' });
  assert.equal(parseUploads(UPLOADS_PAGE.replace('<IsTruncated>true', '<IsTruncated>false')).nextKeyMarker, undefined);
  assert.is(xmlDecode('&#x41;&#66;&bogus;&#x110000;'), 'AB&bogus;&#x110000;');
  assert.match(completeMultipartBody(['"e1"', '"e2"']), /<Part><PartNumber>2<\/PartNumber><ETag>"e2"<\/ETag><\/Part>/);
});

test('seeded mutations never throw; fields stay strings and numbers', () => {
  const docs = [LIST, ERROR, UPLOAD, UPLOADS, UPLOADS_PAGE];
  for (const seed of fuzzSeeds(1, 3000)) {
    const rnd = mulberry32(seed);
    let s = docs[seed % docs.length]!;
    const edits = 1 + Math.floor(rnd() * 6);
    for (let i = 0; i < edits; i++) {
      const at = Math.floor(rnd() * (s.length + 1));
      const r = rnd();
      if (r < 0.3) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rnd() * 20));
      else if (r < 0.6) s = s.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 0x3000)) + s.slice(at);
      else if (r < 0.8) s = s.slice(0, at) + ['<Key>', '</Key>', '<Contents>', '&#x', '&amp', '<Error>', '</Error>'][Math.floor(rnd() * 7)] + s.slice(at);
      else s = s.slice(0, at);
    }
    try {
      const l = parseListPage(s);
      for (const o of l.objects) assert.ok(typeof o.key === 'string' && o.key !== '' && typeof o.size === 'number');
      const e = parseErrorBody(s);
      assert.ok(e.code === undefined || typeof e.code === 'string');
      const u = parseUploadId(s);
      assert.ok(u === undefined || typeof u === 'string');
      const ups = parseUploads(s);
      for (const up of ups.uploads) assert.ok(up.key !== '' && up.uploadId !== '');
      assert.ok(ups.nextKeyMarker === undefined || typeof ups.nextKeyMarker === 'string');
      assert.ok(ups.nextUploadIdMarker === undefined || typeof ups.nextUploadIdMarker === 'string');
    } catch (err) {
      throw new Error(`seed ${seed}: ${(err as Error).message}`);
    }
  }
});

test.run();
