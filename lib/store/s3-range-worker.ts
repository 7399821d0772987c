/**
 * Worker thread behind S3RangeReader (s3-range-reader.ts): does the reader's synchronous reads'
 * ranged GETs, which are asynchronous, for a caller that waits (Atomics.wait on `ctl`).
 * Each answer is posted on `port` before `ctl[0]` is set and notified, so the caller, woken,
 * takes it at once with receiveMessageOnPort.
 */
import { isMainThread, type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { errorToJSON } from '../errors/index.js';
import { S3Client, type S3Settings } from './s3-client.js';
import { rangeHeader, rangeReply } from './s3-range-reply.js';

export interface RangeWorkerData { settings: S3Settings; bucket: string; key: string; ctl: Int32Array; port: MessagePort }
export type RangeRequest = { op: 'read'; offset: number; length: number };
export type RangeAnswer = { ok: true; data: Uint8Array } | { ok: false; error: Record<string, unknown> };

if (!isMainThread && parentPort) {
  const { settings, bucket, key, ctl, port } = workerData as RangeWorkerData;
  const client = new S3Client(settings);
  const answer = (a: RangeAnswer) => {
    port.postMessage(a);
    Atomics.store(ctl, 0, 1);
    Atomics.notify(ctl, 0);
  };
  parentPort.on('message', (req: RangeRequest) => {
    const asked = { offset: req.offset, length: req.length };
    const work = client.send({ method: 'GET', bucket, key, headers: { range: rangeHeader(asked) }, accept: [416] })
      .then((r): RangeAnswer => ({ ok: true, data: rangeReply(S3Client.where(bucket, key), asked, r).data }));
    work.then(answer, (err: unknown) => answer({ ok: false, error: errorToJSON(err) }));
  });
}
