/**
 * The decompressed bytes of a tar being imported. zstd, gzip and xz are decoded on a worker
 * thread (decompress-worker.ts) so that the import's main thread only parses and hands data to
 * the chunk workers, and decoding runs ahead of parsing; lz4 (cheap) is decoded as
 * tar-compress.ts does.
 *
 * A small input (under OFF_THREAD_FROM compressed bytes, read ahead to find out) is decoded on
 * this thread: starting a worker would cost more than it saves, and tests import many tiny
 * archives. It is decoded only as far as the parser pulls (bounded-decode.ts): a small input
 * may expand to any size.
 *
 * Order and memory: compressed input goes to the one worker in jobs of IN_BYTES, at most
 * JOBS_AHEAD in flight; each job's output comes back as parts queued per job and read in job
 * order. A part is acknowledged (letting the worker go on) only once the reader has taken all
 * but one of its job's parts, so what waits here is bounded however much the data expands.
 */
import { WorkerPool } from '../util/worker-pool.js';
import type { DecompressJob, OffThreadKind } from './decompress-worker.js';
import { decompress, type TarCompression } from './tar-compress.js';

export const OFF_THREAD_FROM = 4 << 20;
const IN_BYTES = 1 << 20;
const JOBS_AHEAD = 2;

/**
 * Pieces of the decompressed output the reader is done with (pushed by `returnPiece`): the
 * worker decodes into them again instead of into fresh 1 MiB buffers, whose page faults cost
 * about 0.4 s on the 2 GiB bench tar. Anything not made by the worker is dropped.
 */
export type ReturnedPieces = Uint8Array[];

/** At most this many returned pieces travel with one job (the worker keeps a few). */
const RETURNED_PER_JOB = 8;

/**
 * The reader's `release` callback for `returned`. Bounded: when nothing drains the list (an
 * uncompressed tar, a small input decoded here), it must not keep the whole input alive.
 */
export function returnPiece(returned: ReturnedPieces): (piece: Uint8Array) => void {
  return (piece) => { if (returned.length < RETURNED_PER_JOB) returned.push(piece); };
}

/**
 * Decompresses `source` of the given kind; zstd, gzip and xz on a worker once more than
 * `offThreadFrom` compressed bytes have come (null: never).
 */
export async function* decompressForImport(source: AsyncIterable<Uint8Array>, kind: TarCompression, offThreadFrom: number | null = OFF_THREAD_FROM,
  returned: ReturnedPieces = []): AsyncGenerator<Uint8Array> {
  if (kind === 'none' || kind === 'lz4' || offThreadFrom === null) { yield* decompress(source, kind); return; }
  const it = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let ended = false;
  try {
    while (headBytes < offThreadFrom) {
      const r = await it.next();
      if (r.done) { ended = true; break; }
      head.push(r.value);
      headBytes += r.value.length;
    }
    const input = (async function* () {
      yield* head;
      if (ended) return;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })();
    yield* ended ? decompress(input, kind) : offThread(input, kind, returned);
  } finally {
    await it.return?.();
  }
}

interface JobOut { parts: Uint8Array[]; done: boolean; taken: Array<() => void> }

async function* offThread(input: AsyncGenerator<Uint8Array>, kind: OffThreadKind, returned: ReturnedPieces): AsyncGenerator<Uint8Array> {
  const pool = new WorkerPool('tar/decompress-worker.js', { kind }, 1, JOBS_AHEAD + 1);
  const outs: JobOut[] = [];
  // The worker's output buffers: only these may go back to it (transferred: nothing else holds them).
  const made = new WeakSet<ArrayBuffer>();
  const takeReturned = (): Uint8Array[] => {
    const back: Uint8Array[] = [];
    while (returned.length > 0 && back.length < RETURNED_PER_JOB) {
      const p = returned.pop()!;
      if (made.has(p.buffer as ArrayBuffer)) {
        made.delete(p.buffer as ArrayBuffer);
        back.push(new Uint8Array(p.buffer));
      }
    }
    returned.length = 0;
    return back;
  };
  let wake: (() => void) | null = null;
  const notify = () => { wake?.(); wake = null; };
  let failure: unknown = null;
  let finished = false;
  let closed = false;
  const run = (job: DecompressJob, transfer: ArrayBuffer[]): Promise<unknown> => {
    const out: JobOut = { parts: [], done: false, taken: [] };
    outs.push(out);
    return pool.run(job, transfer, async (part: Uint8Array) => {
      made.add(part.buffer as ArrayBuffer);
      out.parts.push(part);
      notify();
      while (out.parts.length > 1 && !closed) await new Promise<void>((r) => out.taken.push(r));
    }).then(() => { out.done = true; notify(); });
  };
  const feed = (async () => {
    const inflight: Array<Promise<unknown>> = [];
    let batch: Uint8Array[] = [];
    let n = 0;
    const submit = () => {
      // An exact, unshared buffer: it is transferred. A file stream's 1 MiB reads already are.
      const only = batch.length === 1 ? batch[0] : null;
      const own = only && only.byteOffset === 0 && only.byteLength === only.buffer.byteLength && only.buffer instanceof ArrayBuffer;
      const data = own ? only : new Uint8Array(n);
      let o = 0;
      if (!own) for (const b of batch) { data.set(b, o); o += b.length; }
      batch = [];
      n = 0;
      const spare = takeReturned();
      push(run({ op: 'data', data, spare }, [data.buffer as ArrayBuffer, ...spare.map((b) => b.buffer as ArrayBuffer)]));
    };
    const submitEnd = () => push(run({ op: 'end' }, []));
    // Awaited in turn below; a job still running when the reader stops must not reject unheard.
    const push = (p: Promise<unknown>) => { p.catch(() => {}); inflight.push(p); };
    for await (const c of input) {
      if (closed) return;
      batch.push(c);
      n += c.length;
      if (n >= IN_BYTES) submit();
      while (inflight.length >= JOBS_AHEAD) await inflight.shift();
    }
    if (n > 0) submit();
    submitEnd();
    await Promise.all(inflight);
  })().then(() => { finished = true; notify(); }, (err) => { failure = err; notify(); });
  try {
    for (;;) {
      const out = outs[0];
      if (out?.parts.length) {
        const b = out.parts.shift()!;
        for (const t of out.taken.splice(0)) t();
        yield b;
        continue;
      }
      if (out?.done) { outs.shift(); continue; }
      if (failure) throw failure;
      if (finished && outs.length === 0) return;
      await new Promise<void>((r) => { wake = r; });
    }
  } finally {
    closed = true;
    for (const o of outs) for (const t of o.taken.splice(0)) t();
    await pool.close();
    // Not awaited: the feeder may be waiting for input (a stalled pipe); the caller closes the source.
    input.return(undefined).catch(() => {});
  }
}
