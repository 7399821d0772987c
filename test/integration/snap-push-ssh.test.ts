/**
 * `fxcp snap push` and `snap pull` over a real OpenSSH sshd on loopback, through ssh2 and
 * through the system ssh (--ssh-command), with the server set up as docs/ssh.md says: an
 * authorized_keys line forcing `fxcp serve --stdio --append-only --restrict-to-path DIR`.
 * Push, push again (almost nothing on the wire), pull, a push killed mid-transfer then resumed,
 * an append-only server refusing a delete, host keys (unknown, accepted, changed), a path
 * outside the restriction, ~/.ssh/config aliases.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToolkitError } from '../../lib/errors/index.js';
import { FrameChannel } from '../../lib/transport/frame-channel.js';
import { openSshPipe } from '../../lib/transport/ssh-connect.js';
import { parseSshUrl } from '../../lib/transport/ssh-url.js';
import { WireClient } from '../../lib/transport/wire-client.js';
import { FRAME } from '../../lib/transport/wire-layout.js';
import { startStoreSshd, type LoopbackSshd } from '../helpers/loopback-sshd.js';
import { FXCP, fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';
import { compareTrees } from '../helpers/tree-compare.js';

const t = tempDir();
const home = join(t.path, 'home');
const allowed = join(t.path, 'allowed');
const src = join(t.path, 'src'), local = join(t.path, 'local');
const knownHosts = join(t.path, 'known_hosts');
let sshd: LoopbackSshd | string = 'not started';
/** fxcp as a user with an empty ~/.ssh and no agent. */
const env = { HOME: home, SSH_AUTH_SOCK: '' };
const run = (args: string[]) => fxcp(args, { env });

test.before(async () => {
  mkdirSync(join(home, '.ssh'), { recursive: true });
  mkdirSync(allowed);
  sshd = await startStoreSshd(allowed, 7);
  if (typeof sshd === 'string') return;
  writeFileSync(knownHosts, sshd.knownHostsLine);
  mkdirSync(join(src, 'd'), { recursive: true });
  for (let i = 0; i < 3; i++) writeFileSync(join(src, `d/big${i}.bin`), seededBytes(16_000_000, 10 + i));
  writeFileSync(join(src, 'b.txt'), 'one\n');
  assert.is(fxcp(['snap', 'create', src, local]).code, 0);
});
test.after(() => { if (typeof sshd !== 'string') sshd.stop(); t.cleanup(); });

const skip = () => { if (typeof sshd === 'string') { console.log(`  (skipped: ${sshd})`); return true; } return false; };
const url = (path: string) => `ssh://root@127.0.0.1:${(sshd as LoopbackSshd).port}${path}`;
const keyArgs = (key: string) => ['--identity', (sshd as LoopbackSshd).keyFile(key), '--known-hosts', knownHosts];
const ids = (store: string) => fxcpJson(['snap', 'list', store]).snapshots.map((s: { id: string }) => s.id);
const sent = (stdout: string) => {
  const m = /sent ([\d.]+) (B|KiB|MiB|GiB),/.exec(stdout.slice(stdout.lastIndexOf(';')));
  assert.ok(m, stdout);
  return Number(m![1]) * { B: 1, KiB: 1024, MiB: 1 << 20, GiB: 1 << 30 }[m![2] as 'B'];
};

test('push (append-only, restricted key), push again sending almost nothing, pull back the same trees', () => {
  if (skip()) return;
  const remote = join(allowed, 'store');
  const first = run(['snap', 'push', local, url(remote), ...keyArgs('append')]);
  assert.is(first.code, 0, first.stderr);
  assert.match(first.stdout, /pushed 1 of 1 snapshot/);
  assert.equal(ids(remote), ids(local));
  writeFileSync(join(src, 'b.txt'), 'two\n');
  assert.is(fxcp(['snap', 'create', src, local]).code, 0);
  const second = run(['snap', 'push', local, url(remote), ...keyArgs('append')]);
  assert.is(second.code, 0, second.stderr);
  assert.match(second.stdout, /pushed 1 of 2 snapshots/);
  assert.ok(sent(second.stdout) < sent(first.stdout) / 100, `second push sent ${sent(second.stdout)} B, the first ${sent(first.stdout)} B`);
  assert.equal(ids(remote), ids(local));

  const back = join(t.path, 'back');
  const pull = run(['snap', 'pull', url(remote), back, ...keyArgs('full')]);
  assert.is(pull.code, 0, pull.stderr);
  assert.equal(ids(back), ids(local));
  const out = join(t.path, 'out');
  assert.is(fxcp(['snap', 'restore', back, '-o', out, '--latest']).code, 0);
  assert.equal(compareTrees(src, out), []);
  assert.is(fxcp(['store', 'check', remote, '--read-data']).code, 0);
});

test('a push killed (kill -9) mid-transfer lists nothing; the rerun completes sending less, and the store checks clean', async () => {
  if (skip()) return;
  const remote = join(allowed, 'killed');
  const child = spawn(FXCP, ['snap', 'push', local, url(remote), '--snapshot', ids(local)[0]!, ...keyArgs('append')], { env: { ...process.env, ...env }, stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  // Killed once the server has some megabytes of chunks written.
  const deadline = Date.now() + 60_000;
  const written = () => ['tmp', 'packs'].reduce((n, d) => n + sizeBelow(join(remote, d)), 0);
  while (written() < 8_000_000 && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  const killedMidway = child.exitCode === null;
  child.kill('SIGKILL');
  await exited;
  if (!killedMidway) { console.log('  (the push finished before it could be killed; nothing to resume)'); return; }
  // The server sees the connection drop and seals what it verified; give it a moment.
  for (let i = 0; i < 100 && sizeBelow(join(remote, 'tmp')) > 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(existsSync(join(remote, 'config')) ? ids(remote) : [], []);
  const rerun = run(['snap', 'push', local, url(remote), '--snapshot', ids(local)[0]!, ...keyArgs('append')]);
  assert.is(rerun.code, 0, rerun.stderr);
  const full = 48_000_000;
  assert.ok(sent(rerun.stdout) < full * 0.9, `the rerun sent ${sent(rerun.stdout)} B of about ${full}`);
  assert.match(rerun.stdout, /[1-9]\d* skipped/);
  assert.equal(ids(remote), [ids(local)[0]]);
  const check = fxcp(['store', 'check', remote, '--read-data']);
  assert.is(check.code, 0, check.stdout + check.stderr);
});

function sizeBelow(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? sizeBelow(p) : statSync(p).size;
  }
  return n;
}

test('an append-only server refuses a delete (TForget) over real ssh, and keeps the snapshots', async () => {
  if (skip()) return;
  const remote = join(allowed, 'store');
  const before = ids(remote);
  const pipe = await openSshPipe(parseSshUrl(url(remote)), {
    identities: [(sshd as LoopbackSshd).keyFile('append')], knownHosts, acceptNewHostKey: false, remoteCommand: 'ignored by the forced command',
    onNote: () => {}, home, env: {},
  });
  const client = new WireClient(new FrameChannel(pipe.input, pipe.output, 'client', pipe.peer), 'test');
  try {
    const hello = await client.hello();
    assert.is(hello.appendOnly, true);
    await client.open(remote, false);
    try {
      await client.json(FRAME.TForget, FRAME.RForget, { ids: [before[0]] });
      assert.unreachable('forget was accepted');
    } catch (err) {
      assert.is((err as ToolkitError).code, 'APPEND_ONLY');
      assert.match((err as Error).message, /append-only/);
    }
    await client.bye();
  } finally {
    pipe.close();
  }
  assert.equal(ids(remote), before);
});

test('host keys: unknown refused with its fingerprint, then --accept-new-host-key records it; a changed key is refused', () => {
  if (skip()) return;
  const s = sshd as LoopbackSshd;
  const fresh = join(t.path, 'fresh_known_hosts');
  const remote = url(join(allowed, 'store'));
  const unknown = run(['snap', 'push', local, remote, '--identity', s.keyFile('append'), '--known-hosts', fresh, '--json']);
  assert.is(unknown.code, 2);
  const err = JSON.parse(unknown.stderr.trim().split('\n').pop()!);
  assert.is(err.code, 'HOST_KEY_UNKNOWN');
  assert.match(err.message, /SHA256:[A-Za-z0-9+/]{43}/);
  assert.match(err.message, /--accept-new-host-key/);
  const accepted = run(['snap', 'push', local, remote, '--identity', s.keyFile('append'), '--known-hosts', fresh, '--accept-new-host-key']);
  assert.is(accepted.code, 0, accepted.stderr);
  assert.match(readFileSync(fresh, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${s.port} ssh-ed25519 `));
  assert.is(run(['snap', 'push', local, remote, '--identity', s.keyFile('append'), '--known-hosts', fresh]).code, 0, 'known now');

  const wrong = join(t.path, 'wrong_known_hosts');
  writeFileSync(wrong, `[127.0.0.1]:${s.port} ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 1)]).toString('base64')}\n`);
  for (const extra of [[], ['--accept-new-host-key']]) {
    const changed = run(['snap', 'push', local, remote, '--identity', s.keyFile('append'), '--known-hosts', wrong, '--json', ...extra]);
    assert.is(changed.code, 2);
    assert.is(JSON.parse(changed.stderr.trim().split('\n').pop()!).code, 'HOST_KEY_CHANGED');
  }
});

test('a path outside --restrict-to-path is refused, and nothing is created there', () => {
  if (skip()) return;
  const outside = join(t.path, 'outside');
  const r = run(['snap', 'push', local, url(outside), ...keyArgs('append'), '--json']);
  assert.is(r.code, 2);
  const err = JSON.parse(r.stderr.trim().split('\n').pop()!);
  assert.is(err.code, 'PATH_REFUSED');
  assert.match(err.message, /remote: .*restrict-to-path/);
  assert.not.ok(existsSync(outside));
});

test('~/.ssh/config: a Host alias with HostName, Port, User and IdentityFile', () => {
  if (skip()) return;
  const s = sshd as LoopbackSshd;
  const cfgHome = join(t.path, 'cfghome');
  mkdirSync(join(cfgHome, '.ssh'), { recursive: true });
  writeFileSync(join(cfgHome, '.ssh', 'config'), `Host vault\n  HostName 127.0.0.1\n  Port ${s.port}\n  User root\n  IdentityFile ${s.keyFile('full')}\n`);
  writeFileSync(join(cfgHome, '.ssh', 'known_hosts'), s.knownHostsLine);
  const back = join(t.path, 'via-alias');
  const r = fxcp(['snap', 'pull', `ssh://vault${join(allowed, 'store')}`, back, '--latest'], { env: { HOME: cfgHome, SSH_AUTH_SOCK: '' } });
  assert.is(r.code, 0, r.stderr);
  assert.is(ids(back).length, 1);
});

test('--ssh-command: the same protocol through the system ssh', () => {
  if (skip()) return;
  const s = sshd as LoopbackSshd;
  const ssh = `ssh -i ${s.keyFile('append')} -o UserKnownHostsFile=${knownHosts} -o BatchMode=yes -o LogLevel=ERROR`;
  const remote = join(allowed, 'via-system-ssh');
  const r = run(['snap', 'push', local, url(remote), '--ssh-command', ssh]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(ids(remote), ids(local));
  appendFileSync(join(t.path, 'unused'), '');
});

test('login through a real ssh-agent: with no key given or found, the key in the agent logs in; without the agent, AUTH_FAILED', async () => {
  if (skip()) return;
  const s = sshd as LoopbackSshd;
  const sock = join(t.path, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    const add = spawnSync('ssh-add', [s.keyFile('full')], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
    assert.is(add.status, 0, add.stderr);
    const args = (dir: string) => ['snap', 'pull', url(join(allowed, 'store')), dir, '--latest', '--known-hosts', knownHosts, '--json'];
    const without = run(args(join(t.path, 'no-agent')));
    assert.is(without.code, 2, without.stderr);
    assert.is(JSON.parse(without.stderr.trim().split('\n').pop()!).code, 'AUTH_FAILED');
    const back = join(t.path, 'via-agent');
    const r = fxcp(args(back), { env: { ...process.env, HOME: home, SSH_AUTH_SOCK: sock } });
    assert.is(r.code, 0, r.stderr);
    assert.is(ids(back).length, 1);
  } finally {
    agent.kill();
  }
});

test('a pull killed (kill -9) mid-transfer leaves the local store consistent; the rerun completes', async () => {
  if (skip()) return;
  const remote = join(allowed, 'store');
  const back = join(t.path, 'pull-killed');
  const child = spawn(FXCP, ['snap', 'pull', url(remote), back, ...keyArgs('full')], { env: { ...process.env, ...env }, stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  const deadline = Date.now() + 60_000;
  const written = () => ['tmp', 'packs'].reduce((n, d) => n + sizeBelow(join(back, d)), 0);
  while (written() < 8_000_000 && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  const killedMidway = child.exitCode === null;
  child.kill('SIGKILL');
  await exited;
  if (!killedMidway) { console.log('  skip: the pull finished before it could be killed'); return; }
  // Nothing listed, and what is there checks clean (every listed snapshot restorable: none).
  assert.equal(ids(back), []);
  const check = fxcp(['store', 'check', back, '--read-data']);
  assert.is(check.code, 0, check.stdout + check.stderr);
  const rerun = run(['snap', 'pull', url(remote), back, ...keyArgs('full')]);
  assert.is(rerun.code, 0, rerun.stderr);
  assert.equal(ids(back), ids(remote));
  const after = fxcp(['store', 'check', back, '--read-data']);
  assert.is(after.code, 0, after.stdout + after.stderr);
  const out = join(t.path, 'pull-killed-out');
  assert.is(fxcp(['snap', 'restore', back, '-o', out, '--latest']).code, 0);
  assert.equal(compareTrees(src, out), []);
});

test('a push whose local store does not open leaves no store created on the server', async () => {
  if (skip()) return;
  const remote = join(allowed, 'never-made');
  const r = run(['snap', 'push', join(t.path, 'no-such-store'), url(remote), ...keyArgs('append'), '--json']);
  assert.is(r.code, 2);
  assert.is(JSON.parse(r.stderr.trim().split('\n').pop()!).code, 'NO_STORE');
  // The server ends its session when the client goes: give it the time to.
  for (let i = 0; i < 50 && existsSync(join(remote, 'config')); i++) await new Promise((res) => setTimeout(res, 100));
  await new Promise((res) => setTimeout(res, 1000));
  assert.not.ok(existsSync(join(remote, 'config')), 'an empty store was left on the server');
});

test.run();
