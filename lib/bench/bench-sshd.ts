// A throwaway OpenSSH sshd on 127.0.0.1 for the ssh suite: its own host key and client key in a
// directory of the work dir, a known_hosts line for it, started in the foreground and stopped by
// stop(). Needs root (sshd's privilege separation); the suite skips with the reason otherwise.
//
// Every tool logs in as BENCH_USER, an account made for the bench with Debian's default shell
// files, not as root: sshd runs each command through the login shell, which reads ~/.bashrc,
// and on this VM root's .bashrc runs `pyenv init` (1-2 s a session, measured): a cost of the
// machine, not of the tools, that added the same seconds to every row and hid their
// differences. The server-side directories the suite writes are given to that user.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { helperStarted } from './bench-proc.js';

/** The account the tools log in as (made on first use: useradd, a home under /var/lib). */
export const BENCH_USER = 'fxbench';

export interface BenchSshd {
  port: number;
  /** `${BENCH_USER}@127.0.0.1` */
  login: string;
  clientKey: string;
  knownHosts: string;
  /** `ssh` with the key, known_hosts and port: append `${login} COMMAND`. */
  ssh: string;
  stop(): void;
}

export async function startBenchSshd(dir: string, sshdPath: string): Promise<BenchSshd> {
  ensureBenchUser();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o755 });
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
  helperStarted(child);
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  const stop = () => { child.kill('SIGTERM'); };
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${err.trim()}`);
    if (await canConnect(port)) {
      const clientKey = join(dir, 'client_key');
      return { port, login: `${BENCH_USER}@127.0.0.1`, clientKey, knownHosts, stop, ssh: `ssh -p ${port} -i ${clientKey} -o UserKnownHostsFile=${knownHosts} -o BatchMode=yes -o LogLevel=ERROR` };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  stop();
  throw new Error(`sshd did not listen on port ${port}: ${err.trim()}`);
}

/** Makes BENCH_USER when missing: a home with /etc/skel's files, no password (`*`, not locked). */
function ensureBenchUser(): void {
  if (spawnSync('id', ['-u', BENCH_USER]).status === 0) return;
  const r = spawnSync('useradd', ['-m', '-d', `/var/lib/${BENCH_USER}`, '-s', '/bin/bash', '-p', '*', BENCH_USER], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`useradd ${BENCH_USER} failed: ${r.stderr.trim()}`);
}

/** Gives `dir` (made when missing) to BENCH_USER: where the tools write on the server side. */
export function benchUserDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('chown', ['-R', `${BENCH_USER}:`, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`chown ${BENCH_USER} ${dir} failed: ${r.stderr.trim()}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => { s.destroy(); res(true); });
    s.on('error', () => res(false));
  });
}
