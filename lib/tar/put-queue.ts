/**
 * The entries of a tar import on their way to the spill (lib/index/entry-spill.ts): a file's
 * tree entry is known when its header is read, its chunk list only when the workers have
 * stored its data, so entries wait here, in archive order, for their chunk lists.
 */
import type { EntrySpill } from '../index/entry-spill.js';
import { decodeTree, encodeTree } from '../snapshot/tree-codec.js';
import type { ChunkRef, TreeEntry } from '../snapshot/tree-entry.js';

/** An entry on its way to the spill; `chunks` is the pending chunk list of a file (or link). */
interface Put { key: Buffer; entry: TreeEntry; chunks: Promise<ChunkRef[]> | null; done?: ChunkRef[]; error?: unknown }

/**
 * Entries in archive order, each waiting for its chunk list, written to the spill in that
 * order (a later member of the same path must overwrite the earlier one, as it would have).
 * `get` sees an entry as soon as it is queued, as the spill would have, so the checks against
 * earlier members (a path through a symlink, a hard link's target) do not wait for chunks.
 */
export class PutQueue {
  private queue: Put[] = [];
  private head = 0;
  /** The latest queued put of each key not yet in the spill. */
  private readonly latest = new Map<string, Put>();

  constructor(private readonly spill: EntrySpill) {}

  put(key: Buffer, entry: TreeEntry, chunks: Promise<ChunkRef[]> | null): void {
    const p: Put = { key, entry, chunks };
    chunks?.then((c) => { p.done = c; }, (err) => { p.error = err; });
    this.queue.push(p);
    this.latest.set(key.toString('latin1'), p);
  }

  /** The entry a member at `key` has now (queued or spilled), with its pending chunk list. */
  get(key: Buffer): { entry: TreeEntry; chunks: Promise<ChunkRef[]> | null } | undefined {
    const p = this.latest.get(key.toString('latin1'));
    if (p) return p;
    const v = this.spill.get(key);
    return v ? { entry: decodeTree(v, 'spill')[0], chunks: null } : undefined;
  }

  /** Writes what is ready; then waits for the oldest until at most `max` entries are queued. */
  async write(max: number): Promise<void> {
    while (this.head < this.queue.length) {
      const p = this.queue[this.head];
      if (p.chunks && !p.done) {
        if (p.error === undefined && this.queue.length - this.head <= max) break;
        await p.chunks;
      }
      if (p.chunks) p.entry.chunks = p.done;
      this.spill.put(p.key, encodeTree([p.entry]));
      const k = p.key.toString('latin1');
      if (this.latest.get(k) === p) this.latest.delete(k);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
