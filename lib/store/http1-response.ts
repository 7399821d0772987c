/**
 * An HTTP/1.1 response parser (RFC 9112) for the S3 client's own connections (http1-pool.ts):
 * fed the bytes of one connection as they arrive, it yields one response, its body gathered
 * straight into one buffer of the announced length. node:http did the same with a 'data' event,
 * a Buffer and a copy per piece, behind its own parser and stream machinery: on GETs of 4 MiB
 * windows from radosgw it took 2.5x the CPU of this parser on a socket (docs/BENCHMARKS.md).
 *
 * Pure: no sockets, no timers. What it accepts is what an S3 server or a proxy in front of one
 * sends, and it rejects the rest with an HttpProtocolError naming the problem:
 *   - a status line `HTTP/1.x NNN reason`; interim 1xx responses (100 Continue) are skipped;
 *   - header lines `name: value` (obsolete line folding is rejected, as RFC 9112 §5.2 allows);
 *     the head, interim ones included, at most MAX_HEAD_BYTES;
 *   - the body framed as RFC 9112 §6.3 orders: none for HEAD, 204 and 304; chunked when
 *     Transfer-Encoding ends in chunked (a Content-Length beside it is ignored, and the
 *     connection not reused); else Content-Length (conflicting values are rejected); else the
 *     bytes until the server closes;
 *   - a body of at most `maxBody` bytes (a server announcing more than a caller can hold is an
 *     error before anything is allocated).
 * Bytes after the end of the response (no request was pipelined) mean the connection is out of
 * step: the response is kept, the connection is not reused.
 */

/** The most a response's head may take (restic's and Go's default limit is 1 MiB; S3's are < 4 KiB). */
export const MAX_HEAD_BYTES = 64 * 1024;
/** A chunk-size line, extensions included. */
const MAX_CHUNK_LINE = 4096;

export class HttpProtocolError extends Error {
  readonly code = 'EPROTO';
}

export interface Http1Response {
  status: number;
  /** Names in lower case; repeated fields joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
  /** The connection may carry another request. */
  reusable: boolean;
}

export interface Http1ParseOptions {
  /** The request was a HEAD: the response has no body whatever its headers say. */
  head: boolean;
  maxBody: number;
}

type State = 'head' | 'fixed' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailer' | 'close' | 'done';

export class Http1ResponseParser {
  private state: State = 'head';
  /** Head, chunk-size line or trailer bytes not yet complete. */
  private pending: Buffer = Buffer.alloc(0);
  private headBytes = 0;
  private status = 0;
  private headers: Record<string, string> = {};
  private keepAlive = true;
  /** The body: one buffer of the announced length, or pieces while the length is unknown. */
  private whole: Buffer | null = null;
  private pieces: Buffer[] = [];
  private got = 0;
  private chunkLeft = 0;
  private extra = false;

  constructor(private readonly opts: Http1ParseOptions) {}

  get done(): boolean {
    return this.state === 'done';
  }

  /** Whether any byte of a response arrived (a reused connection that closed before one may be retried at once). */
  get started(): boolean {
    return this.headBytes > 0 || this.pending.length > 0;
  }

  /** Feeds the next bytes of the connection. */
  push(data: Buffer): void {
    let at = 0;
    while (at < data.length) {
      switch (this.state) {
        case 'head': at = this.readHead(data, at); break;
        case 'fixed': {
          const n = Math.min(data.length - at, this.whole!.length - this.got);
          data.copy(this.whole!, this.got, at, at + n);
          this.got += n;
          at += n;
          if (this.got === this.whole!.length) this.state = 'done';
          break;
        }
        case 'chunk-size': at = this.readLine(data, at, MAX_CHUNK_LINE, 'chunk size', (line) => this.chunkSize(line)); break;
        case 'chunk-data': {
          const n = Math.min(data.length - at, this.chunkLeft);
          this.keep(data.subarray(at, at + n));
          this.chunkLeft -= n;
          at += n;
          if (this.chunkLeft === 0) this.state = 'chunk-end';
          break;
        }
        case 'chunk-end': at = this.readLine(data, at, 2, 'chunk end', (line) => {
          if (line.length !== 0) throw new HttpProtocolError('malformed HTTP response: chunk data longer than its size');
          this.state = 'chunk-size';
        }); break;
        case 'trailer': at = this.readLine(data, at, MAX_HEAD_BYTES, 'trailer', (line) => {
          this.headBytes += line.length + 2;
          if (this.headBytes > MAX_HEAD_BYTES) throw new HttpProtocolError(`malformed HTTP response: head and trailer over ${MAX_HEAD_BYTES} bytes`);
          if (line.length === 0) this.state = 'done';
        }); break;
        case 'close': this.keep(at === 0 ? data : data.subarray(at)); at = data.length; break;
        case 'done': this.extra = true; at = data.length; break;
      }
    }
  }

  /** The connection closed: completes a body read until the close, or says the response was cut short. */
  end(): void {
    if (this.state === 'close') this.state = 'done';
    if (this.state !== 'done') throw Object.assign(new Error(this.started ? 'connection closed before the response ended' : 'socket hang up'), { code: 'ECONNRESET' });
    this.keepAlive = false;
  }

  result(): Http1Response {
    if (this.state !== 'done') throw new Error('Http1ResponseParser.result before the response ended');
    let body = this.whole;
    if (body === null) {
      body = Buffer.allocUnsafe(this.got);
      let at = 0;
      for (const p of this.pieces) at += p.copy(body, at);
      this.pieces = [];
    }
    return { status: this.status, headers: this.headers, body, reusable: this.keepAlive && !this.extra };
  }

  private keep(piece: Buffer): void {
    if (piece.length === 0) return;
    this.got += piece.length;
    if (this.got > this.opts.maxBody) throw new HttpProtocolError(`HTTP response body over ${this.opts.maxBody} bytes`);
    // A copy: the socket may hand its buffer on (TLS reuses its own).
    this.pieces.push(Buffer.from(piece));
  }

  /** Gathers bytes up to CRLF; `line` gets the line without it. Returns where reading stopped. */
  private readLine(data: Buffer, at: number, max: number, what: string, line: (l: Buffer) => void): number {
    const lf = data.indexOf(10, at);
    const upto = lf < 0 ? data.length : lf + 1;
    if (this.pending.length + (upto - at) > max + 2) throw new HttpProtocolError(`malformed HTTP response: ${what} line over ${max} bytes`);
    this.pending = this.pending.length === 0 ? Buffer.from(data.subarray(at, upto)) : Buffer.concat([this.pending, data.subarray(at, upto)]);
    if (lf < 0) return upto;
    const l = this.pending;
    this.pending = Buffer.alloc(0);
    if (l.length < 2 || l[l.length - 2] !== 13) throw new HttpProtocolError(`malformed HTTP response: ${what} line not ended by CRLF`);
    line(l.subarray(0, l.length - 2));
    return upto;
  }

  private readHead(data: Buffer, at: number): number {
    const before = this.pending.length;
    const joined = before === 0 ? data.subarray(at) : Buffer.concat([this.pending, data.subarray(at)]);
    // The end of the head may straddle two pieces: search from just before the new bytes.
    const end = joined.indexOf('\r\n\r\n', Math.max(0, before - 3), 'latin1');
    if (end < 0) {
      if (this.headBytes + joined.length > MAX_HEAD_BYTES) throw new HttpProtocolError(`malformed HTTP response: head over ${MAX_HEAD_BYTES} bytes`);
      this.pending = Buffer.from(joined);
      return data.length;
    }
    this.headBytes += end + 4;
    if (this.headBytes > MAX_HEAD_BYTES) throw new HttpProtocolError(`malformed HTTP response: head over ${MAX_HEAD_BYTES} bytes`);
    this.pending = Buffer.alloc(0);
    this.parseHead(joined.toString('latin1', 0, end));
    return at + (end + 4 - before);
  }

  private parseHead(text: string): void {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) ([1-5]\d\d)(?: [^\r\n]*)?$/.exec(lines[0]!);
    if (!m) throw new HttpProtocolError(`malformed HTTP response: status line '${lines[0]!.slice(0, 80)}'`);
    const status = Number(m[2]);
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(line.slice(0, colon))) {
        throw new HttpProtocolError(`malformed HTTP response: header line '${line.slice(0, 80)}'`);
      }
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    // 1xx: an interim response; the real one follows on the same connection.
    if (status < 200) return;
    this.status = status;
    this.headers = headers;
    const conn = (headers.connection ?? '').toLowerCase();
    this.keepAlive = m[1] === '1' ? !/\bclose\b/.test(conn) : /\bkeep-alive\b/.test(conn);
    this.frameBody(status);
  }

  private frameBody(status: number): void {
    const h = this.headers;
    if (this.opts.head || status === 204 || status === 304) {
      this.state = 'done';
      return;
    }
    const te = h['transfer-encoding'];
    if (te !== undefined) {
      if (!/(^|,)\s*chunked\s*$/i.test(te)) throw new HttpProtocolError(`malformed HTTP response: transfer-encoding '${te.slice(0, 80)}' does not end in chunked`);
      // A length beside chunked is a smuggling sign (RFC 9112 §6.3): frame by chunks, do not reuse.
      if (h['content-length'] !== undefined) this.keepAlive = false;
      this.state = 'chunk-size';
      return;
    }
    const cl = h['content-length'];
    if (cl === undefined) {
      this.keepAlive = false;
      this.state = 'close';
      return;
    }
    const values = new Set(cl.split(',').map((v) => v.trim()));
    const len = values.size === 1 ? [...values][0]! : '';
    if (!/^\d{1,15}$/.test(len)) throw new HttpProtocolError(`malformed HTTP response: content-length '${cl.slice(0, 80)}'`);
    const n = Number(len);
    if (n > this.opts.maxBody) throw new HttpProtocolError(`HTTP response body of ${n} bytes is over ${this.opts.maxBody}`);
    if (n === 0) {
      this.whole = Buffer.alloc(0);
      this.state = 'done';
      return;
    }
    this.whole = Buffer.allocUnsafe(n);
    this.state = 'fixed';
  }

  private chunkSize(line: Buffer): void {
    const text = line.toString('latin1');
    const m = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(text);
    if (!m) throw new HttpProtocolError(`malformed HTTP response: chunk size '${text.slice(0, 40)}'`);
    const n = parseInt(m[1]!, 16);
    if (n === 0) {
      this.state = 'trailer';
      return;
    }
    if (this.got + n > this.opts.maxBody) throw new HttpProtocolError(`HTTP response body over ${this.opts.maxBody} bytes`);
    this.chunkLeft = n;
    this.state = 'chunk-data';
  }
}
