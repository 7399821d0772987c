/**
 * `snap push`: sends snapshots of a local store to a server's store, only the chunks it lacks
 * (formats/wire.md §5). Per snapshot the server does not list yet: walk its trees in pages of
 * ids (snapshot-chunks.ts), ask which the server has (THaveChunks), send the others as stored
 * in the packs (TPutChunks: up to PUT_FRAME_BYTES of records a frame, at most PUT_WINDOW_BYTES
 * not yet acknowledged), and last the record (TPutSnapshot), which the server writes only once
 * every chunk is durable and its trees are complete there.
 *
 * One page's "have" question is sent before the previous page's chunks have all gone, so the
 * round trip overlaps the sending.
 *
 * Each snapshot is walked beside a base the server lists (pickBase): its parent when the server
 * has it, else the newest listed snapshot of the same source and host. What is the base's at
 * the same path is not offered (lib/snapshot/base-trees.ts), so the next snapshot of a source
 * costs questions about what changed only, not about every chunk of the source.
 */
import { throwIfAborted, TransportError } from '../errors/index.js';
import { encodeSnapshot } from '../snapshot/snapshot-record.js';
import { listSnapshots, type SnapshotListing } from '../snapshot/snapshot-catalogue.js';
import type { Store } from '../store/index.js';
import { SnapshotChunks } from './snapshot-chunks.js';
import type { WireClient } from './wire-client.js';
import { FRAME, PUT_FRAME_BYTES, PUT_WINDOW_BYTES } from './wire-layout.js';
import { chunkRecordBytes, decodeBitmap, decodeJson, encodeChunkRecords, encodeIds, type WalkEntry, type WireChunk } from './wire-messages.js';

export interface PushTotals {
  snapshots: Array<{ id: string; added: boolean }>;
  chunksOffered: number;
  chunksSent: number;
  chunksSkipped: number;
  storedBytesSent: number;
}

export interface PushOptions {
  signal?: AbortSignal;
  progress?: { files: number; bytes: number };
}

export async function pushSnapshots(store: Store, client: WireClient, chosen: readonly SnapshotListing[], opts: PushOptions = {}): Promise<PushTotals> {
  const remote = new Set((await listRemote(client)).map((s) => s.id));
  const totals: PushTotals = { snapshots: [], chunksOffered: 0, chunksSent: 0, chunksSkipped: 0, storedBytesSent: 0 };
  const walker = new SnapshotChunks(store, opts.signal);
  const puts = new PutWindow(client);
  const local = listSnapshots(store);
  for (const s of chosen) {
    if (remote.has(s.id)) { totals.snapshots.push({ id: s.id, added: false }); continue; }
    const base = pickBase({ id: s.id, ...s.record }, local.filter((b) => remote.has(b.id)));
    walker.start(Buffer.from(s.record.tree, 'hex'), base && Buffer.from(base.record.tree, 'hex'));
    let page = await walker.next();
    let asked = askHave(client, page.entries);
    for (;;) {
      throwIfAborted(opts.signal);
      const entries = page.entries;
      const have = await asked;
      const last = page.last;
      if (!last) {
        page = await walker.next();
        asked = askHave(client, page.entries);
      }
      for (let i = 0; i < entries.length; i++) {
        totals.chunksOffered++;
        if (have[i]) { totals.chunksSkipped++; continue; }
        const { id, type } = entries[i]!;
        const loc = store.locate(id);
        const { codec, stored } = await store.readPortable(id, loc);
        await puts.add({ id, type, codec, rawLength: loc.rawLength, stored });
        totals.chunksSent++;
        totals.storedBytesSent += stored.length;
        if (opts.progress) opts.progress.bytes += loc.rawLength;
      }
      if (opts.progress) opts.progress.files = walker.files;
      if (last) break;
    }
    await puts.drain();
    const { id, bytes } = encodeSnapshot(s.record);
    const r = decodeJson(await client.raw(FRAME.TPutSnapshot, FRAME.RPutSnapshot, bytes), 'RPutSnapshot');
    totals.snapshots.push({ id, added: r.added === true });
    remote.add(id);
  }
  return totals;
}

/** What picking a base needs of a snapshot: a local listing's record, or a server's listing. */
export interface BaseWanted { id: string; parent?: string | null; source: string; host: string }

/**
 * The snapshot to walk `s` beside, among `held` (snapshots both sides list): `s`'s parent, else
 * the newest of the same source and host, else none (every chunk is asked about, as before).
 */
export function pickBase(s: BaseWanted, held: readonly SnapshotListing[]): SnapshotListing | undefined {
  const parent = held.find((b) => b.id === s.parent);
  if (parent) return parent;
  let best: SnapshotListing | undefined;
  for (const b of held) {
    if (b.id === s.id || b.record.source !== s.source || b.record.host !== s.host) continue;
    if (!best || b.record.time > best.record.time) best = b;
  }
  return best;
}

export interface RemoteSnapshot { id: string; time: string; source: string; host: string; tags: string[] }

export async function listRemote(client: WireClient): Promise<RemoteSnapshot[]> {
  const r = await client.json(FRAME.TListSnapshots, FRAME.RSnapshots);
  if (!Array.isArray(r.snapshots)) throw new TransportError(`${client.peer}: RSnapshots has no snapshot list`, {}, 'PROTOCOL');
  return (r.snapshots as RemoteSnapshot[]).filter((s) => typeof s?.id === 'string' && /^[0-9a-f]{64}$/.test(s.id));
}

async function askHave(client: WireClient, entries: readonly WalkEntry[]): Promise<boolean[]> {
  if (entries.length === 0) return [];
  const body = await client.raw(FRAME.THaveChunks, FRAME.RHaveChunks, encodeIds(entries.map((e) => e.id)));
  return decodeBitmap(body, entries.length, 'RHaveChunks');
}

/** TPutChunks frames being filled and sent, with at most PUT_WINDOW_BYTES unacknowledged. */
class PutWindow {
  private batch: WireChunk[] = [];
  private batchBytes = 0;
  private readonly inFlight: Array<{ bytes: number; done: Promise<void> }> = [];
  private inFlightBytes = 0;

  constructor(private readonly client: WireClient) {}

  async add(c: WireChunk): Promise<void> {
    const size = chunkRecordBytes(c.stored.length);
    if (this.batch.length > 0 && this.batchBytes + size > PUT_FRAME_BYTES) await this.send();
    this.batch.push(c);
    this.batchBytes += size;
  }

  /** Sends what is batched and waits for every acknowledgement. */
  async drain(): Promise<void> {
    if (this.batch.length > 0) await this.send();
    while (this.inFlight.length > 0) await this.settleOldest();
  }

  private async send(): Promise<void> {
    const body = encodeChunkRecords(this.batch);
    this.batch = [];
    this.batchBytes = 0;
    while (this.inFlight.length > 0 && this.inFlightBytes + body.length > PUT_WINDOW_BYTES) await this.settleOldest();
    const done = this.client.request(FRAME.TPutChunks, FRAME.RPutChunks, body, 1, () => {});
    this.inFlight.push({ bytes: body.length, done });
    this.inFlightBytes += body.length;
  }

  private async settleOldest(): Promise<void> {
    const p = this.inFlight.shift()!;
    this.inFlightBytes -= p.bytes;
    await p.done;
  }
}
