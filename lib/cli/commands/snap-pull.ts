/**
 * `fxcp snap pull ssh://... STORE`: snapshots of a remote store into a local one (created when
 * missing), only the chunks it lacks on the wire (lib/transport/pull-snapshots.ts).
 */
import { chooseSnapshots, shortId } from '../../snapshot/snapshot-catalogue.js';
import type { SnapshotRecord } from '../../snapshot/snapshot-record.js';
import { listRemote } from '../../transport/push-snapshots.js';
import { pullSnapshots } from '../../transport/pull-snapshots.js';
import { openRemoteStore } from '../../transport/remote-store.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { formatBytes } from '../output.js';
import { ProgressBar } from '../progress-bar.js';
import { remoteOptions, remoteUrl, wireBytes } from './remote-options.js';

export async function run(argv: ArgsFor<'snap pull'>, { out, signal, openStore }: CommandContext): Promise<number> {
  const url = remoteUrl(argv.remote);
  const counters = { files: 0, bytes: 0 };
  const bar = argv.progress ? new ProgressBar(counters, out.json, 'pull').start() : null;
  try {
    const remote = await openRemoteStore(url, false, remoteOptions(argv, out));
    try {
      // Listings as the catalogue's, for the same choice rules (only id and time are read).
      const listing = await listRemote(remote.client);
      const all = listing.map((s) => ({ id: s.id, record: { time: s.time } as SnapshotRecord }));
      const chosen = chooseSnapshots(all, argv, url.text, 'to pull');
      return await openStore({ create: true, lock: 'shared' }, async (store) => {
        const totals = await pullSnapshots(store, remote.client, chosen.map((s) => s.id), { signal, onWarn: out.warn, progress: counters, remote: listing });
        await remote.end();
        bar?.stop();
        const { bytesSent, bytesReceived } = remote.channel;
        const added = totals.snapshots.filter((s) => s.added);
        out.result({ store: store.root, remote: url.text, remotePath: remote.store.path, bytesSent, bytesReceived, ...totals });
        out.line(`pulled ${added.length} of ${totals.snapshots.length} snapshot${totals.snapshots.length === 1 ? '' : 's'} ` +
          `(${totals.snapshots.map((s) => shortId(s.id) + (s.added ? '' : ' already here')).join(', ')}) from ${url.text}: ` +
          `${totals.newChunks} new chunks (${formatBytes(totals.newStoredBytes)}), ${totals.chunksOffered - totals.chunks} skipped (already here); ` +
          wireBytes(bytesSent, bytesReceived));
        return EXIT.OK;
      });
    } catch (err) {
      remote.abort();
      throw err;
    }
  } finally {
    bar?.stop();
  }
}
