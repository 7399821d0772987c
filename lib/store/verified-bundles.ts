/**
 * Bundles for an import (or a transfer's receiver): its small data chunks, verified, compressed
 * together as `snap create` stores them (formats/store.md §7.6) instead of one by one as the
 * archive carries them.
 *
 * Used where the raw bytes are at hand once a chunk is verified: by the import's verify workers
 * (lib/fxar/verify-worker.ts, which load this file directly: a job's chunks, its last bundle
 * closing with the job) and by the main thread for the first
 * chunks of an import. Bundles are compressed with zstd at level 1 whatever the archive's
 * codec (chosen for the archive, not the store). That import, measured: one by one 36 s, 52
 * CPU-s, 1.13 GiB stored; bundled at level 3, 69 s, 104 CPU-s, 915 MiB; at level 1, 49 s, 71
 * CPU-s, 891 MiB (the store it came from: 885 MiB). Every result is in buffers of its own, so
 * that a worker can transfer it.
 */
import { ChunkCodec, CODEC_IDS } from '../codec/codec.js';
import { ChunkBundler, type BundleMembers, type EncodedBundle } from './chunk-bundler.js';
import { BUNDLE_MEMBER_MAX, CHUNK_DATA } from './store-layout.js';

/** A closed bundle: its members and their raw bytes back to back, and those bytes as stored (null: they did not compress). */
export interface VerifiedBundle extends BundleMembers { encoded: EncodedBundle }

/** Whether a verified chunk goes into a bundle: a data chunk under the member limit. */
export function bundlesChunk(type: number, rawLength: number): boolean {
  return type === CHUNK_DATA && rawLength < BUNDLE_MEMBER_MAX;
}

export class VerifiedBundles {
  private readonly bundler = new ChunkBundler();
  private readonly closed: VerifiedBundle[] = [];

  constructor(private readonly codec: ChunkCodec) {}

  /** Adds a verified chunk (bundlesChunk holds for it); the bytes are copied. */
  add(id: Uint8Array, raw: Uint8Array): void {
    if (this.bundler.full) this.close();
    this.bundler.add(Buffer.from(own(id).buffer), raw);
  }

  /** Closes the open bundle, if any. */
  close(): void {
    if (this.bundler.count === 0) return;
    const m = this.bundler.take();
    const packed = this.codec.compressTransientSync({ name: 'zstd', level: 1 }, m.raw);
    this.closed.push({
      ids: m.ids, lengths: m.lengths, raw: Buffer.from(own(m.raw).buffer),
      encoded: packed && { codec: CODEC_IDS.zstd, stored: own(packed) },
    });
  }

  /** The bundles closed so far, taken: the open one stays open. */
  take(): VerifiedBundle[] {
    return this.closed.splice(0);
  }
}

/** A copy of `b` in an ArrayBuffer of its own (transferable). */
function own(b: Uint8Array): Uint8Array {
  const copy = new Uint8Array(new ArrayBuffer(b.byteLength));
  copy.set(b);
  return copy;
}
