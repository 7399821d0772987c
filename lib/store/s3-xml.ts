/**
 * The few S3 XML responses the backend reads: ListObjectsV2 pages, CreateMultipartUpload's
 * upload id, CompleteMultipartUpload's result (which can carry an error with status 200), and
 * error bodies. A pure reader of untrusted bytes (fuzzed in test/store/s3-xml-fuzz.test.ts): it
 * looks for elements by name, never evaluates anything, and a body that is not what it expects
 * reads as empty fields rather than throwing.
 *
 * Limits: no namespaces, attributes, CDATA or nested elements of the same name: S3's responses
 * use none of these for the fields read here.
 */

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function xmlDecode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return ENTITIES[e] ?? m;
  });
}

/** The text of each `<name>...</name>` in `xml`, in order (decoded). */
export function xmlElements(xml: string, name: string): string[] {
  const out: string[] = [];
  const open = `<${name}>`, close = `</${name}>`;
  for (let at = xml.indexOf(open); at >= 0; at = xml.indexOf(open, at)) {
    const end = xml.indexOf(close, at + open.length);
    if (end < 0) break;
    out.push(xml.slice(at + open.length, end));
    at = end + close.length;
  }
  return out;
}

function first(xml: string, name: string): string | undefined {
  const v = xmlElements(xml, name)[0];
  return v === undefined ? undefined : xmlDecode(v);
}

export interface ListPage {
  objects: Array<{ key: string; size: number }>;
  /** Present when another page follows. */
  nextToken?: string;
}

export function parseListPage(xml: string): ListPage {
  const objects = xmlElements(xml, 'Contents').map((c) => ({ key: first(c, 'Key') ?? '', size: Number(first(c, 'Size') ?? NaN) }))
    .filter((o) => o.key !== '');
  const truncated = first(xml, 'IsTruncated') === 'true';
  const nextToken = truncated ? first(xml, 'NextContinuationToken') : undefined;
  return nextToken ? { objects, nextToken } : { objects };
}

export interface S3ErrorBody { code?: string; message?: string }

export function parseErrorBody(xml: string): S3ErrorBody {
  const inner = xmlElements(xml, 'Error')[0];
  if (inner === undefined) return {};
  return { code: first(inner, 'Code'), message: first(inner, 'Message') };
}

export function parseUploadId(xml: string): string | undefined {
  return first(xml, 'UploadId');
}

export function completeMultipartBody(etags: readonly string[]): string {
  const parts = etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e.replace(/[<>&]/g, '')}</ETag></Part>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`;
}

export interface UnfinishedUpload { key: string; uploadId: string; initiated: string }

/** Multipart uploads in progress (ListMultipartUploads), for cleaning up after killed writers (s3-multipart-uploads.ts). */
export function parseUploads(xml: string): { uploads: UnfinishedUpload[]; nextKeyMarker?: string; nextUploadIdMarker?: string } {
  const uploads = xmlElements(xml, 'Upload').map((u) => ({ key: first(u, 'Key') ?? '', uploadId: first(u, 'UploadId') ?? '', initiated: first(u, 'Initiated') ?? '' }))
    .filter((u) => u.key !== '' && u.uploadId !== '');
  if (first(xml, 'IsTruncated') !== 'true') return { uploads };
  return { uploads, nextKeyMarker: first(xml, 'NextKeyMarker'), nextUploadIdMarker: first(xml, 'NextUploadIdMarker') };
}
