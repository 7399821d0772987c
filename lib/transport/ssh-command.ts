/**
 * The remote command through the system's OpenSSH client (`--ssh-command 'ssh ...'`): for what
 * ssh2 lacks (jump hosts, certificates, GSSAPI, ControlMaster). The command line is run by
 * `sh -c` with the port, `user@host` and the remote command appended (quoted), as rsync's `-e`;
 * ssh itself then reads ~/.ssh/config and checks known_hosts as it always does.
 */
import { spawn } from 'node:child_process';
import { TransportError } from '../errors/index.js';
import { forwardLines, type RemotePipe } from './ssh-connect.js';
import type { SshUrl } from './ssh-url.js';

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function openCommandPipe(url: SshUrl, sshCommand: string, remoteCommand: string, onNote: (line: string) => void): RemotePipe {
  const dest = url.user ? `${url.user}@${url.host}` : url.host;
  const args = [...(url.port ? ['-p', String(url.port)] : []), dest, remoteCommand];
  const child = spawn('sh', ['-c', `${sshCommand} ${args.map(shellQuote).join(' ')}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.on('error', (err) => onNote(`${sshCommand}: ${err.message}`));
  child.stdin.on('error', () => {}); // a dead ssh: the read side reports the end
  forwardLines(child.stderr, (line) => onNote(line.replace(/^remote: /, 'ssh: ')));
  const input = (async function* () {
    for await (const b of child.stdout) yield b as Uint8Array;
    const code = child.exitCode ?? await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    if (code === 255) throw new TransportError(`${url.text}: ${sshCommand} failed (exit 255: could not connect or log in; its message is above)`);
  })();
  return { input, output: child.stdin, peer: url.text, close: () => { child.stdin.end(); } };
}
