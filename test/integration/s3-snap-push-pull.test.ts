/**
 * `fxcp snap push s3://... ssh://...` and `fxcp snap pull ssh://... s3://...`: a store in a
 * bucket of a real Ceph radosgw (test/helpers/ceph-cluster.ts) on the local side, a real OpenSSH
 * sshd on loopback serving a directory store on the other (as snap-push-ssh.test.ts sets it up).
 * Each direction ends with an exact restore from the receiving side and a clean check there.
 * Skipped with the reason printed where Ceph or sshd (root, openssh-server) cannot run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CephCluster, startCeph } from '../helpers/ceph-cluster.js';
import { startStoreSshd, type LoopbackSshd } from '../helpers/loopback-sshd.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';
import { compareTrees } from '../helpers/tree-compare.js';

const t = tempDir('fx-s3-ssh-');
const home = join(t.path, 'home'), allowed = join(t.path, 'allowed'), src = join(t.path, 'src');
const knownHosts = join(t.path, 'known_hosts');
let ceph: CephCluster | string = 'not started';
let sshd: LoopbackSshd | string = 'not started';
/** fxcp as a user with an empty ~/.ssh and no agent, the cluster's AWS_* variables and a cache of its own. */
let env: Record<string, string> = {};
const ok = (args: string[]) => {
  const r = fxcp(args, { env });
  assert.is(r.code, 0, `fxcp ${args.join(' ')}: ${r.stderr}`);
  return r;
};
const ids = (store: string) => JSON.parse(ok(['snap', 'list', store, '--json']).stdout).snapshots.map((s: { id: string }) => s.id);
const url = (path: string) => `ssh://root@127.0.0.1:${(sshd as LoopbackSshd).port}${path}`;
const keyArgs = (key: string) => ['--identity', (sshd as LoopbackSshd).keyFile(key), '--known-hosts', knownHosts];
const skip = () => {
  const why = typeof ceph === 'string' ? ceph : typeof sshd === 'string' ? sshd : null;
  if (why) console.log(`  (skipped: ${why})`);
  return why !== null;
};

test.before(async () => {
  mkdirSync(join(home, '.ssh'), { recursive: true });
  mkdirSync(allowed);
  sshd = await startStoreSshd(allowed, 13);
  if (typeof sshd === 'string') return;
  writeFileSync(knownHosts, sshd.knownHostsLine);
  ceph = await startCeph();
  if (typeof ceph === 'string') return;
  env = { ...ceph.env, HOME: home, SSH_AUTH_SOCK: '', XDG_CACHE_HOME: join(t.path, 'cache') };
  mkdirSync(join(src, 'd/e'), { recursive: true });
  writeFileSync(join(src, 'd/big.bin'), seededBytes(3_000_000, 41));
  writeFileSync(join(src, 'd/e/small.txt'), 'small\n');
  writeFileSync(join(src, 'top.txt'), 'top\n'.repeat(1000));
  ok(['store', 'init', 's3://fxs/local', '--create-bucket']);
  ok(['snap', 'create', src, 's3://fxs/local']);
});
test.after(() => {
  if (typeof sshd !== 'string') sshd.stop();
  if (typeof ceph !== 'string') ceph.stop();
  t.cleanup();
});

test('push from a store in a bucket over real ssh, then restore exactly from the server\'s store', () => {
  if (skip()) return;
  const remote = join(allowed, 'pushed');
  const push = ok(['snap', 'push', 's3://fxs/local', url(remote), ...keyArgs('append')]);
  assert.match(push.stdout, /pushed 1 of 1 snapshot/);
  assert.equal(ids(remote), ids('s3://fxs/local'));
  const out = join(t.path, 'out-pushed');
  ok(['snap', 'restore', remote, '-o', out, '--latest']);
  assert.equal(compareTrees(src, out), []);
  assert.match(ok(['store', 'check', remote, '--read-data']).stdout, /no problems/);
});

test('pull over real ssh into a store in a bucket (made when missing), then restore exactly from the bucket', () => {
  if (skip()) return;
  const remote = join(allowed, 'served');
  const served = ok(['snap', 'create', src, remote, '--json']);
  const id = JSON.parse(served.stdout).snapshot.id as string;
  const pull = ok(['snap', 'pull', url(remote), 's3://fxs/pulled', ...keyArgs('full')]);
  assert.match(pull.stdout, /pulled 1 of 1 snapshot/);
  assert.equal(ids('s3://fxs/pulled'), [id]);
  const out = join(t.path, 'out-pulled');
  ok(['snap', 'restore', 's3://fxs/pulled', '-o', out, '--latest']);
  assert.equal(compareTrees(src, out), []);
  assert.match(ok(['store', 'check', 's3://fxs/pulled', '--read-data']).stdout, /no problems/);
  // Pulled again: nothing new, the snapshot is already there.
  assert.match(ok(['snap', 'pull', url(remote), 's3://fxs/pulled', ...keyArgs('full')]).stdout, /pulled 0 of 1 snapshot .*already here/);
});

test.run();
