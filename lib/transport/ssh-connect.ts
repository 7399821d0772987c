/**
 * An SSH exec channel to `fxcp serve --stdio` with the `ssh2` package (loaded here only, on
 * first use: no other command pays for it). What OpenSSH users expect, in the same places:
 *
 * - host keys from ~/.ssh/known_hosts (or --known-hosts FILE, or the config's
 *   UserKnownHostsFile): an unknown host is refused with its SHA256 fingerprint unless
 *   --accept-new-host-key, which records it; a key other than the one recorded is always
 *   refused (HOST_KEY_CHANGED), as is a revoked one;
 * - keys from --identity FILE, then the agent (SSH_AUTH_SOCK), then the config's IdentityFile,
 *   then ~/.ssh/id_ed25519, id_ecdsa, id_rsa; a key with a passphrase is skipped with a note
 *   (the agent is the way to use one: passwords and passphrases never come from the command line);
 * - Host aliases, HostName, User, Port and IdentityFile from ~/.ssh/config (ssh-config.ts).
 *
 * Limits: no jump hosts, proxy commands, certificates or keyboard-interactive login; those
 * setups use --ssh-command 'ssh ...' (ssh-command.ts), which runs the system ssh.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { TransportError, UsageError } from '../errors/index.js';
import { currentUser } from '../util/current-user.js';
import { fingerprint, keysFor, knownHostName, knownHostsLine, preferredAlgorithms, verdict, type HostKeyVerdict } from './known-hosts.js';
import { hostConfig } from './ssh-config.js';
import type { SshUrl } from './ssh-url.js';

export interface SshOptions {
  /** --identity FILE (tried first, in order). */
  identities: readonly string[];
  /** --known-hosts FILE, instead of ~/.ssh/known_hosts. */
  knownHosts?: string;
  acceptNewHostKey: boolean;
  /** The command the server runs (a forced command in authorized_keys replaces it). */
  remoteCommand: string;
  /** Lines for the user (keys skipped, a host key recorded, the server's stderr). */
  onNote: (line: string) => void;
  home?: string;
  env?: NodeJS.ProcessEnv;
}

/** A duplex to the remote command: what it prints (stdout), what it reads (stdin). */
export interface RemotePipe {
  input: AsyncIterable<Uint8Array>;
  output: Writable;
  /** The peer's name in messages. */
  peer: string;
  close(): void;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/**
 * ssh2, required on first use (as the codecs' packages are, lib/codec/codec.ts): the CLI bundle
 * keeps npm packages external and has no dynamic import() of them. Only its client and key
 * parser: the package's index also loads its server, SFTP constants and HTTP agents (which
 * load Node's http, https and tls), ~50 ms of every ssh:// command measured here.
 */
const require = createRequire(import.meta.url);
interface Ssh2Client { Client: typeof import('ssh2').Client; parseKey: typeof import('ssh2').utils.parseKey }
let ssh2: Ssh2Client | null = null;
const loadSsh2 = (): Ssh2Client => (ssh2 ??= {
  Client: require('ssh2/lib/client.js') as Ssh2Client['Client'],
  parseKey: (require('ssh2/lib/protocol/keyParser.js') as { parseKey: Ssh2Client['parseKey'] }).parseKey,
});

export async function openSshPipe(url: SshUrl, opts: SshOptions): Promise<RemotePipe> {
  const home = opts.home ?? homedir();
  const env = opts.env ?? process.env;
  const configPath = join(home, '.ssh', 'config');
  const cfg = hostConfig(existsSync(configPath) ? readFileSync(configPath, 'utf8') : '', url.host, home);
  if (cfg.proxy) throw new UsageError(`${url.text}: ~/.ssh/config sets ${cfg.proxy} for ${url.host}, which this client does not follow; use --ssh-command 'ssh' (the system ssh)`);
  const host = cfg.hostName ?? url.host;
  const port = url.port ?? cfg.port ?? 22;
  const username = url.user ?? cfg.user ?? currentUser();
  const knownPath = opts.knownHosts ?? cfg.knownHostsFiles[0] ?? join(home, '.ssh', 'known_hosts');
  const name = knownHostName(host, port);
  const known = keysFor(existsSync(knownPath) ? readFileSync(knownPath, 'utf8') : '', name);
  const { Client, parseKey } = loadSsh2();

  const auth: object[] = [];
  const tryKey = (file: string, given: boolean) => {
    if (!existsSync(file)) { if (given) throw new UsageError(`${file}: no such identity file`); return; }
    const key = readFileSync(file);
    const parsed = parseKey(key);
    if (parsed instanceof Error) { opts.onNote(`${file}: key skipped (${/passphrase/i.test(parsed.message) ? 'it has a passphrase: add it to ssh-agent' : parsed.message})`); return; }
    auth.push({ type: 'publickey', username, key });
  };
  for (const f of opts.identities) tryKey(f, true);
  if (env.SSH_AUTH_SOCK) auth.push({ type: 'agent', username, agent: env.SSH_AUTH_SOCK });
  for (const f of cfg.identityFiles) tryKey(f, false);
  if (opts.identities.length === 0 && cfg.identityFiles.length === 0) for (const f of DEFAULT_KEYS) tryKey(join(home, '.ssh', f), false);
  if (auth.length === 0) throw new TransportError(`${url.text}: no key to log in with (no --identity, no SSH_AUTH_SOCK agent, no ~/.ssh/id_*)`, {}, 'AUTH_FAILED');

  let refusal: TransportError | null = null;
  const hostVerifier = (blob: Buffer): boolean => {
    const v: HostKeyVerdict = verdict(known, blob);
    if (v === 'known') return true;
    const fp = fingerprint(blob);
    if (v === 'unknown' && opts.acceptNewHostKey) {
      mkdirSync(dirname(knownPath), { recursive: true, mode: 0o700 });
      appendFileSync(knownPath, knownHostsLine(name, blob), { mode: 0o600 });
      opts.onNote(`${name}: host key ${fp} recorded in ${knownPath}`);
      return true;
    }
    refusal = v === 'unknown'
      ? new TransportError(`${name}: unknown host key ${fp} (not in ${knownPath}); check it, then run again with --accept-new-host-key to record it`, { host: name, fingerprint: fp }, 'HOST_KEY_UNKNOWN')
      : new TransportError(`${name}: host key ${fp} is ${v === 'revoked' ? 'revoked' : `not the one ${knownPath} records for it (it changed: someone may be intercepting the connection, or the server was reinstalled); remove the old line only once you know why`}`, { host: name, fingerprint: fp }, 'HOST_KEY_CHANGED');
    return false;
  };

  const conn = new Client();
  const algorithms = known.keys.length > 0 ? { serverHostKey: preferredAlgorithms(known.keys) } : undefined;
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', () => resolve());
    conn.once('error', (err: Error & { level?: string }) => {
      if (refusal) reject(refusal);
      else if (err.level === 'client-authentication') reject(new TransportError(`${username}@${name}: login refused (no key was accepted)`, { host: name, user: username }, 'AUTH_FAILED'));
      else reject(new TransportError(`${name}: cannot connect: ${err.message}`, { host: name }));
    });
    conn.connect({ host, port, username, hostVerifier, authHandler: auth as never, algorithms: algorithms as never, readyTimeout: 30_000, keepaliveInterval: 15_000 });
  });
  const stream = await new Promise<import('ssh2').ClientChannel>((resolve, reject) => {
    conn.exec(opts.remoteCommand, (err, ch) => (err ? reject(new TransportError(`${name}: cannot run '${opts.remoteCommand}': ${err.message}`, { host: name })) : resolve(ch)));
  });
  forwardLines(stream.stderr, opts.onNote);
  stream.on('close', () => conn.end());
  conn.on('error', () => {}); // after ready: the channel's end reports it
  return { input: stream, output: stream, peer: url.text, close: () => { stream.end(); } };
}

/** The remote's stderr, line by line, as notes prefixed `remote: `. */
export function forwardLines(stream: Readable, onNote: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => {
    rest += d;
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      onNote(`remote: ${rest.slice(0, nl)}`);
      rest = rest.slice(nl + 1);
    }
  });
  stream.on('end', () => { if (rest) onNote(`remote: ${rest}`); });
}
