/**
 * A store used directly over SSH (`ssh://host/path` as any command's STORE; formats/wire.md §7)
 * against a real OpenSSH sshd on loopback whose keys force `fxcp serve --stdio`, one of them
 * `--append-only --restrict-to-path DIR`. The client's settings come from ~/.ssh/config, as
 * docs/ssh.md says: create, list, restore one file and all, check, stats, diff, prune, gc and
 * store upgrade through ssh://, and what an append-only server refuses (nothing deleted).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CODEC_BUNDLED } from '../../lib/codec/codec-ids.js';
import { readPackEntries } from '../../lib/store/pack-reader.js';
import { directoryLocation } from '../../lib/store/store-location.js';
import { startStoreSshd, type LoopbackSshd } from '../helpers/loopback-sshd.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';
import { compareTrees } from '../helpers/tree-compare.js';

const t = tempDir();
const home = join(t.path, 'home');
const allowed = join(t.path, 'allowed');
const src = join(t.path, 'src');
let sshd: LoopbackSshd | string = 'not started';
/** fxcp as a user whose ~/.ssh/config names the hosts, with no agent and its own cache. */
const env = { HOME: home, SSH_AUTH_SOCK: '', XDG_CACHE_HOME: join(t.path, 'cache') };
const run = (args: string[]) => fxcp(args, { env: { ...process.env, ...env } });
const json = (args: string[]) => {
  const r = run([...args, '--json']);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};

test.before(async () => {
  mkdirSync(join(home, '.ssh'), { recursive: true });
  mkdirSync(allowed);
  sshd = await startStoreSshd(allowed, 11);
  if (typeof sshd === 'string') return;
  writeFileSync(join(home, '.ssh', 'known_hosts'), sshd.knownHostsLine);
  const host = (alias: string, key: string) => [`Host ${alias}`, '  HostName 127.0.0.1', `  Port ${(sshd as LoopbackSshd).port}`, '  User root',
    `  IdentityFile ${(sshd as LoopbackSshd).keyFile(key)}`, ''].join('\n');
  writeFileSync(join(home, '.ssh', 'config'), host('vault', 'append') + host('vault-admin', 'full'));
  mkdirSync(join(src, 'd'), { recursive: true });
  for (let i = 0; i < 3; i++) writeFileSync(join(src, `d/big${i}.bin`), seededBytes(6_000_000, 30 + i));
  writeFileSync(join(src, 'a.txt'), 'one\n');
});
test.after(() => { if (typeof sshd !== 'string') sshd.stop(); t.cleanup(); });

const skip = () => { if (typeof sshd === 'string') { console.log(`  skip: ${sshd}`); return true; } return false; };
const ids = (store: string) => json(['snap', 'list', store]).snapshots.map((s: { id: string }) => s.id);

test('snap create, list, restore one file and all, stats, diff and check, on ssh://host/path (append-only server)', () => {
  if (skip()) return;
  const store = `ssh://vault${allowed}/store`;
  const first = run(['snap', 'create', src, store]);
  assert.is(first.code, 0, first.stderr);
  assert.ok(existsSync(join(allowed, 'store', 'config')), 'the store is on the server');
  assert.is(readdirSync(join(allowed, 'store', 'snapshots')).length, 1);
  writeFileSync(join(src, 'a.txt'), 'two\n');
  const second = run(['snap', 'create', src, store]);
  assert.is(second.code, 0, second.stderr);
  const [a, b] = ids(store);
  assert.ok(a && b);

  const one = join(t.path, 'one');
  const r1 = run(['snap', 'restore', store, '-o', one, '--snapshot', a!, '--file', 'a.txt']);
  assert.is(r1.code, 0, r1.stderr);
  assert.is(readFileSync(join(one, 'a.txt'), 'utf8'), 'one\n');
  assert.not.ok(existsSync(join(one, 'd')));
  const all = join(t.path, 'all');
  const r2 = run(['snap', 'restore', store, '-o', all, '--latest']);
  assert.is(r2.code, 0, r2.stderr);
  assert.equal(compareTrees(src, all), []);

  const diff = run(['snap', 'diff', store, a!, b!]);
  assert.is(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /a\.txt/);
  assert.ok(json(['store', 'stats', store]).snapshots >= 2);
  const check = run(['store', 'check', store, '--read-data']);
  assert.is(check.code, 0, check.stdout + check.stderr);
  // The server's store is an ordinary store: a local check there agrees.
  const local = fxcp(['store', 'check', join(allowed, 'store'), '--read-data']);
  assert.is(local.code, 0, local.stdout + local.stderr);
});

test('an append-only server refuses prune and gc (APPEND_ONLY, exit 2) and deletes nothing', () => {
  if (skip()) return;
  const store = `ssh://vault${allowed}/store`;
  const before = readdirSync(join(allowed, 'store', 'snapshots')).sort();
  for (const args of [['snap', 'prune', store, '--keep-last', '1'], ['store', 'gc', store]]) {
    const r = run(args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /append-only/);
    assert.match(run([...args, '--json']).stderr, /APPEND_ONLY/);
  }
  assert.equal(readdirSync(join(allowed, 'store', 'snapshots')).sort(), before);
});

test('prune and gc through ssh:// on a server that allows them, then the store checks clean', () => {
  if (skip()) return;
  const store = `ssh://vault-admin${allowed}/store`;
  const [, b] = ids(store);
  const prune = run(['snap', 'prune', store, '--keep-last', '1']);
  assert.is(prune.code, 0, prune.stdout + prune.stderr);
  assert.equal(ids(store), [b]);
  assert.equal(readdirSync(join(allowed, 'store', 'snapshots')), [`${b}.snap`]);
  const check = fxcp(['store', 'check', join(allowed, 'store'), '--read-data']);
  assert.is(check.code, 0, check.stdout + check.stderr);
});

test('store upgrade through ssh://: an append-only server refuses; a full one raises the version on the server, and the next snapshot bundles', async () => {
  if (skip()) return;
  const dir = join(allowed, 'old');
  assert.is(fxcp(['store', 'init', dir]).code, 0);
  const config = join(dir, 'config');
  writeFileSync(config, readFileSync(config, 'utf8').replace(/"version": \d+/, '"version": 1'));
  const refused = run(['store', 'upgrade', `ssh://vault${dir}`]);
  assert.is(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /append-only/);
  assert.is(JSON.parse(readFileSync(config, 'utf8')).version, 1);
  const r = run(['store', 'upgrade', `ssh://vault-admin${dir}`, '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), { store: `ssh://vault-admin${dir}`, from: 1, to: 2, changed: true, dryRun: false });
  assert.is(JSON.parse(readFileSync(config, 'utf8')).version, 2);
  const small = join(t.path, 'small');
  mkdirSync(small);
  for (let i = 0; i < 40; i++) writeFileSync(join(small, `f${i}.txt`), `file ${i}\n` + 'a line of text in a small file\n'.repeat(30 + i));
  assert.is(run(['snap', 'create', small, `ssh://vault${dir}`]).code, 0);
  const storage = directoryLocation(dir).storage;
  let members = 0;
  for await (const pack of storage.list('pack')) for (const e of await readPackEntries(storage, pack)) if (e.codec === CODEC_BUNDLED) members++;
  assert.ok(members >= 20, `${members} bundled chunks`);
  const check = fxcp(['store', 'check', dir, '--read-data']);
  assert.is(check.code, 0, check.stdout + check.stderr);
});

test('a path outside --restrict-to-path is refused; a failed first create leaves no store on the server', () => {
  if (skip()) return;
  const outside = run(['snap', 'create', src, `ssh://vault${t.path}/elsewhere`]);
  assert.is(outside.code, 2, outside.stderr);
  assert.match(outside.stderr, /outside/);
  assert.not.ok(existsSync(join(t.path, 'elsewhere')));
  const missing = run(['snap', 'create', join(t.path, 'no-such-source'), `ssh://vault${allowed}/fresh`]);
  assert.is.not(missing.code, 0);
  assert.not.ok(existsSync(join(allowed, 'fresh', 'config')), 'no store was left behind');
  const none = run(['snap', 'list', `ssh://vault${allowed}/fresh`]);
  assert.match(none.stderr, /no such store/);
});

test('FOXING_SSH_COMMAND: the system ssh instead of ssh2, with no ~/.ssh/config', () => {
  if (skip()) return;
  const s = sshd as LoopbackSshd;
  const bare = join(t.path, 'bare-home');
  mkdirSync(bare, { recursive: true });
  const ssh = `ssh -i ${s.keyFile('full')} -o UserKnownHostsFile=${join(home, '.ssh', 'known_hosts')} -o BatchMode=yes -o LogLevel=ERROR`;
  const r = fxcp(['snap', 'list', `ssh://root@127.0.0.1:${s.port}${allowed}/store`, '--json'],
    { env: { ...process.env, HOME: bare, SSH_AUTH_SOCK: '', XDG_CACHE_HOME: join(t.path, 'cache-bare'), FOXING_SSH_COMMAND: ssh } });
  assert.is(r.code, 0, r.stderr);
  assert.is(JSON.parse(r.stdout).snapshots.length, 1);
  // Without it, the same user has no key to log in with.
  const without = fxcp(['snap', 'list', `ssh://root@127.0.0.1:${s.port}${allowed}/store`, '--json'],
    { env: { ...process.env, HOME: bare, SSH_AUTH_SOCK: '', XDG_CACHE_HOME: join(t.path, 'cache-bare') } });
  assert.is(without.code, 2);
});

test.run();
