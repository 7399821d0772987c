/**
 * Stores one file's content that arrives as a stream (a tar member, stdin) as chunks: cut by
 * the store's chunker, hashed, compressed with the chosen codec and added through a
 * ChunkWriter (which skips chunks the store already has). Runs on the calling thread.
 *
 * Memory: at most BATCH bytes of pending input plus the unfinished tail of the last cut (under
 * the chunker's max), whatever the file size.
 */
import { createChunker, type Chunker } from '../chunker/index.js';
import { ChunkCodec, CODEC_IDS, type CodecSpec } from '../codec/codec.js';
import { blake3 } from '../hash/blake3.js';
import type { ChunkRef } from './chunk-ref.js';
import type { Store } from './chunk-store.js';
import type { ChunkWriter } from './chunk-writer.js';
import { CHUNK_DATA } from './store-layout.js';

const BATCH = 4 << 20;

export class StreamChunker {
  private readonly chunker: Chunker;
  private readonly codec = new ChunkCodec();
  private readonly hash = blake3();
  private parts: Uint8Array[] = [];
  private pendingBytes = 0;
  private refs: ChunkRef[] = [];
  private total = 0;

  constructor(store: Store, private readonly writer: ChunkWriter, private readonly spec: CodecSpec) {
    this.chunker = createChunker(store.config.chunker);
  }

  /** Adds the next bytes of the current file (the buffer may be reused by the caller after). */
  async add(piece: Uint8Array): Promise<void> {
    this.parts.push(Buffer.from(piece));
    this.pendingBytes += piece.length;
    this.total += piece.length;
    if (this.pendingBytes >= BATCH) await this.cut(false);
  }

  /** Ends the current file: returns its chunk list and byte count, and resets for the next. */
  async finish(): Promise<{ chunks: ChunkRef[]; bytes: number }> {
    await this.cut(true);
    const out = { chunks: this.refs, bytes: this.total };
    this.refs = [];
    this.total = 0;
    return out;
  }

  private async cut(final: boolean): Promise<void> {
    if (this.pendingBytes === 0) return;
    const buf = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.pendingBytes);
    const lengths = this.chunker.cutLengths(buf, final);
    let o = 0;
    for (let i = 0; i < lengths.length; i++) {
      const chunk = buf.subarray(o, o + lengths[i]);
      o += lengths[i];
      await this.store(chunk);
    }
    const tail = buf.subarray(o);
    this.parts = tail.length ? [Buffer.from(tail)] : [];
    this.pendingBytes = tail.length;
  }

  private async store(chunk: Buffer): Promise<void> {
    const id = this.hash.hash(chunk);
    this.refs.push({ id, length: chunk.length });
    if (this.writer.has(id)) return;
    const stored = await this.codec.compress(this.spec, chunk);
    await this.writer.add(id, CHUNK_DATA, stored ? CODEC_IDS[this.spec.name] : 0, chunk.length, stored ?? chunk);
  }
}
