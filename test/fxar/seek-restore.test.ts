/**
 * Restoring from an archive through the real restorer: a single file reads only the footer,
 * the index head, a few index entries, the trees on its path and its own chunks (counted by a
 * positional reader that tallies bytes); names that would escape the target are refused.
 */
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ArchiveReader } from '../../lib/fxar/archive-reader.js';
import { MemoryReader, type PositionalReader } from '../../lib/fxar/positional-file.js';
import { restore } from '../../lib/snapshot/restorer.js';
import { buildArchive, fixtureBytes, type Node } from '../../fixtures/fxar/build-archive.js';
import { tempDir } from '../helpers/run-cli.js';

class CountingReader implements PositionalReader {
  bytes = 0;
  reads = 0;
  constructor(private readonly inner: PositionalReader) {}
  get path() { return this.inner.path; }
  get size() { return this.inner.size; }
  read(offset: number, length: number): Buffer { this.bytes += length; this.reads++; return this.inner.read(offset, length); }
  close() {}
}

const noWarn = () => {};

test('restoring one file reads O(its chunks), not the archive', async () => {
  const children: Record<string, Node> = {};
  for (let d = 0; d < 8; d++) {
    const files: Record<string, Node> = {};
    for (let f = 0; f < 40; f++) files[`f-${f}.bin`] = { kind: 'file', data: fixtureBytes(24_000, d * 100 + f + 1) };
    children[`dir-${d}`] = { kind: 'dir', children: files };
  }
  const archive = await buildArchive({ snapshots: [{ time: '2026-01-01T00:00:00.000Z', root: { kind: 'dir', children } }], chunkSize: 8192 });
  assert.ok(archive.length > 7_000_000, `archive ${archive.length} bytes`);
  const counter = new CountingReader(new MemoryReader(archive));
  const ar = ArchiveReader.open(counter);
  const [snap] = ar.listSnapshots();
  const t = tempDir();
  try {
    const r = await restore(ar, snap.record, { target: t.path, files: ['dir-5/f-17.bin'], onWarn: noWarn });
    assert.is(r.files, 1);
    assert.ok(readFileSync(join(t.path, 'dir-5/f-17.bin')).equals(fixtureBytes(24_000, 518)));
    // The file itself is 24,000 bytes (3 chunks, stored raw); trees on its path are a few KiB.
    assert.ok(counter.bytes < 24_000 + 40_000, `read ${counter.bytes} bytes of ${archive.length}`);
    assert.ok(counter.reads < 80, `${counter.reads} reads`);
  } finally {
    t.cleanup();
  }
});

test('names that would escape the target are refused with a clear error, and nothing is written outside it', async () => {
  for (const [name, bad] of [['escape-dotdot.fxar', '..'], ['escape-absolute.fxar', '/etc/evil'], ['escape-slash.fxar', 'sub/../../evil'], ['escape-root-dotdot.fxar', '..']]) {
    const bytes = readFileSync(new URL(`../../../fixtures/fxar/${name}`, import.meta.url));
    const ar = ArchiveReader.open(new MemoryReader(bytes, name));
    const [snap] = ar.listSnapshots();
    const t = tempDir();
    try {
      const target = join(t.path, 'out');
      let err: Error | null = null;
      try {
        await restore(ar, snap.record, { target, onWarn: noWarn });
      } catch (e) {
        err = e as Error;
      }
      assert.ok(err, `${name}: restore must fail`);
      assert.match(err!.message, `invalid entry name ${JSON.stringify(bad)}`);
      assert.equal(readdirSync(t.path).filter((f) => f !== 'out'), [], `${name}: wrote outside the target`);
    } finally {
      t.cleanup();
    }
  }
});

test('a symlink restored earlier is never followed: a later directory of that name replaces it', async () => {
  const t = tempDir();
  try {
    const outside = join(t.path, 'outside'), target = join(t.path, 'out');
    const archive = await buildArchive({ snapshots: [
      { time: '2026-01-01T00:00:00.000Z', root: { kind: 'dir', children: { x: { kind: 'symlink', target: outside } } } },
      { time: '2026-01-02T00:00:00.000Z', root: { kind: 'dir', children: { x: { kind: 'dir', children: { evil: { kind: 'file', data: Buffer.from('no') } } } } } },
    ] });
    const ar = ArchiveReader.open(new MemoryReader(archive));
    const [s1, s2] = ar.listSnapshots();
    mkdirSync(outside);
    await restore(ar, s1.record, { target, onWarn: noWarn });
    assert.is(readlinkSync(join(target, 'x')), outside);
    const r = await restore(ar, s2.record, { target, onWarn: noWarn });
    assert.equal(r.problems, []);
    assert.ok(lstatSync(join(target, 'x')).isDirectory());
    assert.equal(readdirSync(outside), [], 'nothing written through the symlink');
  } finally {
    t.cleanup();
  }
});

test.run();
