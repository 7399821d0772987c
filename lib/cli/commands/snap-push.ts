/**
 * `fxcp snap push STORE ssh://...`: snapshots of a local store into a remote one, only the
 * chunks it lacks on the wire (lib/transport/push-snapshots.ts). Prints what crossed the wire.
 */
import { chooseSnapshots, listSnapshots, shortId } from '../../snapshot/snapshot-catalogue.js';
import { pushSnapshots } from '../../transport/push-snapshots.js';
import { openRemoteStore } from '../../transport/remote-store.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { formatBytes } from '../output.js';
import { ProgressBar } from '../progress-bar.js';
import { remoteOptions, remoteUrl, wireBytes } from './remote-options.js';

export async function run(argv: ArgsFor<'snap push'>, { out, signal, openStore }: CommandContext): Promise<number> {
  const url = remoteUrl(argv.remote);
  const counters = { files: 0, bytes: 0 };
  const bar = argv.progress ? new ProgressBar(counters, out.json, 'push').start() : null;
  // The connection (ssh, the server starting fxcp and opening its store) is made while the
  // local store opens: most of a push that has little to send is those two waits.
  const connecting = openRemoteStore(url, true, remoteOptions(argv, out));
  connecting.catch(() => {});
  try {
    return await openStore({ lock: 'shared', access: 'read' }, async (store) => {
      const chosen = chooseSnapshots(listSnapshots(store), argv, store.root, 'to push');
      const remote = await connecting;
      let totals;
      try {
        totals = await pushSnapshots(store, remote.client, chosen, { signal, progress: counters });
        await remote.end();
      } catch (err) {
        remote.abort();
        throw err;
      }
      bar?.stop();
      const { bytesSent, bytesReceived } = remote.channel;
      const added = totals.snapshots.filter((s) => s.added);
      out.result({ store: store.root, remote: url.text, remotePath: remote.store.path, bytesSent, bytesReceived, ...totals });
      out.line(`pushed ${added.length} of ${totals.snapshots.length} snapshot${totals.snapshots.length === 1 ? '' : 's'} ` +
        `(${totals.snapshots.map((s) => shortId(s.id) + (s.added ? '' : ' already there')).join(', ')}) to ${url.text}: ` +
        `${totals.chunksSent} chunks sent (${formatBytes(totals.storedBytesSent)}), ${totals.chunksSkipped} skipped (the remote had them); ` +
        wireBytes(bytesSent, bytesReceived));
      return EXIT.OK;
    });
  } catch (err) {
    // A local failure (no store, no such snapshot) ends the session being opened too.
    void connecting.then((r) => r.abort(), () => {});
    throw err;
  } finally {
    bar?.stop();
  }
}
