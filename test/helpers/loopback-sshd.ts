/**
 * A real sshd on 127.0.0.1 for pipeline tests (`fxcp snap export | ssh host fxcp snap import`):
 * its own host key, client key, config and port in a temporary directory, started in the
 * foreground and stopped by `stop()`. Needs root (sshd's privilege separation) and the
 * openssh-server package, which test/setup/install-test-tools.sh installs; otherwise `start`
 * returns the reason to print as a skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from './run-cli.js';

const SSHD = '/usr/sbin/sshd';

export interface LoopbackSshd {
  /** `ssh` arguments up to and including the destination; append the remote command. */
  sshArgs: string[];
  stop(): void;
}

export async function startLoopbackSshd(): Promise<LoopbackSshd | string> {
  if (!isRoot) return 'sshd needs root';
  if (!existsSync(SSHD)) return `${SSHD} is not installed (openssh-server)`;
  if (spawnSync('sh', ['-c', 'command -v ssh ssh-keygen']).status !== 0) return 'ssh or ssh-keygen is not installed';
  const dir = mkdtempSync(join(tmpdir(), 'fxsshd-'));
  const keygen = (file: string) => spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]).status === 0;
  if (!keygen(join(dir, 'host_key')) || !keygen(join(dir, 'client_key'))) return 'ssh-keygen failed';
  spawnSync('cp', [join(dir, 'client_key.pub'), join(dir, 'authorized_keys')]);
  mkdirSync('/run/sshd', { recursive: true });
  const port = 20000 + (process.pid % 20000);
  writeFileSync(join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PermitRootLogin prohibit-password',
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no',
    `PidFile ${join(dir, 'sshd.pid')}`, 'LogLevel ERROR',
  ].join('\n') + '\n');
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  const stop = () => { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); };
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) { stop(); return `sshd exited: ${err.trim()}`; }
    if (await canConnect(port)) {
      return {
        sshArgs: ['-p', String(port), '-i', join(dir, 'client_key'), '-o', 'StrictHostKeyChecking=no',
          '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', 'root@127.0.0.1'],
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
