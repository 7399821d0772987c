/**
 * FXAR v2 golden tests: the writer reproduces fixtures/fxar/golden.fxar byte for byte; its
 * fixed pieces have the layout formats/fxar-v2.md gives; both readers read it; every broken
 * fixture gives the error the spec names, from both the seekable and the streaming reader.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToolkitError } from '../../lib/errors/index.js';
import { sniffArchiveKind } from '../../lib/fxar/archive-kind.js';
import { ArchiveReader } from '../../lib/fxar/archive-reader.js';
import { FXAR_MAGIC, HEADER_BYTES } from '../../lib/fxar/fxar-layout.js';
import { MemoryReader } from '../../lib/fxar/positional-file.js';
import { readArchiveStream, type ArchiveEvent } from '../../lib/fxar/stream-reader.js';
import { buildArchive, goldenSpec } from '../../fixtures/fxar/build-archive.js';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/fxar/${name}`, import.meta.url));

async function* pieces(b: Buffer, size = 1000): AsyncIterable<Uint8Array> {
  for (let o = 0; o < b.length; o += size) yield b.subarray(o, o + size);
}

async function streamAll(b: Buffer, size?: number): Promise<{ events: ArchiveEvent[]; totals: { chunks: number; snapshots: number; bytes: number } }> {
  const events: ArchiveEvent[] = [];
  const gen = readArchiveStream(pieces(b, size), 'test.fxar');
  for (;;) {
    const r = await gen.next();
    if (r.done) return { events, totals: r.value };
    events.push(r.value);
  }
}

async function errorOf(fn: () => unknown): Promise<ToolkitError> {
  try {
    await fn();
  } catch (err) {
    assert.instance(err, ToolkitError, String(err));
    return err as ToolkitError;
  }
  throw new Error('expected an error');
}

test('the writer reproduces golden.fxar byte for byte', async () => {
  const built = await buildArchive(goldenSpec());
  assert.ok(built.equals(fixture('golden.fxar')), 'writer output differs from fixtures/fxar/golden.fxar (regenerate only for a deliberate format change)');
});

test('header: magic, version 2, flags 0, check over bytes 0..11', () => {
  const g = fixture('golden.fxar');
  assert.equal([...g.subarray(0, 8)], [0x89, 0x46, 0x58, 0x4e, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(g.subarray(0, 8).equals(FXAR_MAGIC));
  assert.is(g.readUInt16LE(8), 2);
  assert.is(g.readUInt16LE(10), 0);
  assert.is(g.subarray(g.length - 8).toString('latin1'), '\x89FXNEND\n');
  assert.is(Number(g.readBigUInt64LE(g.length - 24)), g.length, 'footer Archive_Length');
  assert.is(sniffArchiveKind(g.subarray(0, HEADER_BYTES)), 'fxar');
});

test('seekable reader: snapshots, chunk table sorted, index hash verifies', () => {
  const ar = ArchiveReader.open(new MemoryReader(fixture('golden.fxar')));
  const snaps = ar.listSnapshots();
  assert.equal(snaps.map((s) => s.record.time), ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z']);
  assert.is(snaps[1].record.stats.files, 6);
  ar.verifyIndex();
  const ids = [...ar.chunkEntries()].map((e) => e.id.toString('hex'));
  assert.equal(ids, [...ids].sort());
  assert.is(new Set(ids).size, ids.length, 'each chunk once');
  for (const e of ar.chunkEntries()) assert.equal(ar.lookup(e.id), e);
  assert.is(ar.lookup(Buffer.alloc(32, 0xab)), undefined);
});

test('stream reader: every record, then index and footer verified; same in 1-byte pieces', async () => {
  const g = fixture('golden.fxar');
  const a = await streamAll(g);
  const b = await streamAll(g, 1);
  assert.is(a.totals.chunks, ArchiveReader.open(new MemoryReader(g)).chunkCount);
  assert.is(a.totals.snapshots, 2);
  assert.is(a.totals.bytes, g.length);
  assert.equal(b.totals, a.totals);
  assert.is(a.events[a.events.length - 1].kind, 'snapshot', 'the last snapshot follows its chunks');
});

const expected: Record<string, { seek: string; stream: string; message: RegExp }> = {
  'truncated-footer.fxar': { seek: 'TRUNCATED', stream: 'TRUNCATED', message: /truncated/ },
  'truncated-half.fxar': { seek: 'TRUNCATED', stream: 'TRUNCATED', message: /truncated/ },
  'flipped-footer.fxar': { seek: 'INTEGRITY', stream: 'INTEGRITY', message: /footer/ },
  'newer-version.fxar': { seek: 'NEWER_VERSION', stream: 'NEWER_VERSION', message: /archive format version 3 is newer than this fxcp supports \(2\)/ },
  'text-mangled.fxar': { seek: 'NOT_AN_ARCHIVE', stream: 'NOT_AN_ARCHIVE', message: /mangled/ },
  'foxing.fxar': { seek: 'FOXING_ARCHIVE', stream: 'FOXING_ARCHIVE', message: /is a Foxing \(Rust\) FXAR v2 archive, not fxcp's FXAR v2; read it with 'fxcp snap inspect'/ },
};

for (const [name, want] of Object.entries(expected)) {
  test(`broken fixture ${name}: ${want.seek}`, async () => {
    const b = fixture(name);
    const e1 = await errorOf(() => ArchiveReader.open(new MemoryReader(b, name)));
    assert.is(e1.code, want.seek, e1.message);
    assert.match(e1.message, want.message);
    assert.ok(e1.message.startsWith(name), e1.message);
    const e2 = await errorOf(() => streamAll(b));
    assert.is(e2.code, want.stream, e2.message);
  });
}

test('flipped index entry: open works, the lookup leads to a record that is not the chunk, verifyIndex fails, streaming fails', async () => {
  const b = fixture('flipped-index.fxar');
  const ar = ArchiveReader.open(new MemoryReader(b, 'x.fxar'));
  const e = await errorOf(() => ar.verifyIndex());
  assert.match(e.message, /index is damaged/);
  const bad = [...ar.chunkEntries()][0];
  const e2 = await errorOf(() => ar.loadChunk(bad.id));
  assert.match(e2.message, /damaged archive index/);
  const e3 = await errorOf(() => streamAll(b));
  assert.match(e3.message, /index is damaged/);
});

test('flipped chunk payload: that chunk fails its hash, others load; the stream reader yields it for the consumer to verify', async () => {
  const b = fixture('flipped-chunk.fxar');
  const ar = ArchiveReader.open(new MemoryReader(b, 'x.fxar'));
  let bad = 0;
  for (const e of ar.chunkEntries()) {
    try { await ar.loadChunk(e.id); } catch (err) { bad++; assert.match((err as Error).message, /damaged/); }
  }
  assert.is(bad, 1);
});

test('flipped record header: caught by its check before its lengths are used', async () => {
  const e = await errorOf(() => streamAll(fixture('flipped-record-header.fxar')));
  assert.is(e.code, 'INTEGRITY');
  assert.match(e.message, /record header at offset \d+ is damaged/);
});

test('sniffing tells kinds apart by content', () => {
  const tar = Buffer.alloc(512);
  tar.write('ustar', 257, 'latin1');
  assert.is(sniffArchiveKind(tar), 'tar');
  assert.is(sniffArchiveKind(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0])), 'zstd');
  assert.is(sniffArchiveKind(Buffer.from([0x1f, 0x8b, 8])), 'gzip');
  assert.is(sniffArchiveKind(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), 'xz');
  assert.is(sniffArchiveKind(Buffer.from([0x04, 0x22, 0x4d, 0x18])), 'lz4');
  assert.is(sniffArchiveKind(fixture('foxing.fxar')), 'foxing-fxar');
  assert.is(sniffArchiveKind(Buffer.from('hello world')), 'unknown');
});

test.run();
