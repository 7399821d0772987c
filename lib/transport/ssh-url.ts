/**
 * `ssh://[user@]host[:port]/path`, the address of a remote store, pure. The path is absolute
 * on the server (`ssh://host/srv/backup`); `/~/` or `/./` before it makes it relative to the
 * login's home directory (`ssh://host/~/backup`), as borg writes it. A host may be an alias of
 * ~/.ssh/config (ssh-config.ts resolves it) or a bracketed IPv6 address (`ssh://[::1]:2222/x`).
 */
import { UsageError } from '../errors/index.js';

export interface SshUrl {
  user?: string;
  host: string;
  port?: number;
  /** As the server opens it: absolute, or relative to the home directory. */
  path: string;
  /** The URL as given (messages). */
  text: string;
}

export function isSshUrl(text: string): boolean {
  return text.startsWith('ssh://');
}

export function parseSshUrl(text: string): SshUrl {
  const bad = (why: string) => new UsageError(`${text}: not an ssh:// store address (${why}); write ssh://[user@]host[:port]/path`);
  if (!isSshUrl(text)) throw bad('it does not start with ssh://');
  const rest = text.slice('ssh://'.length);
  const slash = rest.indexOf('/');
  if (slash < 0) throw bad('no path after the host');
  const authority = rest.slice(0, slash);
  let path = rest.slice(slash);
  const at = authority.lastIndexOf('@');
  const user = at >= 0 ? decodeURIComponent(authority.slice(0, at)) : undefined;
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  let host: string, portText: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d*))?$/.exec(hostPort);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else {
    const m = /^([^:[\]]+)(?::(\d*))?$/.exec(hostPort);
    if (!m) throw bad(`cannot read the host '${hostPort}'`);
    host = m[1]!;
    portText = m[2];
  }
  if (user !== undefined && user.length === 0) throw bad('empty user name');
  if (portText !== undefined && portText.length === 0) throw bad('empty port');
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) throw bad(`port ${portText} is not 1..65535`);
  if (path.startsWith('/~/')) path = path.slice(3);
  else if (path.startsWith('/./')) path = path.slice(3);
  if (path.length === 0 || path === '/') throw bad('the path names no store');
  path = decodeURIComponent(path);
  return { user, host, port, path, text };
}
