/**
 * The pipeline the toolkit is built for, over a real sshd on loopback:
 *   fxcp snap export STORE | ssh host fxcp snap import - REMOTE
 * and the pull direction, ssh host fxcp snap export | fxcp snap import -. Both stores must then
 * hold the same snapshots, restoring byte-identical trees.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startLoopbackSshd, type LoopbackSshd } from '../helpers/loopback-sshd.js';
import { FXCP, fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';
import { compareTrees } from '../helpers/tree-compare.js';

const t = tempDir();
let sshd: LoopbackSshd | string = 'not started';
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const remoteFxcp = q(FXCP);

test.before(async () => { sshd = await startLoopbackSshd(); });
test.after(() => { if (typeof sshd !== 'string') sshd.stop(); t.cleanup(); });

test('export | ssh import, and ssh export | import, carry every snapshot exactly', () => {
  if (typeof sshd === 'string') { console.log(`  (skipped: ${sshd})`); return; }
  const src = join(t.path, 'src'), store = join(t.path, 'store');
  mkdirSync(join(src, 'd'), { recursive: true });
  writeFileSync(join(src, 'd/a.bin'), seededBytes(3_000_000, 1));
  writeFileSync(join(src, 'b.txt'), 'one\n');
  assert.is(fxcp(['snap', 'create', src, store]).code, 0);
  writeFileSync(join(src, 'b.txt'), 'two\n');
  assert.is(fxcp(['snap', 'create', src, store]).code, 0);

  const ssh = ['ssh', ...sshd.sshArgs].map(q).join(' ');
  const remote = join(t.path, 'remote'), back = join(t.path, 'back');
  const push = spawnSync('bash', ['-c', `set -o pipefail; ${remoteFxcp} snap export ${q(store)} | ${ssh} ${q(`${remoteFxcp} snap import - ${q(remote)}`)}`], { encoding: 'utf8' });
  assert.is(push.status, 0, push.stderr);
  const pull = spawnSync('bash', ['-c', `set -o pipefail; ${ssh} ${q(`${remoteFxcp} snap export ${q(remote)}`)} | ${remoteFxcp} snap import - ${q(back)}`], { encoding: 'utf8' });
  assert.is(pull.status, 0, pull.stderr);

  const ids = (s: string) => fxcpJson(['snap', 'list', s]).snapshots.map((x: { id: string }) => x.id);
  assert.equal(ids(remote), ids(store));
  assert.equal(ids(back), ids(store));
  const out = join(t.path, 'out');
  assert.is(fxcp(['snap', 'restore', back, '-o', out, '--latest']).code, 0);
  assert.equal(compareTrees(src, join(out)), []);
});

test.run();
