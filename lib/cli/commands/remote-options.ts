/**
 * What `snap push` and `snap pull` share: the ssh options as RemoteOptions, the choice of
 * snapshots (--snapshot, --latest, --all), and the summary of bytes on the wire.
 */
import { isSshUrl, parseSshUrl, type SshUrl } from '../../transport/ssh-url.js';
import type { RemoteOptions } from '../../transport/remote-store.js';
import { UsageError } from '../../errors/index.js';
import type { Output } from '../output.js';
import { fxcpVersion } from '../fxcp-version.js';
import { formatBytes } from '../output.js';

interface SshArgs {
  identity: string[];
  knownHosts: string | undefined;
  acceptNewHostKey: boolean;
  sshCommand: string | undefined;
  remoteFxcp: string;
}

export function remoteUrl(text: string): SshUrl {
  if (!isSshUrl(text)) throw new UsageError(`${text}: a remote store is written ssh://[user@]host[:port]/path`);
  return parseSshUrl(text);
}

export function remoteOptions(argv: SshArgs, out: Output): RemoteOptions {
  return {
    identities: argv.identity, knownHosts: argv.knownHosts, acceptNewHostKey: argv.acceptNewHostKey, sshCommand: argv.sshCommand,
    remoteCommand: `${argv.remoteFxcp} serve --stdio`, version: fxcpVersion(), onNote: (line) => out.note(line),
  };
}

/** `sent 1.2 MiB, received 3.4 KiB` */
export function wireBytes(sent: number, received: number): string {
  return `sent ${formatBytes(sent)}, received ${formatBytes(received)}`;
}
