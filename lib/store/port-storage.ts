/**
 * A storage only the main thread can reach (one SSH connection, lib/transport/ssh-storage.ts),
 * lent to worker threads: the worker's descriptor carries a MessagePort (transferred when the
 * worker starts, worker-pool.ts), and its requests are served on the main thread against the
 * real storage. Chunk workers only write packs, so that is what goes fastest: a write is
 * acknowledged once the storage took it, which is the storage's own backpressure.
 *
 * Messages (structured clone): worker → main `{ id, op, args }`; main → worker `{ id, value }`
 * or `{ id, error }` (errorToJSON). Writers are named by a handle the worker chooses.
 *
 * Limits: one port per worker; `list` answers with every name at once (workers do not list).
 */
import type { MessageChannel as MessageChannelType, MessagePort } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { errorFromJSON, errorToJSON, ToolkitError } from '../errors/index.js';
import { type BlobKind, type BlobStorage, type BlobWriter, putThroughWriter } from './blob-storage.js';

export interface PortDescriptor { kind: 'port'; port: MessagePort }

interface Request { id: number; op: string; args: unknown[] }
interface Reply { id: number; value?: unknown; error?: Record<string, unknown> }

/** A new channel to `storage`, served here; its other end goes to one worker (transferred). */
export function portDescriptor(storage: BlobStorage): PortDescriptor {
  const { MessageChannel } = createRequire(import.meta.url)('node:worker_threads') as { MessageChannel: typeof MessageChannelType };
  const { port1, port2 } = new MessageChannel();
  const writers = new Map<number, BlobWriter>();
  const ops: Record<string, (...a: never[]) => Promise<unknown>> = {
    create: async (handle: number, kind: BlobKind, direct: boolean) => { writers.set(handle, await storage.create(kind, { direct })); },
    write: (handle: number, data: Uint8Array | Uint8Array[]) => writer(handle).write(data),
    commit: async (handle: number, name: string) => { await writer(handle).commit(name); writers.delete(handle); },
    abort: async (handle: number) => { await writers.get(handle)?.abort(); writers.delete(handle); },
    get: (kind: BlobKind, name: string) => storage.get(kind, name),
    readRange: (kind: BlobKind, name: string, offset: number, length: number) => storage.readRange(kind, name, offset, length),
    size: (kind: BlobKind, name: string) => storage.size(kind, name),
    exists: (kind: BlobKind, name: string) => storage.exists(kind, name),
    remove: (kind: BlobKind, name: string) => storage.remove(kind, name),
    list: async (kind: BlobKind) => { const names: string[] = []; for await (const n of storage.list(kind)) names.push(n); return names; },
  };
  const writer = (handle: number) => {
    const w = writers.get(handle);
    if (!w) throw new ToolkitError('INTERNAL', `no blob writer ${handle} on the main thread`, {});
    return w;
  };
  port1.on('message', (m: Request) => {
    const op = ops[m.op];
    // Through then(): an op that throws at once (no such writer) is answered like one that rejects.
    const run = Promise.resolve().then(() => {
      if (!op) throw new ToolkitError('INTERNAL', `unknown storage request '${m.op}'`, {});
      return op(...(m.args as never[]));
    });
    run.then((value) => port1.postMessage({ id: m.id, value } satisfies Reply), (err: unknown) => port1.postMessage({ id: m.id, error: errorToJSON(err) } satisfies Reply));
  });
  // The worker's end closing (the worker ended) drops what it left unfinished.
  port1.on('close', () => { for (const w of writers.values()) void w.abort().catch(() => {}); writers.clear(); });
  // Served while the process runs for other reasons (the worker's jobs); it keeps nothing alive.
  port1.unref();
  return { kind: 'port', port: port2 };
}

/** The worker's side: a BlobStorage whose every call is a request to the main thread. */
export class PortStorage implements BlobStorage {
  private nextId = 1;
  private nextHandle = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly port: MessagePort) {
    port.on('message', (m: Reply) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) port.unref();
      if (m.error) w.reject(errorFromJSON(m.error)); else w.resolve(m.value);
    });
    port.unref();
  }

  private call<T>(op: string, ...args: unknown[]): Promise<T> {
    const id = this.nextId++;
    this.port.ref();
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port.postMessage({ id, op, args } satisfies Request);
    });
  }

  put(kind: BlobKind, name: string, data: Uint8Array): Promise<void> {
    return putThroughWriter(this, kind, name, data);
  }

  async create(kind: BlobKind, options: { direct?: boolean } = {}): Promise<BlobWriter> {
    const handle = this.nextHandle++;
    const created = this.call<void>('create', handle, kind, options.direct === true);
    created.catch(() => {});
    let bytesWritten = 0;
    return {
      get bytesWritten() { return bytesWritten; },
      // Cloned by postMessage: the caller may reuse its buffers once this resolves.
      write: async (data) => {
        await created;
        const n = data instanceof Uint8Array ? data.byteLength : data.reduce((s, p) => s + p.byteLength, 0);
        await this.call('write', handle, data);
        bytesWritten += n;
      },
      commit: async (name) => { await created; await this.call('commit', handle, name); },
      abort: async () => { await created.catch(() => {}); await this.call('abort', handle).catch(() => {}); },
    };
  }

  async get(kind: BlobKind, name: string): Promise<Buffer> { return Buffer.from(await this.call<Uint8Array>('get', kind, name)); }
  async readRange(kind: BlobKind, name: string, offset: number, length: number): Promise<Buffer> {
    return Buffer.from(await this.call<Uint8Array>('readRange', kind, name, offset, length));
  }
  size(kind: BlobKind, name: string): Promise<number> { return this.call('size', kind, name); }
  exists(kind: BlobKind, name: string): Promise<boolean> { return this.call('exists', kind, name); }
  remove(kind: BlobKind, name: string): Promise<void> { return this.call('remove', kind, name); }
  async *list(kind: BlobKind): AsyncIterable<string> { yield* await this.call<string[]>('list', kind); }
  describe(kind: BlobKind, name: string): string { return `${kind} ${name} (through the main thread)`; }
  async close(): Promise<void> { this.port.close(); }
}
