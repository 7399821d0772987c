/** Where S3 settings come from (lib/store/s3-settings.ts): the URL, the AWS variables and files, in the AWS tools' order. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToolkitError, UsageError } from '../../lib/errors/index.js';
import { parseS3Url, resolveS3Settings } from '../../lib/store/s3-settings.js';

const files = (m: Record<string, string>) => (p: string) => m[p] ?? null;

test('s3://BUCKET/PREFIX', () => {
  assert.equal(parseS3Url('s3://backups/host1'), { bucket: 'backups', prefix: 'host1' });
  assert.equal(parseS3Url('s3://backups/a/b/'), { bucket: 'backups', prefix: 'a/b' });
  assert.equal(parseS3Url('s3://backups'), { bucket: 'backups', prefix: '' });
  for (const bad of ['s3://', 's3://B/x', 's3://ab', 's3://a_b/x', 's3://bkt/a//b', 's3://bkt/a/../b']) {
    assert.throws(() => parseS3Url(bad), (e: unknown) => e instanceof UsageError && (e as Error).message.startsWith(bad), bad);
  }
});

test('environment first: endpoint, region, keys; custom endpoints are path-style', () => {
  const s = resolveS3Settings({ env: { HOME: '/h', AWS_ENDPOINT_URL: 'http://127.0.0.1:7480/', AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'S', AWS_REGION: 'eu-1' }, readFile: files({}) });
  assert.equal([s.endpoint, s.region, s.pathStyle, s.credentials], ['http://127.0.0.1:7480', 'eu-1', true, { accessKeyId: 'A', secretAccessKey: 'S' }]);
  const o = resolveS3Settings({ env: { HOME: '/h', AWS_ENDPOINT_URL: 'http://x', AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'S' }, readFile: files({}), endpoint: 'https://y:9000' });
  assert.is(o.endpoint, 'https://y:9000');
  const aws = resolveS3Settings({ env: { HOME: '/h', AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'S', AWS_DEFAULT_REGION: 'ap-2' }, readFile: files({}) });
  assert.equal([aws.endpoint, aws.pathStyle], ['https://s3.ap-2.amazonaws.com', false]);
});

test('profiles: AWS_PROFILE in ~/.aws/credentials and [profile X] in ~/.aws/config', () => {
  const fs = files({
    '/h/.aws/credentials': '[default]\naws_access_key_id = D\naws_secret_access_key = DS\n[ceph]\naws_access_key_id=C\naws_secret_access_key=CS # not a comment\n',
    '/h/.aws/config': '[default]\nregion = r0\n[profile ceph]\nregion = r1\nendpoint_url = https://ceph:7480\nca_bundle = /ca.pem\n',
    '/ca.pem': 'PEM',
  });
  const d = resolveS3Settings({ env: { HOME: '/h' }, readFile: fs });
  assert.equal([d.credentials.accessKeyId, d.region, d.endpoint], ['D', 'r0', 'https://s3.r0.amazonaws.com']);
  const c = resolveS3Settings({ env: { HOME: '/h', AWS_PROFILE: 'ceph' }, readFile: fs });
  assert.equal([c.credentials.accessKeyId, c.credentials.secretAccessKey, c.region, c.endpoint, c.pathStyle, c.ca], ['C', 'CS # not a comment', 'r1', 'https://ceph:7480', true, 'PEM']);
});

test('no credentials, a bad endpoint, a missing CA file, a bad retry budget: one clear error each', () => {
  assert.throws(() => resolveS3Settings({ env: { HOME: '/h' }, readFile: files({}) }),
    (e: unknown) => e instanceof ToolkitError && e.code === 'S3_NO_CREDENTIALS' && /AWS_ACCESS_KEY_ID/.test((e as Error).message));
  const keys = { HOME: '/h', AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'S' };
  assert.throws(() => resolveS3Settings({ env: { ...keys, AWS_ENDPOINT_URL: 'ftp://x' }, readFile: files({}) }), (e: unknown) => e instanceof UsageError);
  assert.throws(() => resolveS3Settings({ env: { ...keys, AWS_ENDPOINT_URL: 'https://x', AWS_CA_BUNDLE: '/nope.pem' }, readFile: files({}) }), (e: unknown) => e instanceof UsageError && /\/nope.pem/.test((e as Error).message));
  // Node's own variable, as the launcher passes it on: read for https only, skipped when missing.
  const extra = { ...keys, FOXING_EXTRA_CA_CERTS: '/extra.pem' };
  assert.is(resolveS3Settings({ env: { ...extra, AWS_ENDPOINT_URL: 'https://x' }, readFile: files({ '/extra.pem': 'X' }) }).ca, 'X');
  assert.is(resolveS3Settings({ env: { ...extra, AWS_ENDPOINT_URL: 'http://x' }, readFile: files({ '/extra.pem': 'X' }) }).ca, undefined);
  assert.is(resolveS3Settings({ env: { ...extra, AWS_ENDPOINT_URL: 'https://x' }, readFile: files({}) }).ca, undefined);
  assert.is(resolveS3Settings({ env: { ...extra, AWS_ENDPOINT_URL: 'https://x', AWS_CA_BUNDLE: '/b.pem' }, readFile: files({ '/extra.pem': 'X', '/b.pem': 'B' }) }).ca, 'B\nX');
  assert.throws(() => resolveS3Settings({ env: { ...keys, FOXING_S3_RETRY_SECONDS: 'x' }, readFile: files({}) }), (e: unknown) => e instanceof UsageError);
  assert.is(resolveS3Settings({ env: { ...keys, FOXING_S3_RETRY_SECONDS: '2.5' }, readFile: files({}) }).retryMs, 2500);
});

test('the silence timeout is shorter than the retry budget unless set: a silent request is sent again within it', () => {
  const keys = { HOME: '/h', AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'S' };
  const of = (env: Record<string, string>) => resolveS3Settings({ env: { ...keys, ...env }, readFile: files({}) });
  assert.equal([of({}).retryMs, of({}).timeoutMs], [30_000, 10_000]);
  assert.is(of({ FOXING_S3_RETRY_SECONDS: '12' }).timeoutMs, 4_000);
  assert.is(of({ FOXING_S3_RETRY_SECONDS: '3' }).timeoutMs, 2_000);
  assert.is(of({ FOXING_S3_RETRY_SECONDS: '600' }).timeoutMs, 10_000);
  for (const retry of [6, 12, 30, 300]) {
    const s = of({ FOXING_S3_RETRY_SECONDS: String(retry) });
    assert.ok(2 * s.timeoutMs < s.retryMs, `retry ${retry} s: timeout ${s.timeoutMs} ms`);
  }
  // Set, it is taken as it is.
  assert.is(of({ FOXING_S3_TIMEOUT_SECONDS: '45' }).timeoutMs, 45_000);
  assert.throws(() => of({ FOXING_S3_TIMEOUT_SECONDS: '-1' }), (e: unknown) => e instanceof UsageError);
});

test.run();
