/**
 * A session with a remote store: the pipe (ssh2, or the system ssh with --ssh-command), the
 * hello both ways, and the store opened. What `snap push` and `snap pull` share.
 */
import { FrameChannel } from './frame-channel.js';
import { openCommandPipe } from './ssh-command.js';
import { openSshPipe, type RemotePipe, type SshOptions } from './ssh-connect.js';
import type { SshUrl } from './ssh-url.js';
import { type OpenedStore, type ServerHello, WireClient } from './wire-client.js';

export interface RemoteOptions extends SshOptions {
  /** --ssh-command: the system ssh instead of ssh2. */
  sshCommand?: string;
  version: string;
}

export interface RemoteSession<S = OpenedStore> {
  client: WireClient;
  hello: ServerHello;
  store: S;
  channel: FrameChannel;
  /** TBye, then the pipe closed. */
  end(): Promise<void>;
  /** The pipe closed at once (after an error). */
  abort(): void;
}

export async function openRemoteStore(url: SshUrl, create: boolean, opts: RemoteOptions): Promise<RemoteSession> {
  return connectRemote(url, opts, (client) => client.open(url.path, create));
}

/** The pipe, the hello both ways, then `open` (TOpen, or TOpenBlobs: ssh-location.ts). */
export async function connectRemote<S>(url: SshUrl, opts: RemoteOptions, open: (client: WireClient) => Promise<S>): Promise<RemoteSession<S>> {
  const pipe: RemotePipe = opts.sshCommand !== undefined
    ? openCommandPipe(url, opts.sshCommand, opts.remoteCommand, opts.onNote)
    : await openSshPipe(url, opts);
  const channel = new FrameChannel(pipe.input, pipe.output, 'client', pipe.peer);
  const client = new WireClient(channel, opts.version);
  try {
    // The open goes out right behind the hello, a round trip less: a server refuses a hello it
    // cannot speak and ends the session before it reads what follows (formats/wire.md §2).
    const helloing = client.hello();
    const opening = open(client);
    opening.catch(() => {});
    const hello = await helloing;
    const store = await opening;
    return {
      client, hello, store, channel,
      async end() { try { await client.bye(); } finally { pipe.close(); } },
      abort() { client.close(); pipe.close(); },
    };
  } catch (err) {
    client.close();
    pipe.close();
    throw err;
  }
}
