/**
 * The answer to a ranged GET, checked before a byte of it is used. The server's bytes are
 * untrusted: a proxy that ignores `Range` answers 200 with the whole object, a broken one a 206
 * for other bytes than were asked, and bytes taken at the wrong offset would surface much
 * later as "damaged" records (or, in an archive's index, as wrong lookups). So:
 *   - 206: `Content-Range: bytes FIRST-LAST/TOTAL` (TOTAL may be `*`) must be well formed and
 *     agree with the body's length; FIRST must be the offset asked for (a suffix range
 *     `bytes=-N`: the object's last bytes, LAST = TOTAL - 1), and no more bytes than asked.
 *   - 200: the whole object; the range asked for is cut out of it.
 *   - 416: no byte of the range is in the object (past its end, or an empty object).
 * Anything else is an S3_ERROR naming the object and what was wrong.
 *
 * Pure: give it the status, the headers and the body (s3-storage.ts, s3-range-reader.ts and
 * its worker call it; test/store/s3-range-reply.test.ts fuzzes it).
 */
import { ToolkitError } from '../errors/index.js';

/** A range by offset and length, or the object's last `suffix` bytes. */
export type AskedRange = { offset: number; length: number } | { suffix: number };

export interface RangeReply {
  /** The bytes (fewer than asked at the object's end; none for a 416). */
  data: Buffer;
  /** The offset of data's first byte in the object. */
  start: number;
  /** The object's size, when the answer says it. */
  size?: number;
}

const CONTENT_RANGE = /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15}|\*)$/;
const UNSATISFIED = /^bytes \*\/(\d{1,15})$/;

/** The header `Range` value for `asked`. */
export function rangeHeader(asked: AskedRange): string {
  return 'suffix' in asked ? `bytes=-${asked.suffix}` : `bytes=${asked.offset}-${asked.offset + asked.length - 1}`;
}

export function rangeReply(where: string, asked: AskedRange, res: { status: number; headers: Record<string, string | undefined>; body: Buffer }): RangeReply {
  const bad = (why: string) => new ToolkitError('S3_ERROR', `${where}: bad answer to GET of ${rangeHeader(asked)}: ${why}`,
    { path: where, status: res.status, contentRange: res.headers['content-range'] });
  const body = res.body;
  if (res.status === 416) {
    const total = UNSATISFIED.exec(res.headers['content-range'] ?? '');
    return { data: Buffer.alloc(0), start: 'suffix' in asked ? 0 : asked.offset, size: total ? Number(total[1]) : undefined };
  }
  if (res.status === 200) {
    const size = body.byteLength;
    const start = 'suffix' in asked ? Math.max(0, size - asked.suffix) : Math.min(asked.offset, size);
    const end = 'suffix' in asked ? size : Math.min(size, asked.offset + asked.length);
    return { data: body.subarray(start, end), start, size };
  }
  if (res.status !== 206) throw bad(`HTTP ${res.status}`);
  const header = res.headers['content-range'] ?? '';
  const m = CONTENT_RANGE.exec(header);
  if (!m) throw bad(`Content-Range '${header.slice(0, 80)}' is not bytes FIRST-LAST/TOTAL`);
  const [first, last] = [Number(m[1]), Number(m[2])];
  const size = m[3] === '*' ? undefined : Number(m[3]);
  if (last < first || (size !== undefined && last >= size)) throw bad(`Content-Range '${header}' is not a range of the object`);
  if (body.byteLength !== last - first + 1) throw bad(`Content-Range '${header}' announces ${last - first + 1} bytes, the body holds ${body.byteLength}`);
  if ('suffix' in asked) {
    if (body.byteLength > asked.suffix || (size !== undefined && last !== size - 1)) throw bad(`Content-Range '${header}' is not the object's last ${asked.suffix} bytes`);
  } else if (first !== asked.offset || body.byteLength > asked.length) {
    throw bad(`Content-Range '${header}' is not the range asked for`);
  }
  return { data: body, start: first, size };
}
