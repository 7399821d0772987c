/** The pure cores: ustar header codec, numbers, pax records, member paths, compression sniffing. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FormatError } from '../../lib/errors/index.js';
import { decodePax, encodePax, paxTime, parsePaxTime } from '../../lib/tar/pax-records.js';
import { detectCompression } from '../../lib/tar/tar-compress.js';
import { checksumOk, decodeHeader, encodeHeader, readNumber, splitUstarPath, TYPE } from '../../lib/tar/tar-header.js';
import { pathKey, splitKey, splitMemberPath } from '../../lib/tar/tar-path.js';
import { mulberry32 } from '../helpers/seeded.js';

const isFormat = (e: unknown) => e instanceof FormatError;

test('header round trip, including base-256 numbers', () => {
  for (const [size, uid, mtime] of [[0, 0, 0], [12345, 1000, 1_700_000_000], [2 ** 33 + 5, 2 ** 22, 2 ** 34], [1, 7, -86400]]) {
    const h = encodeHeader({ name: Buffer.from('a/b'), mode: 0o4755, uid, gid: 5, size, mtime, typeflag: TYPE.file, uname: 'u', gname: 'g' });
    assert.ok(checksumOk(h));
    const d = decodeHeader(h, 'test');
    assert.equal([d.name.toString(), d.mode, d.uid, d.gid, d.size, d.mtime, d.uname, d.gname, d.flavour],
      ['a/b', 0o4755, uid, 5, size, mtime, 'u', 'g', 'posix']);
  }
});

test('ustar prefix/name split and join', () => {
  const long = Buffer.from(`${'p'.repeat(120)}/${'n'.repeat(90)}`);
  const s = splitUstarPath(long)!;
  assert.is(s.prefix.length, 120);
  const h = encodeHeader({ name: s.name, prefix: s.prefix, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, typeflag: TYPE.file });
  assert.ok(decodeHeader(h, 't').name.equals(long));
  assert.is(splitUstarPath(Buffer.from('x'.repeat(101))), null);
  assert.is(splitUstarPath(Buffer.from('x'.repeat(300))), null);
});

test('numbers: octal with spaces and NULs, garbage refused, absurd base-256 refused', () => {
  assert.is(readNumber(Buffer.from('  0755 \0'), 0, 8, 'mode'), 0o755);
  assert.is(readNumber(Buffer.from('\0\0\0\0\0\0\0\0'), 0, 8, 'mode'), 0);
  assert.throws(() => readNumber(Buffer.from('0758\0\0\0\0'), 0, 8, 'mode'), isFormat);
  assert.throws(() => readNumber(Buffer.from('07 5\0\0\0\0'), 0, 8, 'mode'), isFormat);
  const huge = Buffer.alloc(12, 0xff); huge[0] = 0x80;
  assert.throws(() => readNumber(huge, 0, 12, 'size'), /too large/);
});

test('a flipped header byte fails the checksum', () => {
  const h = encodeHeader({ name: Buffer.from('file'), mode: 0o644, uid: 0, gid: 0, size: 10, mtime: 1, typeflag: TYPE.file });
  const rnd = mulberry32(7);
  for (let i = 0; i < 200; i++) {
    const b = Buffer.from(h);
    const at = Math.floor(rnd() * 512);
    if (at >= 148 && at < 156) continue;
    b[at] ^= 1 << Math.floor(rnd() * 8);
    assert.throws(() => decodeHeader(b, 'x'), /checksum/);
  }
});

test('pax records round trip; lengths that cross a digit boundary; binary values', () => {
  const recs: Array<[string, Buffer | string]> = [['path', 'p'.repeat(92)], ['SCHILY.xattr.user.bin', Buffer.from([0, 10, 61, 255])], ['mtime', '1.5']];
  const d = decodePax(encodePax(recs), 't');
  assert.is(d.get('path')!.toString(), 'p'.repeat(92));
  assert.equal([...d.get('SCHILY.xattr.user.bin')!], [0, 10, 61, 255]);
  for (let n = 0; n < 120; n++) {
    const one = encodePax([['k', 'v'.repeat(n)]]);
    assert.is(Number(one.toString().split(' ')[0]), one.length);
  }
  assert.throws(() => decodePax(Buffer.from('99 path=x\n'), 't'), isFormat);
  assert.throws(() => decodePax(Buffer.from('10 path=x\r'), 't'), isFormat);
  assert.throws(() => decodePax(Buffer.from('x path=x\n'), 't'), isFormat);
});

test('pax times keep nanoseconds', () => {
  for (const ns of [0n, 1_700_000_000_123_456_789n, 5n, -1_500_000_000n, -1n]) assert.is(parsePaxTime(Buffer.from(paxTime(ns)), 't'), ns);
  assert.is(parsePaxTime(Buffer.from('1.1234567891'), 't'), 1_123_456_789n);
  assert.throws(() => parsePaxTime(Buffer.from('1e9'), 't'), isFormat);
});

test('member paths: normalised, absolute and .. refused', () => {
  assert.equal(splitMemberPath(Buffer.from('./a//b/./c/'), 'm', 0).map(String), ['a', 'b', 'c']);
  assert.equal(splitMemberPath(Buffer.from('./'), 'm', 0), []);
  assert.throws(() => splitMemberPath(Buffer.from('/etc/passwd'), 'm', 0), /absolute/);
  assert.throws(() => splitMemberPath(Buffer.from('a/../b'), 'm', 0), /'\.\.'/);
  assert.equal(splitMemberPath(Buffer.from('a/..b/...'), 'm', 0).map(String), ['a', '..b', '...']);
});

test('spill keys sort a directory before its contents and siblings in name order', () => {
  const paths = ['a', 'a/x', 'a-b', 'a/x/y', 'ab', 'a\u0001'];
  const keys = paths.map((p) => pathKey(p.split('/').map((c) => Buffer.from(c)), 0)).sort(Buffer.compare);
  assert.equal(keys.map((k) => splitKey(k).map(String).join('/')), ['a', 'a/x', 'a/x/y', 'a\u0001', 'a-b', 'ab']);
  assert.throws(() => pathKey([Buffer.alloc(2000, 0x61)], 0), /longer than/);
});

test('compression is detected by content', () => {
  assert.is(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0])), 'zstd');
  assert.is(detectCompression(Buffer.from([0x1f, 0x8b, 8])), 'gzip');
  assert.is(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0])), 'xz');
  assert.is(detectCompression(Buffer.from([0x04, 0x22, 0x4d, 0x18])), 'lz4');
  assert.is(detectCompression(Buffer.from('BZh9')), 'bzip2');
  assert.is(detectCompression(Buffer.from('file.txt\0\0\0')), 'none');
});

test('the writer adds pax records for what ustar cannot hold: 8 GiB sizes, big ids, ns and negative times', async () => {
  const { TarWriter } = await import('../../lib/tar/tar-writer.js');
  const out: Buffer[] = [];
  const w = new TarWriter({ write: async (c) => { out.push(Buffer.from(c)); } });
  await w.add({ path: Buffer.from('huge'), type: 'file', mode: 0o644, uid: 3_000_000, gid: 1, size: 2 ** 33 + 5, mtimeNs: -1_500_000_000n });
  await w.flush();
  const b = Buffer.concat(out);
  const paxHeader = decodeHeader(b.subarray(0, 512), 'pax');
  assert.is(paxHeader.typeflag, TYPE.pax);
  const recs = decodePax(b.subarray(512, 512 + paxHeader.size), 'pax');
  assert.is(recs.get('size')!.toString(), String(2 ** 33 + 5));
  assert.is(recs.get('uid')!.toString(), '3000000');
  assert.is(recs.get('mtime')!.toString(), '-1.5');
  const h = decodeHeader(b.subarray(1024, 1536), 'member');
  assert.is(h.size, 2 ** 33 + 5); // GNU base-256 in the header as well
  assert.is(h.uid, 3_000_000);
  assert.is(h.mtime, -2);
});

test('an unknown pax hdrcharset is refused; unknown keys are ignored', async () => {
  const { readTar } = await import('../../lib/tar/tar-reader.js');
  const archive = (recs: Array<[string, string]>) => {
    const pax = encodePax(recs);
    return Buffer.concat([
      encodeHeader({ name: Buffer.from('PaxHeaders/f'), mode: 0o644, uid: 0, gid: 0, size: pax.length, mtime: 0, typeflag: TYPE.pax }),
      pax, Buffer.alloc(512 - pax.length),
      encodeHeader({ name: Buffer.from('f'), mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, typeflag: TYPE.file }),
      Buffer.alloc(1024),
    ]);
  };
  const names = async (b: Buffer) => { const out: string[] = []; for await (const e of readTar((async function* () { yield b; })())) out.push(e.path.toString()); return out; };
  assert.equal(await names(archive([['LIBARCHIVE.creationtime', '1'], ['path', 'renamed']])), ['renamed']);
  try {
    await names(archive([['hdrcharset', 'EBCDIC'], ['path', 'x']]));
    assert.unreachable('accepted');
  } catch (err) {
    assert.match((err as Error).message, /hdrcharset 'EBCDIC' is not supported/);
  }
});

test.run();
