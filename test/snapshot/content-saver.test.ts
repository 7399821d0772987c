/**
 * The content saver cuts a large file into sections that workers chunk side by side. On a real
 * store made by the real CLI: a 300 MiB file is recorded as exactly the pure chunker's cuts of
 * each 128 MiB section in turn, restores byte for byte, and a forced re-read of the unchanged
 * file stores nothing new (the sections fall at the same offsets every time). A sparse one is
 * cut at its extents and at the section edges, and its extents are recorded whole. A file that grows
 * while its sections are read is read again as one job and recorded as that read.
 */
import { appendFileSync, closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createChunker } from '../../lib/chunker/index.js';
import { dataSegments } from '../../lib/fs/index.js';
import { listSnapshots } from '../../lib/snapshot/snapshot-catalogue.js';
import { loadTreeWithParts } from '../../lib/snapshot/tree-store.js';
import { withStore } from '../../lib/store/open-store.js';
import type { TreeEntry } from '../../lib/snapshot/tree-entry.js';
import { fxcp, fxcpAsync, fxcpJson, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const MiB = 1 << 20;
const SECTION = 128 * MiB;

/** The big.img entry of every snapshot in the store, oldest first. */
async function bigEntries(store: string): Promise<TreeEntry[]> {
  return withStore(store, { lock: 'shared', command: 'test' }, async (s) => {
    const out: TreeEntry[] = [];
    for (const snap of listSnapshots(s)) {
      const [root] = (await loadTreeWithParts(s, Buffer.from(snap.record.tree, 'hex'))).entries;
      out.push((await loadTreeWithParts(s, root.subtree!)).entries.find((e) => e.name.toString() === 'big.img')!);
    }
    return out;
  });
}

/** A file of `mib` MiB in which no two chunks are alike (a counter every 1 KiB; chunks are 2 KiB or more). */
function writeDistinct(file: string, mib: number): void {
  const block = seededBytes(MiB, 11);
  const fd = openSync(file, 'w');
  for (let m = 0; m < mib; m++) {
    for (let k = 0; k < 1024; k++) block.writeUInt32LE(m * 1024 + k, k * 1024);
    writeSync(fd, block, 0, MiB, m * MiB);
  }
  closeSync(fd);
}

/** A temporary source directory (with big.img's path) and store path. */
function bigFileDirs(): { t: ReturnType<typeof tempDir>; src: string; store: string; file: string } {
  const t = tempDir('content-saver-');
  const src = join(t.path, 'src');
  mkdirSync(src);
  return { t, src, store: join(t.path, 'store'), file: join(src, 'big.img') };
}

test('a file larger than a section is chunked section by section, restores exactly, and re-reads to no new chunks', async () => {
  const { t, src, store, file } = bigFileDirs();
  try {
    writeDistinct(file, 300);
    const first = fxcpJson(['snap', 'create', src, store]);
    assert.ok(first.snapshot.stats.newBytes >= 300 * MiB);

    const data = readFileSync(file);
    const chunker = createChunker();
    const expected: number[] = [];
    for (let from = 0; from < data.length; from += SECTION) {
      expected.push(...Array.from(chunker.cutLengths(data.subarray(from, Math.min(data.length, from + SECTION)), true)));
    }
    const out = join(t.path, 'out');
    const r = fxcp(['snap', 'restore', store, '-o', out, '--latest']);
    assert.is(r.code, 0, r.stderr);
    assert.ok(readFileSync(join(out, 'big.img')).equals(data), 'restored bytes');

    const again = fxcpJson(['snap', 'create', src, store, '--force-rehash']);
    assert.is(again.snapshot.stats.readBytes, 300 * MiB, 'read again in full');
    const lists = (await bigEntries(store)).map((e) => {
      assert.is(e.segments, undefined, 'not recorded as sparse');
      return (e.chunks ?? []).map((c) => `${c.id.toString('hex')}:${c.length}`);
    });
    assert.is(lists.length, 2);
    assert.equal(lists[0].map((c) => Number(c.split(':')[1])), expected);
    // The same sections, the same chunks: the re-read stored no file data.
    assert.equal(lists[1], lists[0]);
  } finally {
    t.cleanup();
  }
});

test('a large sparse file: sections cut its extents, which are recorded whole, and it restores with its holes', async () => {
  const { t, src, store, file } = bigFileDirs();
  try {
    // 300 MiB apparent; data [100, 160) MiB across the 128 MiB edge and [250, 260) MiB.
    const extents: Array<[number, number]> = [[100 * MiB, 60 * MiB], [250 * MiB, 10 * MiB]];
    const fd = openSync(file, 'w');
    const block = seededBytes(MiB, 13);
    for (const [off, len] of extents) {
      for (let m = 0; m < len / MiB; m++) {
        for (let k = 0; k < 1024; k++) block.writeUInt32LE(off / MiB * 1024 + m * 1024 + k, k * 1024);
        writeSync(fd, block, 0, MiB, off + m * MiB);
      }
    }
    ftruncateSync(fd, 300 * MiB);
    let map: Array<[number, number]>;
    try { map = dataSegments(fd, 300 * MiB); } finally { closeSync(fd); }
    if (JSON.stringify(map) !== JSON.stringify(extents)) {
      console.log(`  skip: this file system (${t.path}) does not report the holes exactly (${JSON.stringify(map)})`);
      return;
    }
    fxcpJson(['snap', 'create', src, store]);
    const data = readFileSync(file);
    const chunker = createChunker();
    const expected: number[] = [];
    for (let from = 0; from < data.length; from += SECTION) {
      for (const [off, len] of extents) {
        const a = Math.max(off, from), b = Math.min(off + len, from + SECTION);
        if (b > a) expected.push(...Array.from(chunker.cutLengths(data.subarray(a, b), true)));
      }
    }
    const [entry] = await bigEntries(store);
    assert.equal(entry.segments, extents, 'extents recorded whole');
    assert.equal((entry.chunks ?? []).map((c) => c.length), expected);
    const out = join(t.path, 'out');
    const r = fxcp(['snap', 'restore', store, '-o', out, '--latest']);
    assert.is(r.code, 0, r.stderr);
    assert.ok(readFileSync(join(out, 'big.img')).equals(data), 'restored bytes');
    assert.ok(statSync(join(out, 'big.img')).blocks * 512 < 100 * MiB, 'holes kept');
  } finally {
    t.cleanup();
  }
});

test('a large file that grows while its sections are read is read again as one, and recorded as read', async () => {
  const { t, src, store, file } = bigFileDirs();
  writeDistinct(file, 200);
  // Appends all through the snapshot: the last section sees the file longer than stat said.
  const tail = seededBytes(64 * 1024, 12);
  let n = 0;
  const grow = setInterval(() => { tail.writeUInt32LE(n++, 0); appendFileSync(file, tail); }, 1);
  try {
    const child = fxcpAsync(['snap', 'create', src, store]);
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    child.stdout!.resume();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearInterval(grow);
    assert.is(code, 0, stderr);
    assert.match(stderr, /big\.img: changed while being read/);
    const [entry] = await bigEntries(store);
    const data = readFileSync(file).subarray(0, entry.size);
    assert.ok(entry.size >= 200 * MiB);
    // One read of the whole file (no section cuts), of exactly the bytes recorded.
    assert.equal((entry.chunks ?? []).map((c) => c.length), Array.from(createChunker().cutLengths(data, true)));
    const out = join(t.path, 'out');
    const r = fxcp(['snap', 'restore', store, '-o', out, '--latest']);
    assert.is(r.code, 0, r.stderr);
    assert.ok(readFileSync(join(out, 'big.img')).equals(data), 'restored bytes are the recorded prefix');
  } finally {
    clearInterval(grow);
    t.cleanup();
  }
});

test.run();
