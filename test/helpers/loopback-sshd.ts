/**
 * A real sshd on 127.0.0.1 for pipeline and push/pull tests: its own host key, client keys,
 * config and port in a temporary directory, started in the foreground and stopped by `stop()`.
 * Needs root (sshd's privilege separation) and the openssh-server package, which
 * test/setup/install-test-tools.sh installs; otherwise `start` returns the reason to print as a
 * skip.
 *
 * Each client key may carry authorized_keys options, e.g. a forced command
 * (`command="fxcp serve --stdio --append-only ...",restrict`), as a server for `snap push`
 * would set it up.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FXCP, isRoot } from './run-cli.js';

const SSHD = '/usr/sbin/sshd';

export interface LoopbackSshd {
  /** `ssh` arguments up to and including the destination (with the first key); append the remote command. */
  sshArgs: string[];
  port: number;
  /** The private key file of the client key named `name` (the first one when not given). */
  keyFile(name?: string): string;
  /** The host key's public line (`ssh-ed25519 AAAA...`). */
  hostKey: string;
  /** A known_hosts line that trusts this server's host key. */
  knownHostsLine: string;
  stop(): void;
}

export interface ClientKey {
  name: string;
  /** authorized_keys options before the key, e.g. `command="...",restrict`. */
  options?: string;
}

export async function startLoopbackSshd(keys: ClientKey[] = [{ name: 'client_key' }], portOffset = 0): Promise<LoopbackSshd | string> {
  if (!isRoot) return 'sshd needs root';
  if (!existsSync(SSHD)) return `${SSHD} is not installed (openssh-server)`;
  if (spawnSync('sh', ['-c', 'command -v ssh ssh-keygen']).status !== 0) return 'ssh or ssh-keygen is not installed';
  const dir = mkdtempSync(join(tmpdir(), 'fxsshd-'));
  const keygen = (file: string) => spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]).status === 0;
  if (!keygen(join(dir, 'host_key'))) return 'ssh-keygen failed';
  const lines: string[] = [];
  for (const k of keys) {
    if (!keygen(join(dir, k.name))) return 'ssh-keygen failed';
    const pub = readFileSync(join(dir, `${k.name}.pub`), 'utf8').trim();
    lines.push(k.options ? `${k.options} ${pub}` : pub);
  }
  writeFileSync(join(dir, 'authorized_keys'), lines.join('\n') + '\n');
  mkdirSync('/run/sshd', { recursive: true });
  const port = 20000 + ((process.pid + portOffset) % 20000);
  writeFileSync(join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PermitRootLogin prohibit-password',
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no',
    `PidFile ${join(dir, 'sshd.pid')}`, 'LogLevel ERROR',
    // sshd runs each command through root's login shell; bash reads ~/.bashrc for a command
    // sshd runs unless SHLVL says it is not the first shell. The tests then do not depend on
    // this machine's root shell files (here: `pyenv init`, 1-2 s a session).
    'SetEnv SHLVL=1',
  ].join('\n') + '\n');
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  const stop = () => { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); };
  const hostKey = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) { stop(); return `sshd exited: ${err.trim()}`; }
    if (await canConnect(port)) {
      return {
        sshArgs: ['-p', String(port), '-i', join(dir, keys[0]!.name), '-o', 'StrictHostKeyChecking=no',
          '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', 'root@127.0.0.1'],
        port, hostKey, knownHostsLine: `[127.0.0.1]:${port} ${hostKey}\n`,
        keyFile: (name = keys[0]!.name) => join(dir, name),
        stop,
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  stop();
  return `sshd did not listen on port ${port}: ${err.trim()}`;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => { s.destroy(); res(true); });
    s.on('error', () => res(false));
  });
}

/**
 * An sshd with two client keys whose forced commands serve stores: `append` (append-only,
 * restricted to `allowed`) and `full` (`fxcp serve --stdio` as it is).
 */
export function startStoreSshd(allowed: string, portOffset: number): Promise<LoopbackSshd | string> {
  return startLoopbackSshd([
    { name: 'append', options: `command="${FXCP} serve --stdio --append-only --restrict-to-path ${allowed}",restrict` },
    { name: 'full', options: `command="${FXCP} serve --stdio",restrict` },
  ], portOffset);
}
