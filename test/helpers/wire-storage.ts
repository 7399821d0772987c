/**
 * An SshStorage (lib/transport/ssh-storage.ts) over an in-memory pair to the real server's blob
 * session (serveSession, blob-serve.ts) on the directory `root`: the wire backend without ssh.
 */
import { PassThrough } from 'node:stream';
import { endsBlobSession } from '../../lib/transport/blob-messages.js';
import { FrameChannel } from '../../lib/transport/frame-channel.js';
import { serveSession } from '../../lib/transport/serve-session.js';
import { SshStorage } from '../../lib/transport/ssh-storage.js';
import { WireClient } from '../../lib/transport/wire-client.js';
import { FRAME } from '../../lib/transport/wire-layout.js';

export async function wireStorage(root: string, opts: { appendOnly?: boolean; restrictTo?: string } = {}) {
  const up = new PassThrough(), down = new PassThrough();
  const server = serveSession(new FrameChannel(up, down, 'server', 'client'), {
    appendOnly: opts.appendOnly ?? false, restrictTo: opts.restrictTo, version: 'test',
    openStore: () => { throw new Error('a blob session opens no Store'); },
  });
  server.catch(() => {});
  const client = new WireClient(new FrameChannel(down, up, 'client', 'mem://server'), 'test');
  client.recoverable = (code) => !endsBlobSession(code);
  await client.hello();
  const opened = await client.json(FRAME.TOpenBlobs, FRAME.ROpenBlobs, { path: root });
  const storage = new SshStorage(client, `mem://server${root}`, async () => {
    await client.bye().catch(() => {});
    await server.catch(() => {});
  });
  return { storage, client, server, opened };
}
