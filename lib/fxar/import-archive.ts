/**
 * Import: adds an FXAR v2 archive's snapshots to a store, read front to back from a stream
 * (file or stdin), writing only the chunks the store lacks.
 *
 * Every new chunk is decompressed and verified against its id before it is stored; it is
 * stored as the archive carries it (the store accepts every codec), except that small data
 * chunks are compressed together in bundles where the store's version allows them
 * (lib/store/verified-bundles.ts), as `snap create` stores them. Past the first VERIFY_HERE_BYTES (a small import never starts threads),
 * verification moves to a worker pool, in batches, with at most IN_FLIGHT_BYTES of chunks waiting, so
 * reading the stream, verifying and writing packs overlap. Snapshot records are held back (they are small) until the whole archive has
 * been read and its index and footer verified, then every chunk is durable and indexed, and
 * each snapshot's trees are checked to reach only chunks the store holds; only then is its
 * record written. So an import killed or fed a damaged archive never lists a snapshot that
 * cannot be restored; the chunks it did store are reused by the next attempt.
 */
import { availableParallelism } from 'node:os';
import { ChunkCodec } from '../codec/codec.js';
import { FormatError, IntegrityError, throwIfAborted } from '../errors/index.js';
import type { SpaceGuard } from '../fs/space-guard.js';
import type { Warn } from '../errors/index.js';
import { bundlesChunk, decodeVerified, type Store, storeWriters, type VerifiedBundle, VerifiedBundles } from '../store/index.js';
import { killPoint } from '../util/kill-point.js';
import { checkSnapshot, type SnapshotRecord } from '../snapshot/snapshot-record.js';
import { BaseTrees } from '../snapshot/base-trees.js';
import { END, ENTRY, TREE, TreeCursor } from '../snapshot/tree-walk.js';
import { WorkerPool } from '../util/worker-pool.js';
import { readArchiveStream, type ChunkRecord } from './stream-reader.js';
import type { VerifyItem, VerifyJob, VerifyResult } from './verify-worker.js';

const VERIFY_HERE_BYTES = 32 << 20;
const IN_FLIGHT_BYTES = 64 << 20;
/**
 * Chunks in flight at most, whatever their bytes: chunks of small files are ~1 KiB, and 64 MiB
 * of them was 65,000 jobs, each a promise chain, a message and its buffers. An import of a
 * million such chunks peaked at 649 MiB with the byte bound alone (a heap of up to 2.4 GiB
 * without the CLI's heap policy); in batches (below), 405 MiB at 2,048 and 438 at 8,192, in
 * the same time.
 */
const IN_FLIGHT_CHUNKS = 2048;
/**
 * Chunks verified by one worker job, at most BATCH_CHUNKS or about BATCH_BYTES: a job for each
 * chunk of small files cost the main thread ~15 µs of messages a chunk (an import of 1,075,249
 * chunks: 15 s of its 70 in postMessage, the workers idle 85 % of the time). In batches the
 * same import took 36 s and 52 CPU-s, against 67 s and 102. Limit: a chunk's write waits for
 * its batch to fill or for `settle`.
 */
const BATCH_CHUNKS = 256;
const BATCH_BYTES = 1 << 20;

export interface ImportOptions {
  signal?: AbortSignal;
  /** Chunk bytes verified on the main thread before the worker pool starts (default 32 MiB). */
  verifyHereBytes?: number;
  progress?: { files: number; bytes: number };
  /** Checks free space before each write to a pack (see ChunkWriter); stops with NO_SPACE. */
  spaceGuard?: SpaceGuard;
  onWarn?: Warn;
}

export interface ImportResult {
  archiveBytes: number;
  chunks: number;
  newChunks: number;
  newRawBytes: number;
  newStoredBytes: number;
  snapshots: Array<{ id: string; time: string; source: string; added: boolean }>;
}

export async function importArchive(source: AsyncIterable<Uint8Array>, where: string, store: Store, opts: ImportOptions = {}): Promise<ImportResult> {
  const { ChunkWriter } = await storeWriters();
  const writer = new ChunkWriter(store, undefined, opts.spaceGuard ?? null);
  const verifier = new Verifier(where, opts.verifyHereBytes ?? VERIFY_HERE_BYTES, store.takesBundles ? (b) => writer.addBundle(b) : null);
  const held: Array<{ id: string; bytes: Buffer; record: SnapshotRecord }> = [];
  const stream = readArchiveStream(source, where);
  let chunks = 0;
  let archiveBytes = 0;
  try {
    // As every writer: packs a killed writer left are indexed, packs that are gone forgotten,
    // so no chunk of the archive is skipped as "already stored" when it is not.
    await store.reconcilePacks(opts.onWarn);
    await store.cleanTmp();
    // Into an empty store every chunk is new and nothing needs the index before the records:
    // the packs are indexed at the end, in id order (deferred-indexing.ts), and `has` asks the
    // run's claim table meanwhile. An export of a million small files is a million random
    // index inserts otherwise (~17 s of CPU on the bench machine, 120 s at three million).
    store.deferIndexingIfEmpty(writer);
    for (;;) {
      throwIfAborted(opts.signal);
      const r = await stream.next();
      if (r.done) { archiveBytes = r.value.bytes; break; }
      const ev = r.value;
      if (ev.kind === 'snapshot') {
        const id = ev.id.toString('hex');
        let value: unknown;
        try { value = JSON.parse(ev.bytes.toString('utf8')); } catch {
          throw new FormatError(`${where}: snapshot ${id.slice(0, 12)} at offset ${ev.offset} is not valid JSON`, { path: where });
        }
        held.push({ id, bytes: ev.bytes, record: checkSnapshot(value, `${where}: snapshot ${id.slice(0, 12)}`) });
        continue;
      }
      chunks++;
      if (opts.progress) opts.progress.bytes += ev.rawLength;
      if (writer.has(ev.id)) continue;
      await verifier.verifyThen(ev, (stored) => writer.add(ev.id, ev.type, ev.codec, ev.rawLength, stored));
    }
    await verifier.settle();
    await writer.flush();
    killPoint('import:before-merge');
    await store.endDeferredIndexing();
  } catch (err) {
    await verifier.settle().catch(() => {});
    await writer.abort();
    store.discardDeferredIndexing();
    throw err;
  } finally {
    await verifier.close();
  }
  const snapshots: ImportResult['snapshots'] = [];
  for (const s of held) {
    const added = !store.index.hasSnapshot(s.id);
    if (added) {
      // An archive's chunks were never checked against the store: its trees are, always.
      await store.commitSnapshot(s, { checkReferences: () => checkComplete(store, Buffer.from(s.record.tree, 'hex'), `${where}: snapshot ${s.id.slice(0, 12)}`, new Set(), opts) });
    }
    snapshots.push({ id: s.id, time: s.record.time, source: s.record.source, added });
  }
  await store.index.flushed();
  return { archiveBytes, chunks, newChunks: writer.stats.newChunks, newRawBytes: writer.stats.newRawBytes, newStoredBytes: writer.stats.newStoredBytes, snapshots };
}

/**
 * Walks a snapshot's trees (verifying each) and checks every file chunk is in the store; a
 * receiver of chunks over the wire (lib/transport/chunk-receiver.ts) checks the same way.
 */
export async function checkComplete(store: Store, treeId: Buffer, what: string, seen: Set<string>, opts: Pick<ImportOptions, 'progress'>, base?: Buffer): Promise<void> {
  // `base`: the root tree of a snapshot the store lists, so holds whole (base-trees.ts): what
  // is the base's at the same path needs no look-up.
  const beside = base ? new BaseTrees(store, base) : null;
  const c = new TreeCursor(store, treeId);
  for (let s = c.step(); s !== END; s = c.step()) {
    if (s === TREE) {
      const key = c.treeId.toString('latin1');
      if (seen.has(key) || beside?.sameTree(c)) { c.skip(); continue; }
      seen.add(key);
      await c.load();
      await beside?.entered(c);
    } else if (s === ENTRY && c.entry.type === 'file') {
      const e = c.entry;
      if (opts.progress) opts.progress.files++;
      if (beside?.sameFile(c)) continue;
      for (const ch of e.chunks ?? []) {
        if (!store.index.hasChunk(ch.id)) {
          throw new IntegrityError(`${what}: file ${JSON.stringify(e.name.toString('utf8'))} needs chunk ${ch.id.toString('hex').slice(0, 16)}, which the archive does not hold; snapshot not imported`);
        }
      }
    }
  }
}

/** Where a Verifier puts each bundle of verified small data chunks (ChunkWriter.addBundle). */
export type BundleSink = (b: VerifiedBundle) => Promise<unknown>;

/**
 * Verifies chunks here at first, then in a worker pool, in batches, with a bounded number of
 * bytes waiting. With a BundleSink, small data chunks go to it in bundles (lib/store/verified-bundles.ts)
 * instead of to their `then`.
 */
export class Verifier {
  private readonly codec = new ChunkCodec();
  private pool: WorkerPool | null = null;
  private verifiedHere = 0;
  private inFlight = 0;
  private chunksInFlight = 0;
  private readonly jobs = new Set<Promise<unknown>>();
  /** Callers waiting for room (a job's end wakes them; not Promise.race over every job in flight). */
  private waiting: Array<() => void> = [];
  private failure: unknown = null;
  /** Chunks gathered for the next job, and what to do with each once verified (null: a bundle member). */
  private batch: Array<{ item: VerifyItem; stored: Uint8Array; then: ((stored: Uint8Array) => Promise<unknown>) | null }> = [];
  private batchBytes = 0;
  /** The bundles of the chunks verified on this thread. */
  private here: VerifiedBundles | null = null;

  constructor(private readonly where: string, private readonly hereBytes: number, private readonly bundleInto: BundleSink | null = null) {}

  /**
   * Verifies `ev`'s chunk, then calls `then` with its stored bytes (ev.stored may be gone: sent
   * to a worker), or gives it to the BundleSink in a bundle. In the pool, that may wait until
   * more chunks come or `settle` is called.
   */
  async verifyThen(ev: Pick<ChunkRecord, 'id' | 'type' | 'codec' | 'rawLength' | 'stored' | 'offset'>, then: (stored: Uint8Array) => Promise<unknown>): Promise<void> {
    if (this.failure) throw this.failure;
    const item: VerifyItem = { id: new Uint8Array(ev.id), type: ev.type, codec: ev.codec, rawLength: ev.rawLength, storedLength: ev.stored.length, offset: ev.offset };
    const member = this.bundleInto !== null && bundlesChunk(ev.type, ev.rawLength);
    if (this.verifiedHere < this.hereBytes) {
      this.verifiedHere += ev.rawLength;
      const raw = await decodeVerified(this.codec, this.where, ev.id, item, ev.stored);
      if (!member) {
        await then(ev.stored);
        return;
      }
      this.here ??= new VerifiedBundles(this.codec);
      this.here.add(ev.id, raw);
      for (const b of this.here.take()) await this.bundleInto!(b);
      return;
    }
    this.batch.push({ item, stored: ev.stored, then: member ? null : then });
    this.batchBytes += ev.stored.length;
    if (this.batch.length >= BATCH_CHUNKS || this.batchBytes >= BATCH_BYTES) await this.send();
  }

  /** Sends the gathered chunks to the pool as one job, once there is room. */
  private async send(): Promise<void> {
    const batch = this.batch, size = this.batchBytes;
    if (batch.length === 0) return;
    this.batch = [];
    this.batchBytes = 0;
    this.pool ??= new WorkerPool('fxar/verify-worker.js', {}, Math.max(1, availableParallelism()));
    while (this.inFlight > IN_FLIGHT_BYTES || this.chunksInFlight >= IN_FLIGHT_CHUNKS) await new Promise<void>((wake) => this.waiting.push(wake));
    if (this.failure) throw this.failure;
    // The bytes travel to the worker and back transferred, not cloned: one buffer of their own
    // (a lone chunk's payload as the stream reader made it, if it owns its buffer).
    const one = batch.length === 1 ? batch[0].stored : null;
    const stored = one && one.byteOffset === 0 && one.byteLength === one.buffer.byteLength ? one : Buffer.concat(batch.map((b) => b.stored), size);
    const job: VerifyJob = { where: this.where, items: batch.map((b) => b.item), stored, bundle: this.bundleInto !== null };
    this.inFlight += size;
    this.chunksInFlight += batch.length;
    const p: Promise<unknown> = this.pool.run<VerifyResult>(job, [stored.buffer as ArrayBuffer])
      .then(async (back) => {
        let at = 0;
        for (const b of batch) {
          if (b.then) await b.then(back.stored.subarray(at, at + b.item.storedLength));
          at += b.item.storedLength;
        }
        for (const b of back.bundles) await this.bundleInto!(asBuffers(b));
      })
      .catch((err) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.inFlight -= size;
        this.chunksInFlight -= batch.length;
        this.jobs.delete(p);
        for (const wake of this.waiting.splice(0)) wake();
      });
    this.jobs.add(p);
  }

  /** Waits for every verification (and its write); throws the first failure. */
  async settle(): Promise<void> {
    if (!this.failure && this.here) {
      this.here.close();
      for (const b of this.here.take()) await this.bundleInto!(b);
    }
    if (!this.failure) await this.send();
    await Promise.all(this.jobs);
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}

/** A bundle as it arrives from a worker (its Buffers cloned as Uint8Arrays), with Buffers again. */
function asBuffers(b: VerifiedBundle): VerifiedBundle {
  const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  return { ids: b.ids.map(buf), lengths: b.lengths, raw: buf(b.raw), encoded: b.encoded };
}
