/**
 * An s3:// store behind TLS with a private CA, as in-house Ceph clusters often are: radosgw
 * serves https with a certificate of a throwaway CA (openssl). Without the CA the command fails
 * at once, naming the certificate problem; with AWS_CA_BUNDLE, or NODE_EXTRA_CA_CERTS (which the
 * launcher keeps from node and passes on for S3 only), it works.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CephCluster, startCeph } from '../helpers/ceph-cluster.js';
import { fxcp, haveCommand, tempDir } from '../helpers/run-cli.js';
import { compareTrees } from '../helpers/tree-compare.js';

const t = tempDir('fx-s3tls-');
let ceph: CephCluster | string = 'not started';
const ca = join(t.path, 'ca.pem');

/** A CA, and a certificate for 127.0.0.1 it signed: the files radosgw and the client need. */
function makeCertificates(): string | null {
  const ssl = (...args: string[]) => spawnSync('openssl', args, { cwd: t.path, encoding: 'utf8' });
  const steps = [
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=fxcp test CA'],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rgw.key', '-out', 'rgw.csr', '-subj', '/CN=127.0.0.1'],
    ['x509', '-req', '-in', 'rgw.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'rgw.pem', '-days', '2', '-extfile', 'san.cnf'],
  ];
  writeFileSync(join(t.path, 'san.cnf'), 'subjectAltName = IP:127.0.0.1\n');
  for (const s of steps) {
    const r = ssl(...s);
    if (r.status !== 0) return `openssl ${s[0]} failed: ${r.stderr.trim().split('\n').pop()}`;
  }
  return null;
}

test.before(async () => {
  if (!haveCommand('openssl')) { ceph = 'openssl is not installed'; return; }
  const problem = makeCertificates();
  if (problem) { ceph = problem; return; }
  ceph = await startCeph({ tls: { cert: join(t.path, 'rgw.pem'), key: join(t.path, 'rgw.key') } });
});
test.after(() => { if (typeof ceph !== 'string') ceph.stop(); t.cleanup(); });

test('a private CA: refused without it, trusted through AWS_CA_BUNDLE and through NODE_EXTRA_CA_CERTS', () => {
  if (typeof ceph === 'string') { console.log(`  (skipped: ${ceph})`); return; }
  assert.match(ceph.endpoint, /^https:\/\/127\.0\.0\.1:/);
  // The machine's own CA settings (AWS_CA_BUNDLE, NODE_EXTRA_CA_CERTS: a distribution bundle) are emptied.
  const env = { ...ceph.env, XDG_CACHE_HOME: join(t.path, 'cache'), FOXING_S3_RETRY_SECONDS: '2', AWS_CA_BUNDLE: '', NODE_EXTRA_CA_CERTS: '' };
  const run = (args: string[], extra: Record<string, string> = {}) => fxcp(args, { env: { ...env, ...extra } });
  const refused = run(['store', 'init', 's3://tls/a', '--create-bucket', '--json']);
  assert.is(refused.code, 2, refused.stderr);
  const e = JSON.parse(refused.stderr);
  assert.is(e.code, 'S3_UNREACHABLE');
  assert.match(e.message, /^s3:\/\/tls: PUT to https:\/\/127.0.0.1:\d+ failed: .*certificate.*AWS_CA_BUNDLE/, e.message);
  const viaAws = run(['store', 'init', 's3://tls/a', '--create-bucket'], { AWS_CA_BUNDLE: ca });
  assert.is(viaAws.code, 0, `AWS_CA_BUNDLE: ${viaAws.stderr}`);
  const src = join(t.path, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'f.txt'), 'over TLS\n'.repeat(1000));
  const snap = run(['snap', 'create', src, 's3://tls/a'], { NODE_EXTRA_CA_CERTS: ca });
  assert.is(snap.code, 0, `NODE_EXTRA_CA_CERTS: ${snap.stderr}`);
  const out = join(t.path, 'out');
  const restore = run(['snap', 'restore', 's3://tls/a', '-o', out], { NODE_EXTRA_CA_CERTS: ca });
  assert.is(restore.code, 0, restore.stderr);
  assert.equal(compareTrees(src, out), []);
});

test.run();
