/**
 * Worker thread of a copy: writes batches of small files (file-write.ts, the same code as the
 * main thread's), so that a tree of many small files is written by every core, each file
 * costing a share of one message rather than several. The main thread decides what to write;
 * file bytes never cross threads.
 *
 * Each file of a batch succeeds or fails on its own; its warnings (an xattr the destination
 * refuses) come back with it, for the main thread to report in order.
 */
import { workerData } from 'node:worker_threads';
import { errorToJSON } from '../errors/index.js';
import type { CopyDataResult } from '../fs/copy-data.js';
import type { FileMeta } from '../fs/file-meta.js';
import { Materializer } from '../fs/materialize.js';
import { serveJobs } from '../util/worker-job.js';
import { type FileWrite, writeFileCopy } from './file-write.js';

export interface CopyWorkerData { root: Uint8Array; owner: boolean }

export interface WriteFilesJob { op: 'write-files'; files: FileWrite[] }

export type Warning = [code: string, message: string, data?: Record<string, unknown>];

export type WriteOutcome = (CopyDataResult | { error: Record<string, unknown> }) & { warnings: Warning[] };

const { root, owner } = workerData as CopyWorkerData;
let warnings: Warning[] = [];
const out = new Materializer({ root: Buffer.from(root), owner, onWarn: (code, message, data) => { warnings.push([code, message, data]); } });

/** Buffers arrive as Uint8Arrays (structured clone): back to Buffers. */
function revive(f: FileWrite): FileWrite {
  const m = f.meta;
  const meta: FileMeta = { ...m, name: Buffer.from(m.name), ...(m.xattrs ? { xattrs: m.xattrs.map(([n, v]) => [n, Buffer.from(v)] as [string, Buffer]) } : {}) };
  return { ...f, src: Buffer.from(f.src), dst: Buffer.from(f.dst), meta };
}

serveJobs(async (job: WriteFilesJob) => {
  const results: WriteOutcome[] = [];
  for (const f of job.files) {
    warnings = [];
    const onWarn = (code: string, message: string, data?: Record<string, unknown>) => { warnings.push([code, message, data]); };
    try {
      results.push({ ...await writeFileCopy(out, revive(f), onWarn), warnings });
    } catch (err) {
      results.push({ error: errorToJSON(err), warnings });
    }
  }
  return { result: results };
});
