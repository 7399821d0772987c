/**
 * Unfinished multipart uploads (ListMultipartUploads, every page) and their removal
 * (AbortMultipartUpload). A killed writer leaves one behind; the service keeps, and bills, its
 * parts until it is aborted. Used by `store gc` for a store's tmp/ (S3Storage.cleanTemporaries)
 * and by `snap export -o s3://BUCKET/KEY` for the key it is about to write.
 */
import type { S3Client } from './s3-client.js';
import { parseUploads, type UnfinishedUpload } from './s3-xml.js';

/** `pageSize`: uploads a page holds (max-uploads; the service's default is 1,000). */
export interface UploadListing { pageSize?: number }

/** The unfinished uploads whose keys start with `prefix`, page after page. */
export async function* listUploads(client: S3Client, bucket: string, prefix: string, opts: UploadListing = {}): AsyncGenerator<UnfinishedUpload> {
  let keyMarker: string | undefined, uploadIdMarker: string | undefined;
  for (;;) {
    const query: Array<[string, string]> = [['uploads', ''], ['prefix', prefix]];
    if (opts.pageSize !== undefined) query.push(['max-uploads', String(opts.pageSize)]);
    if (keyMarker !== undefined) query.push(['key-marker', keyMarker]);
    if (uploadIdMarker !== undefined) query.push(['upload-id-marker', uploadIdMarker]);
    const page = parseUploads((await client.send({ method: 'GET', bucket, query })).body.toString('utf8'));
    yield* page.uploads;
    // A truncated page without a marker, or one naming the same marker again, would list the
    // same page forever: the listing ends there (what it did not reach is left, not lost).
    if (page.nextKeyMarker === undefined || (page.nextKeyMarker === keyMarker && page.nextUploadIdMarker === uploadIdMarker)) return;
    keyMarker = page.nextKeyMarker;
    uploadIdMarker = page.nextUploadIdMarker;
  }
}

/**
 * Aborts every unfinished upload of exactly `key` (the listing's prefix also matches longer
 * keys, `KEY.old`: those are left alone) and returns how many. Called before the caller starts
 * an upload of its own, so each one aborted was initiated before it: a writer killed earlier,
 * or one still running (which then fails with NoSuchUpload at its next part; S3 has no way to
 * tell a live upload from a dead one but its owner's silence).
 */
export async function abortUploadsOf(client: S3Client, bucket: string, key: string, opts: UploadListing = {}): Promise<number> {
  let aborted = 0;
  for await (const u of listUploads(client, bucket, key, opts)) {
    if (u.key !== key) continue;
    await client.send({ method: 'DELETE', bucket, key, query: [['uploadId', u.uploadId]], accept: [404] });
    aborted++;
  }
  return aborted;
}
