/**
 * An archive written to an object (`fxcp snap export STORE -o s3://BUCKET/KEY`): the sink the
 * archive writers write to, uploaded as a multipart upload straight to KEY, parts in parallel
 * (s3-blob-writer.ts: a first part of 24 MiB, then 8 MiB parts, 3 in flight). Nothing appears under KEY until `commit`
 * completes the upload; `discard` aborts it, so a failed or interrupted export leaves no
 * partial archive (a killed one leaves an unfinished upload, which the service's lifecycle
 * rules, or `aws s3api abort-multipart-upload`, remove).
 */
import { UsageError } from '../errors/index.js';
import type { CommittedSink } from '../util/byte-sink.js';
import { PartPool, S3BlobWriter } from './s3-blob-writer.js';
import { S3Client } from './s3-client.js';
import { parseS3Url, readTextOrNull, resolveS3Settings } from './s3-settings.js';

export interface ObjectSink extends CommittedSink {
  writev(parts: Uint8Array[]): Promise<void>;
}

export function openS3ObjectSink(url: string, opts: { env?: Readonly<Record<string, string | undefined>>; s3Endpoint?: string } = {}): ObjectSink {
  const { bucket, prefix: key } = parseS3Url(url);
  if (key === '') throw new UsageError(`${url}: name the archive's object: s3://BUCKET/KEY`, { path: url });
  const settings = resolveS3Settings({ env: opts.env ?? process.env, endpoint: opts.s3Endpoint, readFile: readTextOrNull });
  const client = new S3Client(settings);
  const w = new S3BlobWriter({ client, bucket, kind: 'pack', tmpKey: key, keyOf: () => key, knownKey: true, parts: new PartPool() });
  return {
    write: (b) => w.write(b),
    writev: (parts) => w.write(parts),
    commit: async () => {
      try { await w.commit('archive'); } finally { client.close(); }
    },
    discard: async () => {
      try { await w.abort(); } finally { client.close(); }
    },
  };
}
