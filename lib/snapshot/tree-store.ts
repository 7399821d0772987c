/**
 * Saving and loading trees as chunks. A tree up to SPLIT_FROM bytes is one chunk; a larger one
 * is stored as parts plus an index chunk (formats/store.md §8.3), so a directory with one
 * changed file re-stores one part and the index, not every entry: parts end at entry
 * boundaries chosen by the entry's name (partLengths), so an edit elsewhere does not move them.
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
 * Trees of more bytes than this are stored in parts. A first snapshot then stores about one
 * part per PART_ENTRIES entries more (their index records and compression in smaller pieces),
 * and a change rewrites a part of ~PART_ENTRIES entries instead of the whole tree: on 100,000
 * small files in 1,000 directories of 100, a snapshot after changing one file in each directory
 * stored 3.3x the changed bytes whole, almost all of it trees, and 1.3x in parts (issue 25).
 */
const SPLIT_FROM = 4096;
/** A part ends after an entry whose name hashes to 0 modulo this, once it holds PART_MIN bytes (partLengths). */
const PART_ENTRIES = 8;
const PART_MIN = 1024;
/**
 * Trees are mostly chunk ids, which do not compress: level 3 stored the 4,530 trees of the
 * bench's `mixed` set in 0.4 % fewer bytes than level 1, for about half again the time and a
 * larger context to clear (~1,000 more fresh pages touched per snapshot, each a page fault).
 */
const TREE_CODEC: CodecSpec = { name: 'zstd', level: 1 };

export class TreeSaver {
  private readonly codec = new ChunkCodec();
  private readonly chunker: Chunker;

  /**
   * `whole`: trees up to SINGLE_CHUNK_MAX stored as one chunk, never in parts (formats/store.md
   * §8.3 leaves the cut to the writer). foxingd's cuts: on a 1,000,000-file source in 10,000
   * directories, parts raised the daemon's peak RSS from 252 to 333 MiB (its bound is 256) and
   * its cut p50 from ~100 to ~150-180 ms; each cut rewrites only the ~100 trees it splices.
   */
  constructor(private readonly writer: ChunkWriter, store: Store, private readonly whole = false) {
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
    const at = new Uint32Array(entries.length + 1);
    return this.saveEncoded(encodeTree(entries, at), at, (i) => entries[i]!.name);
  }

  /**
   * Stores a tree's bytes (encodeTree's, with where each entry begins and, last, the end: `at`;
   * entry i's name: `nameOf`) and returns its id.
   */
  async saveEncoded(bytes: Buffer, at: Uint32Array, nameOf: (i: number) => Uint8Array): Promise<Buffer> {
    if (bytes.length <= (this.whole ? SINGLE_CHUNK_MAX : SPLIT_FROM)) return this.put(bytes);
    const lengths = bytes.length <= SINGLE_CHUNK_MAX ? partLengths(at, nameOf) : this.chunker.cutLengths(bytes, true);
    if (lengths.length === 1) return this.put(bytes);
    const parts: ChunkRef[] = [];
    let o = 0;
    for (let i = 0; i < lengths.length; i++) {
      const part = bytes.subarray(o, o + lengths[i]);
      o += lengths[i];
      parts.push({ id: await this.put(Buffer.from(part)), length: part.length });
    }
    return this.put(encodeTreeIndex(parts));
  }
}

/**
 * Where the parts of a tree of SPLIT_FROM to SINGLE_CHUNK_MAX bytes end: after each entry whose
 * name's FNV-1a hash is 0 modulo PART_ENTRIES, once the part holds PART_MIN bytes; the first
 * part begins with the tree's header, the last ends with the tree. Larger trees are cut by the
 * store's chunker (their index chunk stays small).
 */
export function partLengths(at: Uint32Array, nameOf: (i: number) => Uint8Array): number[] {
  const out: number[] = [];
  const count = at.length - 1;
  let from = 0;
  for (let i = 0; i < count; i++) {
    const end = at[i + 1]!;
    if (i === count - 1 || (end - from >= PART_MIN && nameHash(nameOf(i)) % PART_ENTRIES === 0)) {
      out.push(end - from);
      from = end;
    }
  }
  return out;
}

function nameHash(name: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name[i], 0x01000193);
  return h >>> 0;
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
