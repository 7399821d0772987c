/**
 * Saving and loading trees as chunks. A tree up to SINGLE_CHUNK_MAX bytes is one chunk; a
 * larger one (a directory of tens of thousands of entries) is cut by the store's chunker into
 * parts plus an index chunk, so a huge directory with one new file re-stores only a few parts.
 */
import { createChunker, type Chunker } from '../chunker/index.js';
import { ChunkCodec, type CodecSpec, CODEC_IDS } from '../codec/codec.js';
import { FormatError } from '../errors/index.js';
import { blake3 } from '../hash/blake3.js';
import type { Store } from '../store/index.js';
import type { ChunkSource } from './chunk-source.js';
import type { ChunkWriter } from '../store/index.js';
import { CHUNK_TREE } from '../store/index.js';
import { EncodedTree } from './encoded-tree.js';
import { decodeTree, decodeTreeIndex, encodeTree, encodeTreeIndex, TREE_INDEX_MAGIC, treeLayout } from './tree-codec.js';
import type { ChunkRef, TreeEntry } from './tree-entry.js';

const SINGLE_CHUNK_MAX = 1 << 20;
/**
 * Trees are mostly chunk ids, which do not compress: level 3 stored the 4,530 trees of the
 * bench's `mixed` set in 0.4 % fewer bytes than level 1, for about half again the time and a
 * larger context to clear (~1,000 more fresh pages touched per snapshot, each a page fault).
 */
const TREE_CODEC: CodecSpec = { name: 'zstd', level: 1 };

export class TreeSaver {
  private readonly codec = new ChunkCodec();
  private readonly chunker: Chunker;

  constructor(private readonly writer: ChunkWriter, store: Store) {
    this.chunker = createChunker(store.config.chunker);
  }

  private async put(bytes: Buffer): Promise<Buffer> {
    const id = blake3().hash(bytes);
    if (!this.writer.has(id)) {
      const stored = await this.codec.compress(TREE_CODEC, bytes);
      await this.writer.add(id, CHUNK_TREE, stored ? CODEC_IDS.zstd : 0, bytes.length, stored ?? bytes);
    }
    return id;
  }

  /** Stores a directory listing (entries sorted by name) and returns its tree id. */
  async save(entries: readonly TreeEntry[]): Promise<Buffer> {
    return this.saveEncoded(encodeTree(entries));
  }

  /** Stores a tree's bytes (encodeTree's) and returns its id. */
  async saveEncoded(bytes: Buffer): Promise<Buffer> {
    if (bytes.length <= SINGLE_CHUNK_MAX) return this.put(bytes);
    const parts: ChunkRef[] = [];
    const lengths = this.chunker.cutLengths(bytes, true);
    let o = 0;
    for (let i = 0; i < lengths.length; i++) {
      const part = bytes.subarray(o, o + lengths[i]);
      o += lengths[i];
      parts.push({ id: await this.put(Buffer.from(part)), length: part.length });
    }
    return this.put(encodeTreeIndex(parts));
  }
}

/** Loads and decodes a tree by id (verified chunk by chunk). */
export async function loadTree(store: Pick<ChunkSource, 'loadChunkPreferSync'>, id: Uint8Array): Promise<TreeEntry[]> {
  return (await loadTreeWithParts(store, id)).entries;
}

/**
 * loadTree, also naming the part chunks of a tree stored as an index chunk plus parts (empty for
 * a one-chunk tree): a reader that accounts for every chunk a snapshot holds (snap stats) needs them.
 */
export async function loadTreeWithParts(store: Pick<ChunkSource, 'loadChunkPreferSync'>, id: Uint8Array): Promise<{ entries: TreeEntry[]; parts: ChunkRef[] }> {
  const what = `tree ${Buffer.from(id).toString('hex').slice(0, 16)}`;
  const { bytes, parts } = await loadTreeBytes(store, id, what);
  return { entries: decodeTree(bytes, what), parts };
}

/**
 * A tree by id as stored, its entries decoded only when asked for (encoded-tree.ts): what a
 * splice starts from. Its framing is checked here; each entry's values when it is decoded.
 */
export async function loadEncodedTree(store: Pick<ChunkSource, 'loadChunkPreferSync'>, id: Uint8Array): Promise<EncodedTree> {
  const what = `tree ${Buffer.from(id).toString('hex').slice(0, 16)}`;
  const { bytes } = await loadTreeBytes(store, id, what);
  return new EncodedTree(bytes, treeLayout(bytes, what), what);
}

/** A tree's whole encoding (verified chunk by chunk; a large tree's parts joined), and its parts. */
async function loadTreeBytes(store: Pick<ChunkSource, 'loadChunkPreferSync'>, id: Uint8Array, what: string): Promise<{ bytes: Buffer; parts: ChunkRef[] }> {
  let bytes = Buffer.from(await store.loadChunkPreferSync(id));
  let parts: ChunkRef[] = [];
  if (bytes[0] === TREE_INDEX_MAGIC) {
    parts = decodeTreeIndex(bytes, what);
    const chunks: Buffer[] = [];
    for (const p of parts) {
      const c = await store.loadChunkPreferSync(p.id);
      if (c.byteLength !== p.length) throw new FormatError(`${what}: part has length ${c.byteLength}, index says ${p.length}`);
      chunks.push(Buffer.from(c));
    }
    bytes = Buffer.concat(chunks);
  }
  return { bytes, parts };
}
