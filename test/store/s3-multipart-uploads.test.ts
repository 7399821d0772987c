/**
 * Unfinished multipart uploads on a real Ceph radosgw (test/helpers/ceph-cluster.ts): the
 * listing follows its pages (one upload a page here), and aborting the uploads of a key takes
 * exactly that key's, not those of longer keys it prefixes. Skipped with the reason printed where
 * Ceph cannot run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { S3Client } from '../../lib/store/s3-client.js';
import { abortUploadsOf, listUploads } from '../../lib/store/s3-multipart-uploads.js';
import { parseUploadId } from '../../lib/store/s3-xml.js';
import { type CephCluster, startCeph } from '../helpers/ceph-cluster.js';
import { s3TestSettings } from '../helpers/s3-store.js';

let ceph: CephCluster | string = 'not started';
let client: S3Client;

test.before(async () => {
  ceph = await startCeph();
  if (typeof ceph === 'string') return;
  client = new S3Client(s3TestSettings(ceph));
  await client.send({ method: 'PUT', bucket: 'fxu' });
});
test.after(() => {
  if (typeof ceph === 'string') return;
  client.close();
  ceph.stop();
});

async function begin(key: string): Promise<string> {
  return parseUploadId((await client.send({ method: 'POST', bucket: 'fxu', key, query: [['uploads', '']] })).body.toString())!;
}

async function keysOf(prefix: string, pageSize?: number): Promise<string[]> {
  const keys: string[] = [];
  for await (const u of listUploads(client, 'fxu', prefix, { pageSize })) keys.push(u.key);
  return keys.sort();
}

test('pages are followed; only the exact key\'s uploads are aborted', async () => {
  if (typeof ceph === 'string') { console.log(`  (skipped: ${ceph})`); return; }
  const ids = [await begin('a/x.fxar'), await begin('a/x.fxar'), await begin('a/x.fxar')];
  await begin('a/x.fxar.old');
  await begin('b/other');
  assert.is(new Set(ids).size, 3);
  assert.equal(await keysOf('a/', 1), ['a/x.fxar', 'a/x.fxar', 'a/x.fxar', 'a/x.fxar.old']);
  assert.equal(await keysOf('a/'), await keysOf('a/', 1), 'one page and pages of one list the same');
  assert.is(await abortUploadsOf(client, 'fxu', 'a/x.fxar', { pageSize: 1 }), 3);
  assert.equal(await keysOf(''), ['a/x.fxar.old', 'b/other']);
  assert.is(await abortUploadsOf(client, 'fxu', 'a/x.fxar'), 0);
});

test.run();
