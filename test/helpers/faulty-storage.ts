/**
 * A BlobStorage that wraps another and injects faults: the Nth write fails, a commit fails as
 * its fsync or its rename would, a read fails or comes back short, a remove fails, and every
 * operation may be delayed. Faults are counted per operation from the last arm(), optionally
 * for one kind of blob only, so a test first runs a job clean to count its operations, then
 * arms the fault it wants at each of them in turn. A seeded mode fails operations at random,
 * the same ones for the same seed.
 *
 * Failures look like the directory backend's (ToolkitError IO naming the place, the syscall and
 * the errno; a short read is FormatError TRUNCATED), and nothing is made visible by an operation
 * that failed: a failed commit does not reach the wrapped storage, and a writer whose write
 * failed refuses to commit (as fsync reports an earlier write-back error on Linux).
 *
 * Limits: only what goes through this object is faulted. Chunk workers write their packs
 * through their own FsStorage built from the store root (lib/store/worker-packer.ts), and
 * restore workers read packs by localPath.
 */
import { FormatError, ToolkitError } from '../../lib/errors/index.js';
import { type BlobKind, type BlobStorage, type BlobWriter, putThroughWriter } from '../../lib/store/blob-storage.js';
import { mulberry32 } from './seeded.js';

export type FaultOp = 'write' | 'fsync' | 'rename' | 'read' | 'short-read' | 'remove';

/** Fails the `nth` (from 1) operation `op` after arming, counting only blobs of `kind` when given. */
export interface Fault { op: FaultOp; nth: number; kind?: BlobKind }

export interface FaultPlan {
  faults?: Fault[];
  /** Each operation in `ops` (default all) fails with probability `rate`, drawn from `seed`. */
  seeded?: { seed: number; rate: number; ops?: FaultOp[]; kind?: BlobKind };
  /** Every asynchronous operation waits this long before it settles; `{ seed, maxMs }`: a seeded wait up to maxMs. */
  delay?: number | { seed: number; maxMs: number };
}

const SYSCALL: Record<FaultOp, string> = { write: 'write', fsync: 'fsync', rename: 'rename', read: 'read', 'short-read': 'read', remove: 'unlink' };
/** The ops a commit goes through, in the order the directory backend does them. */
const COMMIT_OPS: FaultOp[] = ['fsync', 'rename'];
const READ_OPS: FaultOp[] = ['read', 'short-read'];

export class FaultyStorage implements BlobStorage {
  /** Operations seen since the last arm, by op and by `op:kind`. */
  counts: Record<string, number> = {};
  /** One line per fault injected, in order. */
  readonly injected: string[] = [];
  private plan: FaultPlan = {};
  private rnd: (() => number) | null = null;
  private delayRnd: (() => number) | null = null;

  readonly getSync?: (kind: BlobKind, name: string) => Buffer;
  readonly readRangeSync?: (kind: BlobKind, name: string, offset: number, length: number) => Buffer;
  readonly sizeSync?: (kind: BlobKind, name: string) => number;
  readonly listSync?: (kind: BlobKind) => string[];
  readonly localPath?: (kind: BlobKind, name: string) => string;

  /**
   * The wrapped storage's, so chunk workers can run: they build their own storage from it and
   * write data packs around the faults (only main-thread writes and reads are faulted).
   */
  get descriptor(): BlobStorage['descriptor'] {
    return this.inner.descriptor;
  }

  constructor(readonly inner: BlobStorage, plan: FaultPlan = {}, private readonly label = 'faulty storage') {
    this.arm(plan);
    // The optional synchronous methods exist when the wrapped storage has them (callers test
    // for them), and fault as their asynchronous twins do.
    const s = inner;
    if (s.getSync) {
      this.getSync = (kind, name) => {
        const got = this.readFault(kind, name, 0, 0);
        const buf = s.getSync!(kind, name);
        return got < 0 ? buf : this.shortened(kind, name, 0, buf.byteLength, buf.byteLength >> 1, () => buf);
      };
    }
    if (s.readRangeSync) {
      this.readRangeSync = (kind, name, offset, length) => this.shortened(kind, name, offset, length, this.readFault(kind, name, offset, length), () => s.readRangeSync!(kind, name, offset, length));
    }
    if (s.sizeSync) this.sizeSync = (kind, name) => s.sizeSync!(kind, name);
    if (s.listSync) this.listSync = (kind) => s.listSync!(kind);
    if (s.localPath) this.localPath = (kind, name) => s.localPath!(kind, name);
  }

  /** Replaces the plan and starts counting again (a seeded plan restarts its sequence). */
  arm(plan: FaultPlan): void {
    this.plan = plan;
    this.counts = {};
    this.rnd = plan.seeded ? mulberry32(plan.seeded.seed) : null;
    this.delayRnd = typeof plan.delay === 'object' ? mulberry32(plan.delay.seed) : null;
  }

  disarm(): void {
    this.arm({});
  }

  /** Counts `op` on a blob of `kind`; true when the plan says this one fails. */
  private fires(op: FaultOp, kind: BlobKind): boolean {
    const n = (this.counts[op] = (this.counts[op] ?? 0) + 1);
    const nk = (this.counts[`${op}:${kind}`] = (this.counts[`${op}:${kind}`] ?? 0) + 1);
    const planned = this.plan.faults?.some((f) => f.op === op && f.nth === (f.kind === undefined ? n : f.kind === kind ? nk : -1));
    const sd = this.plan.seeded;
    const seeded = sd !== undefined && (sd.ops ?? [op]).includes(op) && (sd.kind ?? kind) === kind && this.rnd!() < sd.rate;
    return planned === true || seeded;
  }

  private error(op: FaultOp, kind: BlobKind, where: string): ToolkitError {
    const n = this.counts[op];
    this.injected.push(`${op} #${n} (${kind}) ${where}`);
    return new ToolkitError('IO', `${where}: cannot ${op === 'remove' ? 'remove' : op === 'read' ? 'read' : 'write'} a ${kind} (${SYSCALL[op]}): input/output error (EIO) [injected: ${op} #${n}]`,
      { path: where, errno: 'EIO', syscall: SYSCALL[op], injected: true });
  }

  private where(kind: BlobKind, name?: string): string {
    if (name === undefined) return `${this.label} (a new ${kind})`;
    try { return this.inner.describe(kind, name); } catch { return `${this.label} (${kind} ${name})`; }
  }

  private async delay(): Promise<void> {
    const d = this.plan.delay;
    if (d === undefined) return;
    const ms = typeof d === 'number' ? d : Math.floor(this.delayRnd!() * (d.maxMs + 1));
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  }

  /**
   * Throws for a failed read; returns how many bytes a short read delivers (-1: all). Counted
   * once per read for both read ops, so `read #n` and `short-read #n` name the same read.
   */
  private readFault(kind: BlobKind, name: string, offset: number, length: number): number {
    const failed = this.fires('read', kind);
    const short = this.fires('short-read', kind);
    if (failed) throw this.error('read', kind, this.where(kind, name));
    if (!short) return -1;
    const got = Math.floor(length / 2);
    this.injected.push(`short-read #${this.counts['short-read']} (${kind}) ${this.where(kind, name)} at ${offset}: ${got} of ${length}`);
    return got;
  }

  /** What a backend must do when the medium gives fewer bytes than asked: TRUNCATED, never a short buffer. */
  private shortened(kind: BlobKind, name: string, offset: number, length: number, got: number, read: () => Buffer): Buffer {
    const buf = read();
    if (got < 0) return buf;
    const where = this.where(kind, name);
    throw new FormatError(`${where}: truncated (wanted ${length} bytes at offset ${offset}, the read ended after ${got})`, { path: where }, 'TRUNCATED');
  }

  put(kind: BlobKind, name: string, data: Uint8Array): Promise<void> {
    return putThroughWriter(this, kind, name, data);
  }

  async create(kind: BlobKind, options?: { direct?: boolean }): Promise<BlobWriter> {
    const w = await this.inner.create(kind, options);
    await this.delay();
    let failure: ToolkitError | null = null;
    let written = 0;
    return {
      get bytesWritten() { return written; },
      // The wrapped write is called at once, in call order (it takes its place when called);
      // only its settling is delayed.
      write: async (data) => {
        written += data instanceof Uint8Array ? data.byteLength : data.reduce((n, p) => n + p.byteLength, 0);
        if (this.fires('write', kind)) {
          failure ??= this.error('write', kind, this.where(kind));
          throw failure;
        }
        const p = w.write(data);
        await this.delay();
        await p;
      },
      commit: async (name) => {
        if (failure) throw failure;
        for (const op of COMMIT_OPS) {
          if (this.fires(op, kind)) throw this.error(op, kind, this.where(kind, name));
        }
        await this.delay();
        await w.commit(name);
      },
      abort: () => w.abort(),
    };
  }

  async get(kind: BlobKind, name: string): Promise<Buffer> {
    const got = this.readFault(kind, name, 0, 0);
    await this.delay();
    const buf = await this.inner.get(kind, name);
    return got < 0 ? buf : this.shortened(kind, name, 0, buf.byteLength, buf.byteLength >> 1, () => buf);
  }

  async readRange(kind: BlobKind, name: string, offset: number, length: number): Promise<Buffer> {
    const got = this.readFault(kind, name, offset, length);
    await this.delay();
    const buf = await this.inner.readRange(kind, name, offset, length);
    return this.shortened(kind, name, offset, length, got, () => buf);
  }

  async size(kind: BlobKind, name: string): Promise<number> {
    await this.delay();
    return this.inner.size(kind, name);
  }

  async exists(kind: BlobKind, name: string): Promise<boolean> {
    await this.delay();
    return this.inner.exists(kind, name);
  }

  list(kind: BlobKind): AsyncIterable<string> {
    return this.inner.list(kind);
  }

  async remove(kind: BlobKind, name: string): Promise<void> {
    if (this.fires('remove', kind)) throw this.error('remove', kind, this.where(kind, name));
    await this.delay();
    await this.inner.remove(kind, name);
  }

  describe(kind: BlobKind, name: string): string {
    return this.inner.describe(kind, name);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The operations whose faults leave a blob unwritten, and those that fail a read. */
export const WRITE_FAULTS: FaultOp[] = ['write', ...COMMIT_OPS];
export const READ_FAULTS: FaultOp[] = READ_OPS;
