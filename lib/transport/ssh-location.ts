/**
 * A store on an SSH server used directly, `ssh://[user@]host[:port]/path`, as a StoreLocation:
 * every command that takes a STORE runs its Store code here, as for s3:// (s3-location.ts),
 * and `fxcp serve --stdio` on the server only keeps the files (blob-serve.ts, formats/wire.md
 * §7). The index is a local cache in $XDG_CACHE_HOME/foxing/STORE-ID/ (~/.cache when unset),
 * brought in step with the server's pack list at every open; the lock is the server's own lock
 * file, held by the serve process for the session (so it also holds off a prune run on the
 * server itself, and goes stale the moment the connection drops).
 *
 * No command-line options reach this: ssh settings come from ~/.ssh/config (User, Port,
 * IdentityFile, UserKnownHostsFile), the agent and ~/.ssh/id_*, as borg and restic take them;
 * FOXING_SSH_COMMAND ('ssh -J jump ...') uses the system ssh instead (borg's BORG_RSH), and
 * FOXING_REMOTE_FXCP names the fxcp to run on the server. An unknown host is refused: trust it
 * first with `ssh` or with `snap push --accept-new-host-key`.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fxcpVersion } from '../cli/fxcp-version.js';
import { FormatError, NotFoundError, type Warn } from '../errors/index.js';
import { DIRS, newStoreConfig, type RemoteStore, type StoreLocation } from '../store/index.js';
import { endsBlobSession } from './blob-messages.js';
import { connectRemote } from './remote-store.js';
import { SshStorage } from './ssh-storage.js';
import { parseSshUrl } from './ssh-url.js';
import { FRAME } from './wire-layout.js';
import { booleanField, numberField, stringField } from './wire-messages.js';

export interface SshLocationOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** Lines of the ssh client and of the server's stderr (SSH_NOTE). */
  onWarn?: Warn;
}

interface OpenedBlobs { path: string; config: string | null; holds: string | null }

export async function sshLocation(arg: string, opts: SshLocationOptions = {}): Promise<StoreLocation> {
  const url = parseSshUrl(arg);
  const env = opts.env ?? process.env;
  const name = url.text.replace(/\/+$/, '');
  const session = await connectRemote(url, {
    identities: [], acceptNewHostKey: false, sshCommand: env.FOXING_SSH_COMMAND || undefined,
    remoteCommand: `${env.FOXING_REMOTE_FXCP || 'fxcp'} serve --stdio`, version: fxcpVersion(),
    onNote: (line) => opts.onWarn?.('SSH_NOTE', line, { store: name }), env: env as NodeJS.ProcessEnv, home: env.HOME,
  }, async (client): Promise<OpenedBlobs> => {
    client.recoverable = (code) => !endsBlobSession(code);
    const r = await client.json(FRAME.TOpenBlobs, FRAME.ROpenBlobs, { path: url.path });
    const text = (key: string) => (r[key] === null ? null : stringField(r, key, 'ROpenBlobs'));
    return { path: stringField(r, 'path', 'ROpenBlobs'), config: text('config'), holds: text('holds') };
  });
  try {
    const { client } = session;
    const { config: configText, holds } = session.store;
    const fresh = configText === null ? newStoreConfig() : null;
    let id = fresh?.id;
    if (configText !== null) {
      try { id = String((JSON.parse(configText) as { id?: unknown }).id); } catch { id = undefined; }
      if (!id || !/^[0-9a-f]{8,64}$/.test(id)) throw new FormatError(`${name}/config: not a foxing store (config is not a foxing config)`, { path: name }, 'NOT_A_STORE');
    }
    const cacheHome = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
    const root = join(cacheHome, 'foxing', id!);
    mkdirSync(root, { recursive: true });
    const storage = new SshStorage(client, name, () => session.end());
    const remote: RemoteStore = {
      name,
      configText,
      freshConfig: fresh,
      async createConfig(text) {
        return (await client.json(FRAME.TConfigCreate, FRAME.ROk, { text })).created === true;
      },
      async missingStore() {
        if (holds !== null) return new FormatError(`${name}: not a foxing store (no config, and the directory holds ${holds})`, { path: name }, 'NOT_A_STORE');
        return new NotFoundError(`${name}: no such store`, { path: name }, 'NO_STORE');
      },
      async lock(o) {
        await client.json(FRAME.TLock, FRAME.ROk, { exclusive: o.exclusive, command: o.command, waitMs: o.waitMs ?? 0 });
        return { release: async () => { await client.json(FRAME.TUnlock, FRAME.ROk); } };
      },
      async cleanTemporaries() {
        return numberField(await client.json(FRAME.TCleanTemporaries, FRAME.ROk), 'removed', 'ROk');
      },
      async upgradeConfig(to) {
        const r = await client.json(FRAME.TConfigUpgrade, FRAME.ROk, { version: to });
        return { from: numberField(r, 'from', 'ROk'), to: numberField(r, 'to', 'ROk'), changed: booleanField(r, 'changed', 'ROk') };
      },
      async removeIfUnused() {
        await client.json(FRAME.TRemoveIfUnused, FRAME.ROk);
      },
    };
    return { root, storage, indexDir: join(root, DIRS.index), remote };
  } catch (err) {
    session.abort();
    throw err;
  }
}
