// Pack header, record header and trailer encoding; damaged trailers fail with FormatError, a
// trailer that does not match its checksum with IntegrityError (code INTEGRITY, its class).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FormatError, IntegrityError, ToolkitError } from '../../lib/errors/index.js';
import { blake3 } from '../../lib/hash/blake3.js';
import {
  checkPackHeader, decodeRecordHeader, decodeTrailerEntries, decodeTrailerTail, encodePackHeader, encodeRecordHeader,
  encodeTrailer, type PackEntry, packIdFromChecksum,
} from '../../lib/store/pack-codec.js';
import {
  PACK_HEADER_BYTES, PACK_VERSION, RECORD_HEADER_BYTES, TRAILER_ENTRY_BYTES, TRAILER_TAIL_BYTES,
} from '../../lib/store/store-layout.js';
import { mulberry32 } from '../helpers/seeded.js';


function expectFormat(fn: () => unknown, pattern: RegExp, code?: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, code === 'INTEGRITY' ? IntegrityError : FormatError, `expected ${code ?? 'FormatError'}, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    if (code) assert.is((e as FormatError).code, code);
    return;
  }
  assert.unreachable(`expected FormatError matching ${pattern}`);
}

/** A fake pack: header, records with dummy payloads, trailer, laid out as PackWriter does. */
function buildPack(payloadSizes: number[]): { pack: Buffer; entries: PackEntry[]; checksum: Buffer } {
  const parts: Buffer[] = [encodePackHeader()];
  const entries: PackEntry[] = [];
  let offset = PACK_HEADER_BYTES;
  payloadSizes.forEach((n, i) => {
    const payload = Buffer.alloc(n, i + 1);
    const e: PackEntry = { id: blake3().hash(payload), type: i % 2, codec: i % 5, rawLength: n * 3 + 1, storedLength: n, offset };
    entries.push(e);
    parts.push(encodeRecordHeader(e), payload);
    offset += RECORD_HEADER_BYTES + n;
  });
  const { trailer, checksum } = encodeTrailer(entries, offset);
  parts.push(trailer);
  return { pack: Buffer.concat(parts), entries, checksum };
}

/** Reads a pack's trailer the way pack-reader.ts does, from an in-memory buffer. */
function decodePack(pack: Buffer): PackEntry[] {
  if (pack.length < PACK_HEADER_BYTES + TRAILER_TAIL_BYTES) throw new FormatError('truncated', {}, 'TRUNCATED');
  checkPackHeader(pack.subarray(0, PACK_HEADER_BYTES));
  const tail = decodeTrailerTail(Buffer.from(pack.subarray(pack.length - TRAILER_TAIL_BYTES)), pack.length);
  const body = pack.subarray(tail.entriesOffset, tail.entriesOffset + tail.count * TRAILER_ENTRY_BYTES);
  return decodeTrailerEntries(Buffer.from(body), tail);
}

test('pack header: magic and version', () => {
  const h = encodePackHeader();
  assert.is(h.length, PACK_HEADER_BYTES);
  assert.is(h.subarray(0, 4).toString('latin1'), 'FXPK');
  assert.is(h.readUInt16LE(4), PACK_VERSION);
  checkPackHeader(h);
  const bad = Buffer.from(h); bad[0] = 0x58;
  expectFormat(() => checkPackHeader(bad), /bad magic/);
  expectFormat(() => checkPackHeader(h.subarray(0, 5)), /bad magic/);
  const newer = Buffer.from(h); newer.writeUInt16LE(PACK_VERSION + 1, 4);
  expectFormat(() => checkPackHeader(newer), /newer than this fxcp supports/, 'NEWER_VERSION');
  const zero = Buffer.from(h); zero.writeUInt16LE(0, 4);
  expectFormat(() => checkPackHeader(zero), /bad pack version 0/);
});

test('record header round trip', () => {
  const e = { id: blake3().hash(Buffer.from('x')), type: 1, codec: 4, rawLength: 0xfffffffe, storedLength: 123456 };
  const b = encodeRecordHeader(e);
  assert.is(b.length, RECORD_HEADER_BYTES);
  const d = decodeRecordHeader(b, 777);
  assert.ok(d.id.equals(e.id));
  assert.equal({ ...d, id: null }, { ...e, id: null, offset: 777 });
  expectFormat(() => decodeRecordHeader(b.subarray(0, RECORD_HEADER_BYTES - 1), 99), /truncated record header at offset 99/);
});

test('trailer round trip; checksum is BLAKE3 of the entries and names the pack', () => {
  const { pack, entries, checksum } = buildPack([10, 0, 300, 5]);
  const got = decodePack(pack);
  assert.is(got.length, entries.length);
  got.forEach((g, i) => {
    assert.ok(g.id.equals(entries[i].id));
    assert.equal({ ...g, id: null }, { ...entries[i], id: null });
  });
  const bodyStart = pack.length - TRAILER_TAIL_BYTES - entries.length * TRAILER_ENTRY_BYTES;
  const body = pack.subarray(bodyStart, pack.length - TRAILER_TAIL_BYTES);
  assert.ok(blake3().hash(body).equals(checksum));
  assert.is(packIdFromChecksum(checksum), checksum.toString('hex'));
  assert.match(packIdFromChecksum(checksum), /^[0-9a-f]{64}$/);
  // Deterministic: same entries, same trailer.
  assert.ok(buildPack([10, 0, 300, 5]).pack.equals(pack));
});

test('empty pack trailer round trips', () => {
  const { pack } = buildPack([]);
  assert.is(pack.length, PACK_HEADER_BYTES + TRAILER_TAIL_BYTES);
  assert.equal(decodePack(pack), []);
});

test('trailer checksum mismatch is an IntegrityError saying so', () => {
  const { pack, entries } = buildPack([10, 20]);
  const bodyStart = pack.length - TRAILER_TAIL_BYTES - entries.length * TRAILER_ENTRY_BYTES;
  const damaged = Buffer.from(pack); damaged[bodyStart + 40] ^= 1;
  expectFormat(() => decodePack(damaged), /checksum mismatch/, 'INTEGRITY');
  const damagedSum = Buffer.from(pack); damagedSum[pack.length - TRAILER_TAIL_BYTES + 20] ^= 0x80;
  expectFormat(() => decodePack(damagedSum), /checksum mismatch/, 'INTEGRITY');
});

test('bad trailer magic / wrong tail length: missing or damaged trailer, code TRUNCATED', () => {
  const { pack } = buildPack([10]);
  const bad = Buffer.from(pack); bad[bad.length - 1] ^= 0xff;
  expectFormat(() => decodePack(bad), /bad trailer magic/, 'TRUNCATED');
  expectFormat(() => decodeTrailerTail(pack.subarray(pack.length - TRAILER_TAIL_BYTES + 1), pack.length), /trailer missing or damaged/, 'TRUNCATED');
  // Truncated by one byte: the last 48 bytes no longer end in the magic.
  expectFormat(() => decodePack(pack.subarray(0, pack.length - 1)), /bad trailer magic/, 'TRUNCATED');
});

test('trailer inconsistent with pack size', () => {
  const { pack } = buildPack([10, 20]);
  const tail = Buffer.from(pack.subarray(pack.length - TRAILER_TAIL_BYTES));
  expectFormat(() => decodeTrailerTail(tail, pack.length + 1), /inconsistent with pack size/);
  const count = Buffer.from(tail); count.writeUInt32LE(3, 0);
  expectFormat(() => decodeTrailerTail(count, pack.length), /inconsistent with pack size/);
  const huge = Buffer.from(tail); huge.writeUInt32LE(0xffffffff, 0);
  expectFormat(() => decodeTrailerTail(huge, pack.length), /inconsistent/);
  const low = Buffer.from(tail); low.writeBigUInt64LE(3n, 4);
  expectFormat(() => decodeTrailerTail(low, pack.length), /inconsistent/);
  const far = Buffer.from(tail); far.writeBigUInt64LE(0xffffffffffffffffn, 4);
  expectFormat(() => decodeTrailerTail(far, pack.length), /inconsistent/);
});

test('entries pointing outside the records area or overlapping are refused', () => {
  const id = Buffer.alloc(32, 1);
  const mk = (list: Array<[number, number]>, entriesOffset: number) => {
    const entries = list.map(([offset, storedLength]) => ({ id, type: 0, codec: 0, rawLength: storedLength, storedLength, offset }));
    const { trailer } = encodeTrailer(entries, entriesOffset);
    const size = entriesOffset + trailer.length;
    const tail = decodeTrailerTail(trailer.subarray(trailer.length - TRAILER_TAIL_BYTES), size);
    return () => decodeTrailerEntries(trailer.subarray(0, trailer.length - TRAILER_TAIL_BYTES), tail);
  };
  assert.is(mk([[8, 10], [62, 10]], 116)().length, 2);
  expectFormat(mk([[8, 10], [62, 11]], 116), /entry 1 points outside the records area/);
  expectFormat(mk([[8, 10], [61, 10]], 116), /entry 1 points outside/); // overlaps entry 0
  expectFormat(mk([[4, 10]], 116), /entry 0 points outside/); // inside the pack header
});

test('seeded fuzz: 500 truncations and byte flips of an encoded pack trailer only throw ToolkitErrors', () => {
  const rnd = mulberry32(0xC0FFEE);
  const { pack, entries } = buildPack([7, 0, 64, 1, 33]);
  const trailerStart = pack.length - TRAILER_TAIL_BYTES - entries.length * TRAILER_ENTRY_BYTES;
  let ok = 0, rejected = 0, unchanged = 0;
  for (let i = 0; i < 500; i++) {
    let buf: Buffer;
    const mode = Math.floor(rnd() * 3);
    if (mode === 0) {
      buf = Buffer.from(pack.subarray(0, Math.floor(rnd() * pack.length)));
    } else {
      buf = Buffer.from(pack);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) {
        const at = trailerStart + Math.floor(rnd() * (pack.length - trailerStart));
        buf[at] ^= 1 + Math.floor(rnd() * 255);
      }
      if (mode === 2) buf = buf.subarray(0, buf.length - Math.floor(rnd() * 60));
    }
    if (buf.equals(pack)) unchanged++;
    const started = Date.now();
    try {
      decodePack(buf);
      ok++;
    } catch (e) {
      if (!(e instanceof ToolkitError)) assert.unreachable(`case ${i}: non-toolkit error ${String(e)}`);
      assert.ok(e instanceof FormatError || e instanceof IntegrityError, `case ${i}: ${String(e)}`);
      rejected++;
    }
    assert.ok(Date.now() - started < 1000, `case ${i} took too long`);
  }
  // The trailer is fully covered by magic, size consistency and checksum: only a mutation that
  // cancelled itself out (same byte flipped back) may still decode.
  assert.is(ok + rejected, 500);
  assert.is(ok, unchanged);
  assert.ok(rejected > 450);
});

test.run();
