/**
 * The pure readers of what OpenSSH users already have: ssh:// addresses, ~/.ssh/config and
 * known_hosts (plain, hashed, ports, negations, revoked keys), and the fingerprint ssh prints.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToolkitError } from '../../lib/errors/index.js';
import { fingerprint, keysFor, knownHostName, knownHostsLine, keyType, preferredAlgorithms, verdict } from '../../lib/transport/known-hosts.js';
import { hostConfig } from '../../lib/transport/ssh-config.js';
import { parseSshUrl } from '../../lib/transport/ssh-url.js';
import { haveCommand, tempDir } from '../helpers/run-cli.js';

test('ssh:// addresses: user, host, port, absolute and home-relative paths, IPv6', () => {
  const u = (s: string) => { const { text: _t, ...rest } = parseSshUrl(s); return rest; };
  assert.equal(u('ssh://bob@vault:2222/srv/store'), { user: 'bob', host: 'vault', port: 2222, path: '/srv/store' });
  assert.equal(u('ssh://vault/srv/store'), { user: undefined, host: 'vault', port: undefined, path: '/srv/store' });
  assert.equal(u('ssh://vault/~/store'), { user: undefined, host: 'vault', port: undefined, path: 'store' });
  assert.equal(u('ssh://vault/./store'), { user: undefined, host: 'vault', port: undefined, path: 'store' });
  assert.equal(u('ssh://[::1]:22/x'), { user: undefined, host: '::1', port: 22, path: '/x' });
  for (const bad of ['ssh://vault', 'ssh://vault:0/x', 'ssh://vault:99999/x', 'ssh://@vault/x', 'ssh://vault:/x', 'http://vault/x', 'ssh://vault/']) {
    try { parseSshUrl(bad); assert.unreachable(bad); } catch (err) { assert.is((err as ToolkitError).code, 'USAGE', bad); }
  }
});

const CONFIG = `
# comment
Host backup vault-*
  HostName 10.0.0.5
  User keeper
  Port 2222
  IdentityFile ~/.ssh/backup_key
  IdentityFile "%d/.ssh/second key"

Host !vault-old vault-*
  User other
  ProxyJump bastion

Match host foo
  User matched

Host *
  User fallback
  Port 22
  IdentityFile ~/.ssh/id_%h
`;

test('~/.ssh/config: aliases, first value wins, several IdentityFiles, negation, Match skipped', () => {
  assert.equal(hostConfig(CONFIG, 'backup', '/home/u'), {
    hostName: '10.0.0.5', user: 'keeper', port: 2222, knownHostsFiles: [],
    identityFiles: ['/home/u/.ssh/backup_key', '/home/u/.ssh/second key', '/home/u/.ssh/id_10.0.0.5'],
  });
  assert.is(hostConfig(CONFIG, 'vault-new', '/h').proxy, 'ProxyJump bastion');
  assert.is(hostConfig(CONFIG, 'vault-old', '/h').proxy, undefined);
  assert.equal(hostConfig(CONFIG, 'elsewhere', '/h'), { user: 'fallback', port: 22, identityFiles: ['/h/.ssh/id_elsewhere'], knownHostsFiles: [] });
});

test('known_hosts: plain, [host]:port, hashed, negated and revoked entries; verdicts', () => {
  const k = (n: number) => Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, n)]);
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[hashed.example]:2200').digest('base64')}`;
  const text = [
    `plain.example,other ssh-ed25519 ${k(1).toString('base64')}`,
    `[plain.example]:2222 ssh-ed25519 ${k(2).toString('base64')}`,
    `${hashed} ssh-ed25519 ${k(3).toString('base64')}`,
    `*.wild,!no.wild ssh-ed25519 ${k(4).toString('base64')}`,
    `@revoked * ssh-ed25519 ${k(9).toString('base64')}`,
    `@cert-authority * ssh-ed25519 ${k(5).toString('base64')}`,
  ].join('\n');
  const v = (host: string, port: number, key: Buffer) => verdict(keysFor(text, knownHostName(host, port)), key);
  assert.is(v('plain.example', 22, k(1)), 'known');
  assert.is(v('plain.example', 22, k(2)), 'changed');
  assert.is(v('plain.example', 2222, k(2)), 'known');
  assert.is(v('hashed.example', 2200, k(3)), 'known');
  assert.is(v('hashed.example', 22, k(3)), 'unknown');
  assert.is(v('a.wild', 22, k(4)), 'known');
  assert.is(v('no.wild', 22, k(4)), 'unknown');
  assert.is(v('plain.example', 22, k(9)), 'revoked');
  assert.is(v('new.example', 22, k(5)), 'unknown', 'a CA line is no host key');
  assert.is(keyType(k(1)), 'ssh-ed25519');
  assert.equal(preferredAlgorithms(keysFor(text, 'plain.example').keys), ['ssh-ed25519']);
  assert.equal(keysFor(knownHostsLine('[h]:1', k(7)), '[h]:1').keys[0]!.blob, k(7));
});

test('the fingerprint is the one ssh-keygen prints', () => {
  if (!haveCommand('ssh-keygen')) { console.log('  (skipped: ssh-keygen is not installed)'); return; }
  const t = tempDir();
  try {
    const f = join(t.path, 'k');
    assert.is(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', f]).status, 0);
    const blob = Buffer.from(readFileSync(`${f}.pub`, 'utf8').split(' ')[1]!, 'base64');
    const printed = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${f}.pub`], { encoding: 'utf8' }).stdout.split(' ')[1];
    assert.is(fingerprint(blob), printed);
  } finally {
    t.cleanup();
  }
});

test.run();
