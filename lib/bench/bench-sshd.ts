// A throwaway OpenSSH sshd on 127.0.0.1 for the ssh suite: its own host key and client key in a
// directory of the work dir, a known_hosts line for it, started in the foreground and stopped by
// stop(). Needs root (sshd's privilege separation); the suite skips with the reason otherwise.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';

export interface BenchSshd {
  port: number;
  clientKey: string;
  knownHosts: string;
  /** `ssh` with the key, known_hosts and port: append `root@127.0.0.1 COMMAND`. */
  ssh: string;
  stop(): void;
}

export async function startBenchSshd(dir: string, sshdPath: string): Promise<BenchSshd> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const k of ['host_key', 'client_key']) {
    if (spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, k)]).status !== 0) throw new Error('ssh-keygen failed');
  }
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  mkdirSync('/run/sshd', { recursive: true });
  const port = 40000 + (process.pid % 10000);
  writeFileSync(join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_key')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no',
    `PidFile ${join(dir, 'sshd.pid')}`, 'LogLevel ERROR', 'Subsystem sftp internal-sftp',
  ].join('\n') + '\n');
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${readFileSync(join(dir, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  const child: ChildProcess = spawn(sshdPath, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  const stop = () => { child.kill('SIGTERM'); };
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${err.trim()}`);
    if (await canConnect(port)) {
      const clientKey = join(dir, 'client_key');
      return { port, clientKey, knownHosts, stop, ssh: `ssh -p ${port} -i ${clientKey} -o UserKnownHostsFile=${knownHosts} -o BatchMode=yes -o LogLevel=ERROR` };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  stop();
  throw new Error(`sshd did not listen on port ${port}: ${err.trim()}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => { s.destroy(); res(true); });
    s.on('error', () => res(false));
  });
}
