/**
 * The receiving end of a transfer (formats/wire.md §4): the server of a push, the client of a
 * pull. Every chunk is verified against its id (decompressed, BLAKE3) before it is added to a
 * pack, as an archive import does (the same Verifier: here at first, then in a worker pool with
 * a bounded number of bytes in flight); it is stored as it came, never recompressed. A snapshot
 * record is written last: after every pack is durable and indexed, and after a walk of its
 * trees (decoding each, which refuses names such as `..`) finds every chunk in the store.
 *
 * So a transfer cut anywhere lists no snapshot, and the durable packs it left are reused: the
 * next run's "have" answers count them (Store.reconcilePacks indexes a pack a killed receiver
 * sealed but had not indexed yet).
 */
import { FormatError, IntegrityError } from '../errors/index.js';
import type { Warn } from '../errors/index.js';
import { blake3 } from '../hash/blake3.js';
import { checkComplete, Verifier } from '../fxar/import-archive.js';
import { indexCopyOf } from '../snapshot/snapshot-catalogue.js';
import { checkSnapshot } from '../snapshot/snapshot-record.js';
import { type ChunkWriter, type ClaimTable, type Store, storeWriters } from '../store/index.js';
import type { WireChunk } from './wire-messages.js';

export interface ReceiveTotals { chunks: number; newChunks: number; newStoredBytes: number; skippedChunks: number }

export class ChunkReceiver {
  private writer: ChunkWriter | null = null;
  private verifier: Verifier | null = null;
  /** This transfer's claim table, when the store was empty (its packs are indexed at flush). */
  private claims: ClaimTable | null = null;
  private received = 0;
  readonly totals: ReceiveTotals = { chunks: 0, newChunks: 0, newStoredBytes: 0, skippedChunks: 0 };

  /** `where` names the sender in messages (`ssh://host/path: chunk ... is damaged`). */
  constructor(private readonly store: Store, private readonly where: string, private readonly onWarn?: Warn) {}

  /** Before the first chunk: as every writer, packs a killed writer left are indexed, and dead writers' temporaries removed. */
  async prepare(): Promise<{ writer: ChunkWriter; verifier: Verifier }> {
    if (this.writer && this.verifier) return { writer: this.writer, verifier: this.verifier };
    const { ChunkWriter, storeSpaceGuard } = await storeWriters();
    await this.store.reconcilePacks(this.onWarn);
    await this.store.cleanTmp();
    this.writer = new ChunkWriter(this.store, undefined, storeSpaceGuard(this.store, 'the transfer'));
    // Into an empty store (a first push or pull), packs are indexed at flush, in id order
    // (deferred-indexing.ts), as a first snapshot's are; the claim table answers meanwhile.
    this.claims = this.store.deferIndexingIfEmpty(this.writer);
    const writer = this.writer;
    this.verifier = new Verifier(this.where, 32 << 20, this.store.takesBundles ? async (b) => {
      const added = await writer.addBundle(b);
      this.totals.newChunks += added.chunks;
      this.totals.newStoredBytes += added.storedBytes;
    } : null);
    return { writer: this.writer, verifier: this.verifier };
  }

  /**
   * True when the store holds the chunk, or this receiver has it queued. The sender's question
   * before it sends: a claim table is only read here (the writer's `has` claims, in `add`).
   */
  has(id: Uint8Array): boolean {
    if (this.claims) return this.claims.holds(id) || this.store.index.hasChunk(id);
    return this.writer ? this.writer.has(id) : this.store.index.hasChunk(id);
  }

  /** Verifies and adds one chunk (its bytes are copied: `c` may be a view of a frame). */
  async add(c: WireChunk): Promise<void> {
    const { writer, verifier } = await this.prepare();
    this.totals.chunks++;
    const offset = this.received;
    this.received += c.stored.length;
    if (writer.has(c.id)) { this.totals.skippedChunks++; return; }
    const id = Buffer.from(c.id);
    const stored = Buffer.from(c.stored);
    await verifier.verifyThen({ id, type: c.type, codec: c.codec, rawLength: c.rawLength, stored, offset }, async (bytes) => {
      if (await writer.add(id, c.type, c.codec, c.rawLength, bytes)) {
        this.totals.newChunks++;
        this.totals.newStoredBytes += bytes.length;
      }
    });
  }

  /** Seals every pack: all chunks added so far are durable and indexed. */
  async flush(): Promise<void> {
    if (!this.writer || !this.verifier) return;
    await this.verifier.settle();
    await this.writer.flush();
    await this.store.endDeferredIndexing();
  }

  /**
   * Writes a snapshot record from its bytes (the id is computed here, never taken from the
   * sender): after flush, and only when its trees reach nothing the store lacks. `expectId`
   * (a pull asked for that id) must be what the bytes hash to.
   */
  async commit(bytes: Buffer, expectId?: string): Promise<{ id: string; added: boolean }> {
    const id = blake3().hash(bytes).toString('hex');
    const what = `${this.where}: snapshot ${id.slice(0, 12)}`;
    if (expectId !== undefined && id !== expectId) throw new IntegrityError(`${this.where}: the record sent for snapshot ${expectId.slice(0, 12)} hashes to ${id.slice(0, 12)}`, { snapshot: expectId });
    let value: unknown;
    try { value = JSON.parse(bytes.toString('utf8')); } catch {
      throw new FormatError(`${what}: record is not valid JSON`);
    }
    const record = checkSnapshot(value, what);
    if (this.store.index.hasSnapshot(id)) return { id, added: false };
    await this.flush();
    // The parent, when this store lists it, holds whole what the new snapshot shares with it
    // at the same paths: the check looks up only what changed (lib/snapshot/base-trees.ts).
    const parent = record.parent ? indexCopyOf(this.store.index, record.parent) : null;
    await this.store.commitSnapshot({ id, bytes, record }, {
      checkReferences: () => checkComplete(this.store, Buffer.from(record.tree, 'hex'), what, new Set(), {}, parent ? Buffer.from(parent.tree, 'hex') : undefined),
    });
    return { id, added: true };
  }

  /** After a failure: unsealed packs are dropped (their chunks were never indexed), workers end. */
  async abort(): Promise<void> {
    await this.verifier?.settle().catch(() => {});
    await this.writer?.abort();
    this.store.discardDeferredIndexing();
  }

  async close(): Promise<void> {
    await this.verifier?.close();
  }
}
