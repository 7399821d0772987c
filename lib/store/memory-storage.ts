/**
 * BlobStorage in memory: the whole contract of blob-storage.ts with nothing on disk, for tests
 * that want a store's blobs without a directory (and for tools that build blobs before they
 * ship them). It passes the same conformance suite as the directory backend
 * (test/conformance/blob-storage.test.ts).
 *
 * Limits: everything is held in this process's memory, and blobs live as long as the object
 * (close() keeps them, so a store can be closed and opened again on the same storage). There is
 * no localPath: restore workers, which read packs by path, read through the store instead.
 */
import { FormatError, NotFoundError, ToolkitError } from '../errors/index.js';
import type { BlobKind, BlobStorage, BlobWriter } from './blob-storage.js';

/** The names the directory backend accepts (lower-case hex), so a name valid here is valid there. */
const NAME = /^[0-9a-f]{8,64}$/;

export class MemoryStorage implements BlobStorage {
  private readonly blobs: Record<BlobKind, Map<string, Buffer>> = { pack: new Map(), snapshot: new Map() };
  private nextWriter = 0;

  /** `label` names the storage in messages (describe), e.g. a test's name. */
  constructor(readonly label = 'memory') {}

  describe(kind: BlobKind, name: string): string {
    return `${this.label}:${kind}/${name}`;
  }

  private checkName(kind: BlobKind, name: string): void {
    if (!NAME.test(name)) throw new FormatError(`invalid ${kind} name '${name}'`);
  }

  private blob(kind: BlobKind, name: string): Buffer {
    this.checkName(kind, name);
    const b = this.blobs[kind].get(name);
    if (!b) throw new NotFoundError(`${this.describe(kind, name)}: ${kind} is missing`, { path: this.describe(kind, name) }, 'MISSING_BLOB');
    return b;
  }

  async put(kind: BlobKind, name: string, data: Uint8Array): Promise<void> {
    this.checkName(kind, name);
    this.blobs[kind].set(name, Buffer.from(data));
  }

  /**
   * Each write is copied when called: that is what "takes its place when called" means here,
   * and the caller may reuse its buffer as soon as the promise resolves (as with a file).
   */
  async create(kind: BlobKind): Promise<BlobWriter> {
    const parts: Buffer[] = [];
    let written = 0;
    let state: 'open' | 'committed' | 'aborted' = 'open';
    const id = ++this.nextWriter;
    const ended = () => new ToolkitError('INTERNAL', `${this.label}: ${kind} writer ${id} was already ${state}`);
    return {
      get bytesWritten() { return written; },
      write: async (data) => {
        if (state !== 'open') throw ended();
        for (const p of data instanceof Uint8Array ? [data] : data) {
          parts.push(Buffer.from(p));
          written += p.byteLength;
        }
      },
      commit: async (name) => {
        if (state !== 'open') throw ended();
        this.checkName(kind, name);
        this.blobs[kind].set(name, Buffer.concat(parts, written));
        state = 'committed';
        parts.length = 0;
      },
      abort: async () => {
        if (state === 'open') state = 'aborted';
        parts.length = 0;
      },
    };
  }

  /** A copy: a caller that changes the buffer it got must not change the blob. */
  async get(kind: BlobKind, name: string): Promise<Buffer> {
    return this.getSync(kind, name);
  }

  getSync(kind: BlobKind, name: string): Buffer {
    return Buffer.from(this.blob(kind, name));
  }

  async readRange(kind: BlobKind, name: string, offset: number, length: number): Promise<Buffer> {
    return this.readRangeSync(kind, name, offset, length);
  }

  readRangeSync(kind: BlobKind, name: string, offset: number, length: number): Buffer {
    const b = this.blob(kind, name);
    if (offset + length > b.byteLength) {
      const where = this.describe(kind, name);
      throw new FormatError(`${where}: truncated (wanted ${length} bytes at offset ${offset}, blob ends after ${Math.max(0, b.byteLength - offset)})`,
        { path: where }, 'TRUNCATED');
    }
    return Buffer.from(b.subarray(offset, offset + length));
  }

  async size(kind: BlobKind, name: string): Promise<number> {
    return this.sizeSync(kind, name);
  }

  sizeSync(kind: BlobKind, name: string): number {
    return this.blob(kind, name).byteLength;
  }

  async exists(kind: BlobKind, name: string): Promise<boolean> {
    return NAME.test(name) && this.blobs[kind].has(name);
  }

  async *list(kind: BlobKind): AsyncIterable<string> {
    yield* this.listSync(kind);
  }

  /** Sorted, as the directory backend lists packs. */
  listSync(kind: BlobKind): string[] {
    return [...this.blobs[kind].keys()].sort();
  }

  async remove(kind: BlobKind, name: string): Promise<void> {
    this.checkName(kind, name);
    this.blobs[kind].delete(name);
  }

  async close(): Promise<void> {}
}
