/**
 * Appends chunk records to one pack blob, then seals it with a trailer. Writes are batched
 * into ~1 MiB buffers. A writer that failed is broken and says so; its blob is aborted, so a
 * half-written pack never appears under a pack name.
 */
import { ToolkitError } from '../errors/index.js';
import type { BlobStorage, BlobWriter } from './blob-storage.js';
import { encodePackHeader, encodeRecordHeader, encodeTrailer, type PackEntry, packIdFromChecksum } from './pack-codec.js';
import { PACK_HEADER_BYTES, RECORD_HEADER_BYTES } from './store-layout.js';

const FLUSH_BYTES = 1 << 20;

export interface SealedPack { packId: string; entries: PackEntry[]; size: number }

export class PackWriter {
  private readonly entries: PackEntry[] = [];
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private offset = PACK_HEADER_BYTES;
  private broken: unknown = null;
  private chain: Promise<void> = Promise.resolve();

  private constructor(private readonly blob: BlobWriter) {
    this.pending.push(encodePackHeader());
    this.pendingBytes = PACK_HEADER_BYTES;
  }

  static async open(storage: BlobStorage): Promise<PackWriter> {
    return new PackWriter(await storage.create('pack'));
  }

  get size(): number { return this.offset; }
  get count(): number { return this.entries.length; }
  /** Bytes handed to the blob writer but not yet written. */
  get queued(): number { return this.inFlight + this.pendingBytes; }
  private inFlight = 0;

  /** Queues a record; data is written in order. Throws if an earlier write failed. */
  add(id: Buffer, type: number, codec: number, rawLength: number, stored: Uint8Array): void {
    if (this.broken) throw new ToolkitError('PACK_BROKEN', 'pack writer is unusable after a failed write', {}, { cause: this.broken });
    const entry: PackEntry = { id, type, codec, rawLength, storedLength: stored.byteLength, offset: this.offset };
    this.entries.push(entry);
    const header = encodeRecordHeader(entry);
    this.pending.push(header, stored);
    this.pendingBytes += header.byteLength + stored.byteLength;
    this.offset += RECORD_HEADER_BYTES + stored.byteLength;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const parts = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.inFlight += bytes;
    this.chain = this.chain
      .then(() => this.blob.writev(parts))
      .then(() => { this.inFlight -= bytes; }, (err) => { this.broken = err; throw err; });
    // The failure is reported by the next add/drain/seal; never as an unhandled rejection.
    this.chain.catch(() => {});
  }

  /** Waits for queued writes (backpressure point for producers). */
  async drain(): Promise<void> {
    await this.chain;
  }

  /** Writes the trailer, makes the pack durable and visible, and returns its id and entries. */
  async seal(): Promise<SealedPack> {
    const { trailer, checksum } = encodeTrailer(this.entries, this.offset);
    this.pending.push(trailer);
    this.pendingBytes += trailer.byteLength;
    this.flush();
    const packId = packIdFromChecksum(checksum);
    try {
      await this.chain;
      await this.blob.commit(packId);
    } catch (err) {
      await this.blob.abort();
      throw err;
    }
    return { packId, entries: this.entries, size: this.offset + trailer.byteLength };
  }

  async abort(): Promise<void> {
    await this.chain.catch(() => {});
    await this.blob.abort();
  }
}
