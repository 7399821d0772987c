/**
 * An archive written to an object (`fxcp snap export STORE -o s3://BUCKET/KEY`): the sink the
 * archive writers write to, uploaded as a multipart upload straight to KEY, parts in parallel
 * (s3-blob-writer.ts: a first part of 24 MiB, then 8 MiB parts, 3 in flight). Nothing appears under KEY until `commit`
 * completes the upload; `discard` aborts it, so a failed or interrupted export leaves no
 * partial archive. A killed one leaves an unfinished upload (its parts kept, and billed, by the
 * service): the next export to the same KEY aborts the unfinished uploads of exactly that key
 * before it starts its own (s3-multipart-uploads.ts), and says how many.
 *
 * Two exports to one KEY at once: the later one aborts the earlier one's upload if that has
 * begun (past its first 24 MiB), and the earlier one then fails with NoSuchUpload, naming KEY;
 * otherwise both complete and the later completion is the object. Either way KEY holds one
 * whole archive, never parts of two.
 */
import { ToolkitError, UsageError } from '../errors/index.js';
import type { CommittedSink } from '../util/byte-sink.js';
import { PartPool, S3BlobWriter } from './s3-blob-writer.js';
import { S3Client } from './s3-client.js';
import { abortUploadsOf } from './s3-multipart-uploads.js';
import { parseS3Url, readTextOrNull, resolveS3Settings } from './s3-settings.js';

export interface ObjectSink extends CommittedSink {
  writev(parts: Uint8Array[]): Promise<void>;
}

export interface S3SinkOptions {
  env?: Readonly<Record<string, string | undefined>>;
  s3Endpoint?: string;
  /** Told how many unfinished uploads of the key were aborted (called when there were any). */
  onAborted?: (count: number, where: string) => void;
}

export async function openS3ObjectSink(url: string, opts: S3SinkOptions = {}): Promise<ObjectSink> {
  const { bucket, prefix: key } = parseS3Url(url);
  if (key === '') throw new UsageError(`${url}: name the archive's object: s3://BUCKET/KEY`, { path: url });
  const settings = resolveS3Settings({ env: opts.env ?? process.env, endpoint: opts.s3Endpoint, readFile: readTextOrNull });
  const client = new S3Client(settings);
  const where = S3Client.where(bucket, key);
  try {
    const aborted = await abortUploadsOf(client, bucket, key);
    if (aborted > 0) opts.onAborted?.(aborted, where);
  } catch (err) {
    client.close();
    throw err;
  }
  const w = new S3BlobWriter({ client, bucket, kind: 'pack', tmpKey: key, keyOf: () => key, knownKey: true, parts: new PartPool() });
  // An upload aborted under this export: said as what it most likely was.
  const named = (err: unknown) => (err instanceof ToolkitError && err.data.s3Code === 'NoSuchUpload'
    ? new ToolkitError('S3_ERROR', `${where}: this export's multipart upload was aborted meanwhile (another export to the same key started after this one?): ${err.message}`, { ...err.data, path: where }, { cause: err })
    : err);
  return {
    write: (b) => w.write(b).catch((err) => { throw named(err); }),
    writev: (parts) => w.write(parts).catch((err) => { throw named(err); }),
    commit: async () => {
      try { await w.commit('archive'); } catch (err) { throw named(err); } finally { client.close(); }
    },
    discard: async () => {
      try { await w.abort(); } finally { client.close(); }
    },
  };
}
