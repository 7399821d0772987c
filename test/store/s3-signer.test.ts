/** SigV4 against the worked examples of AWS's S3 documentation ("Signature Calculations for the Authorization Header"). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalQuery, EMPTY_SHA256, s3EncodePath, sha256Hex, signRequest } from '../../lib/store/s3-signer.js';

const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const now = new Date('2013-05-24T00:00:00Z');
const base = { host: 'examplebucket.s3.amazonaws.com', region: 'us-east-1', credentials, now };

test('GET object with a range (the documented signature)', () => {
  const h = signRequest({ ...base, method: 'GET', path: '/test.txt', query: [], headers: { Range: 'bytes=0-9' }, payloadHash: EMPTY_SHA256 });
  assert.is(h.authorization, 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
    'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  assert.is(h['x-amz-date'], '20130524T000000Z');
});

test('PUT object with a body and extra headers (the documented signature)', () => {
  const body = 'Welcome to Amazon S3.';
  const h = signRequest({ ...base, method: 'PUT', path: s3EncodePath('/test$file.text'), query: [],
    headers: { Date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-storage-class': 'REDUCED_REDUNDANCY' }, payloadHash: sha256Hex(body) });
  assert.match(h.authorization!, /SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd$/);
});

test('GET bucket list with a query (the documented signature); query order does not matter', () => {
  for (const query of [[['max-keys', '2'], ['prefix', 'J']], [['prefix', 'J'], ['max-keys', '2']]] as Array<Array<[string, string]>>) {
    const h = signRequest({ ...base, method: 'GET', path: '/', query, headers: {}, payloadHash: EMPTY_SHA256 });
    assert.match(h.authorization!, /Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7$/);
  }
});

test('encoding: unreserved characters kept, everything else percent-encoded; slashes kept in paths only', () => {
  assert.is(s3EncodePath('/b/a b/x+y/~_-.!*'), '/b/a%20b/x%2By/~_-.%21%2A');
  assert.is(canonicalQuery([['uploads', ''], ['prefix', 'a/b c']]), 'prefix=a%2Fb%20c&uploads=');
});

test('a session token is sent and signed', () => {
  const h = signRequest({ ...base, credentials: { ...credentials, sessionToken: 'tok' }, method: 'GET', path: '/', query: [], headers: {}, payloadHash: EMPTY_SHA256 });
  assert.is(h['x-amz-security-token'], 'tok');
  assert.match(h.authorization!, /SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
});

test.run();
