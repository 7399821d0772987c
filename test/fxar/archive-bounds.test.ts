/**
 * Issue 18, D2, on the FXAR side: every size an archive declares is bounded before it is used
 * to read or allocate, and a chunk never decodes to more than its record declares.
 *  - Import (stream reader) of an archive whose chunk record declares 64 KiB but whose payload
 *    expands to 512 MiB: refused as damaged while decoding, for every codec, with the real
 *    CLI's peak RSS far below what the payload expands to (before the fix gzip and xz decoded
 *    all of it first).
 *  - Seekable reader: an index entry (not verified per lookup) or a snapshot table entry with
 *    a length over the format's 16 MiB limit is refused before any read of that length.
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CODEC_IDS } from '../../lib/codec/codec.js';
import { IntegrityError } from '../../lib/errors/index.js';
import { blake3 } from '../../lib/hash/blake3.js';
import { ArchiveReader } from '../../lib/fxar/archive-reader.js';
import { ArchiveWriter } from '../../lib/fxar/archive-writer.js';
import { CHUNK_ENTRY_BYTES, FANOUT_BYTES, INDEX_HEAD_BYTES, MAX_RECORD_BYTES, RECORD_HEADER_BYTES, REC_DATA } from '../../lib/fxar/fxar-layout.js';
import { MemoryReader } from '../../lib/fxar/positional-file.js';
import { decodeFooter } from '../../lib/fxar/record-codec.js';
import { bomb, cannotMake, zeroPieces } from '../helpers/bomb-kit.js';
import { fxcpPeakRss, MiB } from '../helpers/peak-rss.js';
import { tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const RAW = 64 << 10;
const ZEROS = 512 * MiB;
const BOUND = 200 * MiB;

async function archiveOf(add: (w: ArchiveWriter) => Promise<void>): Promise<Buffer> {
  const parts: Buffer[] = [];
  const w = await ArchiveWriter.start({ write: async (b) => { parts.push(Buffer.from(b)); } });
  await add(w);
  await w.finish();
  return Buffer.concat(parts);
}

async function storedBomb(kind: 'zstd' | 'lz4' | 'gzip' | 'xz'): Promise<Buffer> {
  if (kind !== 'lz4') return bomb(kind, zeroPieces(ZEROS));
  // A stored lz4 chunk is one block with its size in front: here a forged size.
  const block = (createRequire(import.meta.url)('lz4-napi') as { compressSync(b: Buffer): Buffer }).compressSync(Buffer.alloc(16 * MiB));
  block.writeUInt32LE(RAW, 0);
  return block;
}

for (const kind of ['zstd', 'lz4', 'gzip', 'xz'] as const) {
  test(`import: a ${kind} chunk record of "${RAW >> 10} KiB" holding ${ZEROS / MiB} MiB is refused within ${BOUND / MiB} MiB`, async () => {
    const why = cannotMake(kind);
    if (why) { console.log(`  skipped: ${why}`); return; }
    const t = tempDir();
    try {
      const stored = await storedBomb(kind);
      assert.ok(stored.length <= MAX_RECORD_BYTES, `${stored.length} bytes`);
      const file = join(t.path, 'bomb.fxar');
      writeFileSync(file, await archiveOf((w) => w.addChunk(blake3().hash(Buffer.from('any')), REC_DATA, CODEC_IDS[kind], RAW, stored).then(() => {})));
      const r = await fxcpPeakRss(['snap', 'import', file, join(t.path, 'store'), '--json'], { killAbove: 4 * BOUND });
      assert.not.ok(r.killed, `killed at ${(r.peakBytes / MiB).toFixed(0)} MiB`);
      assert.is(r.code, 2, r.stderr);
      const err = JSON.parse(r.stderr) as { code: string; message: string };
      assert.is(err.code, 'INTEGRITY');
      assert.match(err.message, /bomb\.fxar: chunk [0-9a-f]+ at offset 16 is damaged/);
      assert.not.match(err.message, /decompressed to \d+ bytes/);
      assert.ok(r.peakBytes < BOUND, `peak RSS ${(r.peakBytes / MiB).toFixed(0)} MiB: ${err.message}`);
    } finally {
      t.cleanup();
    }
  });
}

/** A MemoryReader that remembers its longest read. */
class CountingReader extends MemoryReader {
  longest = 0;
  override read(offset: number, length: number): Buffer {
    this.longest = Math.max(this.longest, length);
    return super.read(offset, length);
  }
}

/** An archive with a snapshot record first and 18 MiB of chunk records after it; its chunk ids. */
async function bigArchive(): Promise<{ bytes: Buffer; ids: Buffer[] }> {
  const ids: Buffer[] = [];
  const bytes = await archiveOf(async (w) => {
    const snap = Buffer.from('{}');
    await w.addSnapshot(blake3().hash(snap), snap);
    for (let i = 0; i < 9; i++) {
      const raw = seededBytes(2 * MiB, 100 + i);
      ids.push(blake3().hash(raw));
      await w.addChunk(ids[i], REC_DATA, 0, raw.length, raw);
    }
  });
  return { bytes, ids };
}

function indexTable(bytes: Buffer): number {
  const { indexOffset } = decodeFooter(bytes.subarray(bytes.length - 32), 'test');
  return indexOffset + RECORD_HEADER_BYTES + INDEX_HEAD_BYTES + FANOUT_BYTES;
}

test('seekable: an index entry with lengths over 16 MiB is refused before its record is read', async () => {
  const { bytes, ids } = await bigArchive();
  const table = indexTable(bytes);
  const chunks = ids.length;
  let at = -1;
  for (let i = 0; i < chunks; i++) if (bytes.subarray(table + i * CHUNK_ENTRY_BYTES, table + i * CHUNK_ENTRY_BYTES + 32).equals(ids[0])) at = table + i * CHUNK_ENTRY_BYTES;
  assert.ok(at > 0);
  // Still inside the records (the old check), but over the format's limit.
  const damaged = Buffer.from(bytes);
  damaged.writeUInt32LE(MAX_RECORD_BYTES + MiB, at + 40);
  damaged.writeUInt32LE(MAX_RECORD_BYTES + MiB, at + 44);
  const reader = new CountingReader(damaged, 'big.fxar');
  const ar = ArchiveReader.open(reader);
  const err = await ar.loadChunk(ids[0]).then(() => null, (e: unknown) => e);
  assert.instance(err, IntegrityError, String(err));
  assert.match((err as Error).message, /^big\.fxar: index entry of chunk [0-9a-f]{16} is damaged \(lengths over the 16777216-byte limit\)$/);
  assert.ok(reader.longest <= MAX_RECORD_BYTES, `read ${reader.longest} bytes at once`);
  // The other chunks still load.
  assert.is((await ar.loadChunk(ids[1])).length, 2 * MiB);
});

test('seekable: a snapshot table entry with a length over 16 MiB is refused when the archive is opened', async () => {
  const { bytes } = await bigArchive();
  const table = indexTable(bytes);
  const damaged = Buffer.from(bytes);
  // The one snapshot entry follows the chunk table: id[32] offset u64 length u32.
  damaged.writeUInt32LE(MAX_RECORD_BYTES + MiB, table + 9 * CHUNK_ENTRY_BYTES + 40);
  const reader = new CountingReader(damaged, 'big.fxar');
  const err = (() => { try { ArchiveReader.open(reader).listSnapshots(); return null; } catch (e) { return e; } })();
  assert.instance(err, IntegrityError, String(err));
  assert.match((err as Error).message, /^big\.fxar: snapshot table entry 0 has a length over the 16777216-byte limit \(damaged index\)$/);
  assert.ok(reader.longest <= MAX_RECORD_BYTES, `read ${reader.longest} bytes at once`);
});

test.run();
