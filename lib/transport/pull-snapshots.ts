/**
 * `snap pull`: fetches snapshots of a server's store into a local one, only the chunks the
 * local store lacks (formats/wire.md §5, the roles of a push turned): the server walks each
 * snapshot's trees in pages (TWalk, TWalkNext), the local index decides what is missing, the
 * server sends it (TGetChunks: one RChunk frame each, handed on as it arrives), and the record
 * comes last (TGetSnapshot). The local side is a ChunkReceiver: every chunk verified against
 * its id, the record written only after every pack is durable and its trees are complete
 * here, so a hostile server cannot plant bytes, reach outside a restore (tree names are
 * checked), or leave a partial snapshot listed.
 *
 * TWalk names a base when both sides list a snapshot of the same source and host (pickBase):
 * the server then leaves out what is the base's at the same path, which this store holds.
 * A server that sends less than the snapshot needs gets no further: commit's check finds the
 * missing chunk and no record is written.
 */
import { throwIfAborted } from '../errors/index.js';
import type { Warn } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { listSnapshots, type SnapshotListing } from '../snapshot/snapshot-catalogue.js';
import { ChunkReceiver, type ReceiveTotals } from './chunk-receiver.js';
import { listRemote, pickBase, type RemoteSnapshot } from './push-snapshots.js';
import type { WireClient } from './wire-client.js';
import { FRAME } from './wire-layout.js';
import { decodeChunkRecords, decodeWalkPage, encodeIds, encodeJson } from './wire-messages.js';
import { TransportError } from '../errors/index.js';

export interface PullTotals extends ReceiveTotals {
  snapshots: Array<{ id: string; added: boolean }>;
  chunksOffered: number;
}

export interface PullOptions {
  signal?: AbortSignal;
  onWarn?: Warn;
  progress?: { files: number; bytes: number };
  /** The server's listing, when the caller has it already (else it is asked for). */
  remote?: readonly RemoteSnapshot[];
}

/** Ids fetched per TGetChunks: a bound on what one request keeps the server busy with. */
const GET_BATCH = 1024;

export async function pullSnapshots(store: Store, client: WireClient, ids: readonly string[], opts: PullOptions = {}): Promise<PullTotals> {
  const receiver = new ChunkReceiver(store, client.peer, opts.onWarn);
  const out: PullTotals['snapshots'] = [];
  let offered = 0;
  try {
    await receiver.prepare();
    const remote = opts.remote ?? await listRemote(client);
    const local = listSnapshots(store);
    for (const id of ids) {
      if (store.index.hasSnapshot(id)) { out.push({ id, added: false }); continue; }
      const info = remote.find((r) => r.id === id);
      const base = info && pickBase(info, local.filter((l) => remote.some((r) => r.id === l.id)));
      let page = decodeWalkPage(await client.raw(FRAME.TWalk, FRAME.RWalkIds, encodeJson({ snapshot: id, ...(base ? { base: base.id } : {}) })), 'RWalkIds');
      for (;;) {
        throwIfAborted(opts.signal);
        offered += page.entries.length;
        const missing = page.entries.filter((e) => !receiver.has(e.id));
        for (let i = 0; i < missing.length; i += GET_BATCH) {
          const want = missing.slice(i, i + GET_BATCH).map((e) => Buffer.from(e.id));
          let at = 0;
          await client.request(FRAME.TGetChunks, FRAME.RChunk, encodeIds(want), want.length, async (f) => {
            const records = decodeChunkRecords(f.body, 'RChunk');
            const c = records[0];
            if (records.length !== 1 || !c!.id.equals(want[at]!)) {
              throw new TransportError(`${client.peer}: RChunk ${at} is not the chunk asked for at that position`, {}, 'PROTOCOL');
            }
            at++;
            await receiver.add(c!);
            if (opts.progress) opts.progress.bytes += c!.rawLength;
          });
        }
        if (page.last) break;
        page = decodeWalkPage(await client.raw(FRAME.TWalkNext, FRAME.RWalkIds), 'RWalkIds');
      }
      const bytes = Buffer.from(await client.raw(FRAME.TGetSnapshot, FRAME.RSnapshotRecord, encodeJson({ id })));
      const added = await receiver.commit(bytes, id);
      out.push(added);
      const record = store.index.getSnapshot(id);
      if (record && !local.some((l) => l.id === id)) local.push({ id, record: record as SnapshotListing['record'] });
    }
  } catch (err) {
    await receiver.abort();
    throw err;
  } finally {
    await receiver.close();
  }
  return { ...receiver.totals, snapshots: out, chunksOffered: offered };
}
