/**
 * Tar import on worker threads gives exactly what the single-thread import gives: the same
 * root tree ids (golden ids computed with the single-thread import before the workers existed,
 * and again when trees of more than 4 KiB began to be stored in parts: formats/store.md §8.3),
 * the same stats (each new chunk stored once, whichever worker meets its copies), a store that
 * checks clean, and files that restore byte for byte. Also: failures mid-import list nothing,
 * and mutated archives fail cleanly on the worker path too.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToolkitError } from '../../lib/errors/index.js';
import { Store } from '../../lib/store/chunk-store.js';
import { directoryLocation } from '../../lib/store/store-location.js';
import { listSnapshots } from '../../lib/snapshot/snapshot-catalogue.js';
import { importTar, type ImportTarOptions, type ImportTarResult } from '../../lib/tar/tar-import.js';
import { OFF_THREAD_FROM } from '../../lib/tar/tar-decompress.js';
import { TarWriter } from '../../lib/tar/tar-writer.js';
import { Compressor } from 'zstd-napi';
import { fxcp, tempDir } from '../helpers/run-cli.js';
import { mulberry32, seededBytes } from '../helpers/seeded.js';
import { seededMembers, seededTar } from './seeded-tar.js';

/** Root tree ids of seededTar(seed, scale) imported as 'seeded.tar', by the single-thread import (trees in parts). */
const GOLDEN: Array<[number, number, string]> = [
  [1, 1, 'bffa449d8a06b28b5dd91ea7c5eb68f2baeb2b6aa473638de6ce6e6768b7ffd4'],
  [2, 0.5, '04d9f59be4e5f0a63c6349580f52434ca76ec1c2f4843382cad44c0051184a90'],
];

/** The bytes in uneven pieces, as a pipe would deliver them. */
async function* pieces(b: Buffer, seed: number): AsyncGenerator<Uint8Array> {
  const r = mulberry32(seed);
  for (let o = 0; o < b.length;) {
    const n = 1 + Math.floor(r() * 700_000);
    yield b.subarray(o, o + n);
    o += n;
  }
}

async function importInto(storePath: string, tar: Buffer, opts: Partial<ImportTarOptions>, seed = 1): Promise<ImportTarResult> {
  const store = await Store.open(directoryLocation(storePath), { create: true });
  try {
    return await importTar(pieces(tar, seed), store, { source: 'seeded.tar', onWarn: () => {}, ...opts });
  } finally {
    await store.close();
  }
}

/**
 * The record's stats but the duration and the stored bytes, which depend on the layout: chunk
 * workers bundle small chunks (formats/store.md §7.6), each worker its own, and this thread does
 * not (storedWithin compares layouts with workers).
 */
function statsOf(r: ImportTarResult): Record<string, number> {
  const { durationMs: _d, storedBytes: _s, ...rest } = r.record.stats;
  return rest;
}

/** The stored bytes of `r` within 2 % of `other`'s (two layouts with workers: their bundles group other chunks). */
function storedWithin(r: ImportTarResult, other: ImportTarResult, what: string): void {
  const [a, b] = [r.record.stats.storedBytes, other.record.stats.storedBytes];
  assert.ok(Math.abs(a - b) <= b / 50, `${what}: stored ${a} against ${b}`);
}

const MODES: Array<[string, Partial<ImportTarOptions>]> = [
  ['single thread', { workers: 0 }],
  ['2 workers from the start', { workers: 2, workersAfter: 0 }],
  ['3 workers after 100 kB on this thread', { workers: 3, workersAfter: 100_000 }],
];

for (const [seed, scale, golden] of GOLDEN) {
  test(`seeded tar ${seed}: every thread layout gives the golden tree and the same stats`, async () => {
    const t = tempDir();
    try {
      const tar = await seededTar(seed, scale);
      let first: ImportTarResult | null = null;
      let withWorkers: ImportTarResult | null = null;
      for (const [name, opts] of MODES) {
        const store = join(t.path, name.replace(/\W+/g, '-'));
        const r = await importInto(store, tar, opts, seed);
        assert.is(r.record.tree, golden, `${name}: root tree`);
        assert.is(r.skipped, 1, `${name}: the member under a file is skipped`);
        if (first) {
          assert.equal(statsOf(r), statsOf(first), `${name}: stats`);
          if (withWorkers) storedWithin(r, withWorkers, name);
          assert.is(r.entries, first.entries);
        }
        first ??= r;
        if (opts.workers) withWorkers ??= r;
        const check = fxcp(['store', 'check', store, '--read-data']);
        assert.is(check.code, 0, `${name}: ${check.stdout}${check.stderr}`);
      }
    } finally {
      t.cleanup();
    }
  });
}

test('a .tar.zst decoded on its own worker gives the golden tree; a truncated one lists nothing', async () => {
  const t = tempDir();
  try {
    const c = new Compressor();
    c.setParameters({ compressionLevel: 1 });
    const z = c.compress(await seededTar(1, 1));
    assert.ok(z.length > OFF_THREAD_FROM, 'large enough to decode off the main thread');
    const r = await importInto(join(t.path, 'store'), z, {});
    assert.is(r.compression, 'zstd');
    assert.is(r.record.tree, GOLDEN[0][2]);
    const store2 = join(t.path, 'store2');
    const err = await importInto(store2, z.subarray(0, z.length - 5000), {}).catch((e) => e);
    assert.instance(err, ToolkitError);
    assert.is((err as ToolkitError).code, 'TAR_COMPRESSION');
    const s = await Store.open(directoryLocation(store2));
    try {
      assert.equal(listSnapshots(s), []);
    } finally {
      await s.close();
    }
  } finally {
    t.cleanup();
  }
});

test('worker import restores every file byte for byte', async () => {
  const t = tempDir();
  try {
    const tar = await seededTar(3, 0.5);
    const store = join(t.path, 'store'), out = join(t.path, 'out');
    const r = await importInto(store, tar, { workers: 2, workersAfter: 0 });
    const res = fxcp(['snap', 'restore', store, '-o', out, '--snapshot', r.snapshotId]);
    assert.is(res.code, 0, res.stderr);
    // The last member of each path wins; hard links share their target's final content.
    const files = new Map<string, Buffer>();
    for (const m of seededMembers(3, 0.5)) {
      if (m.type === 'file') files.set(m.path, m.data ?? Buffer.alloc(0));
      if (m.type === 'hardlink') files.set(m.path, files.get(m.linkpath!.toString())!);
    }
    files.delete('d0/f0/under-a-file');
    for (const [path, data] of files) {
      const got = readFileSync(join(out, path));
      assert.ok(got.equals(data), `${path}: ${got.length} bytes restored, ${data.length} in the tar`);
    }
  } finally {
    t.cleanup();
  }
});

test('copies spread over workers are stored once', async () => {
  const t = tempDir();
  try {
    const small = seededBytes(150_000, 11), big = seededBytes(6 << 20, 12);
    const parts: Uint8Array[] = [];
    const w = new TarWriter({ write: async (c) => { parts.push(Buffer.from(c)); } });
    for (let i = 0; i < 120; i++) {
      const data = i % 40 === 7 ? big : small;
      await w.add({ type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeNs: 0n, path: Buffer.from(`f${i}`), size: data.length });
      await w.data(data);
    }
    await w.finish();
    const tar = Buffer.concat(parts);
    const one = await importInto(join(t.path, 'one'), tar, { workers: 0 });
    const many = await importInto(join(t.path, 'many'), tar, { workers: 3, workersAfter: 0 });
    assert.is(many.record.tree, one.record.tree);
    assert.equal(statsOf(many), statsOf(one));
    // Each content once, plus one small tree.
    assert.ok(many.record.stats.newBytes < 150_000 + (6 << 20) + 50_000, `${many.record.stats.newBytes} new bytes`);
  } finally {
    t.cleanup();
  }
});

test('a lane\'s results are taken in order while a sealed pack is still being indexed', async () => {
  // Regression: a batch whose worker sealed a pack resolves only once the pack is indexed, and
  // the lane's next batch could resolve first: its pieces of a file were then appended before
  // the earlier ones, or the file ended before them ("stream N is not open"). Seals need full
  // packs (16 MiB per worker here), so the files are incompressible; indexing is slowed down.
  const t = tempDir();
  try {
    const parts: Uint8Array[] = [];
    const w = new TarWriter({ write: async (c) => { parts.push(Buffer.from(c)); } });
    const r = mulberry32(21);
    for (let i = 0, total = 0; total < 160 << 20; i++) {
      const data = seededBytes(300_000 + Math.floor(r() * 3_500_000), 300 + i);
      total += data.length;
      await w.add({ type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeNs: 0n, path: Buffer.from(`f${i}`), size: data.length });
      await w.data(data);
    }
    await w.finish();
    const tar = Buffer.concat(parts);
    const one = await importInto(join(t.path, 'one'), tar, { workers: 0 });
    const store = await Store.open(directoryLocation(join(t.path, 'slow-index')), { create: true });
    let delayed = 0;
    // Slowed where every sealed pack goes (into this empty store, to the spill indexed at the end).
    const indexSealed = store.indexSealed.bind(store);
    store.indexSealed = async (...args: Parameters<typeof indexSealed>) => {
      delayed++;
      await new Promise((res) => setTimeout(res, 40));
      return indexSealed(...args);
    };
    let many: ImportTarResult;
    try {
      many = await importTar(pieces(tar, 5), store, { source: 'seeded.tar', onWarn: () => {}, workers: 2, workersAfter: 0, packTarget: 16 << 20 });
    } finally {
      await store.close();
    }
    assert.ok(delayed >= 3, `${delayed} packs indexed`);
    assert.is(many.record.tree, one.record.tree);
  } finally {
    t.cleanup();
  }
});

test('a tar that breaks off mid-import lists nothing and leaves a clean store', async () => {
  const t = tempDir();
  try {
    const tar = await seededTar(4, 0.5);
    const store = join(t.path, 'store');
    const err = await importInto(store, tar.subarray(0, Math.floor(tar.length * 0.8)), { workers: 2, workersAfter: 0 }).catch((e) => e);
    assert.instance(err, ToolkitError);
    assert.is((err as ToolkitError).code, 'TAR_TRUNCATED');
    const s = await Store.open(directoryLocation(store));
    try {
      assert.equal(listSnapshots(s), []);
    } finally {
      await s.close();
    }
    const check = fxcp(['store', 'check', store]);
    assert.is(check.code, 0, check.stdout + check.stderr);
    // And the store takes the whole tar afterwards.
    const r = await importInto(store, tar, { workers: 2, workersAfter: 0 });
    assert.ok(r.entries > 400);
  } finally {
    t.cleanup();
  }
});

test('a failing worker fails the import with one clear error and lists nothing', async () => {
  const t = tempDir();
  try {
    const tar = await seededTar(5, 0.5);
    const store = join(t.path, 'store');
    let broken = false;
    // Once the workers run, packs cannot be made durable: a file where the pack directory must be.
    const onProgress = () => {
      if (broken) return;
      broken = true;
      rmSync(join(store, 'packs'), { recursive: true, force: true });
      writeFileSync(join(store, 'packs'), 'not a directory');
    };
    const err = await importInto(store, tar, { workers: 2, workersAfter: 0, onProgress }).catch((e) => e);
    assert.instance(err, ToolkitError, String(err?.stack));
    assert.ok(/packs/.test((err as Error).message), (err as Error).message);
    rmSync(join(store, 'packs'));
    mkdirSync(join(store, 'packs'));
    const s = await Store.open(directoryLocation(store));
    try {
      assert.equal(listSnapshots(s), []);
    } finally {
      await s.close();
    }
  } finally {
    t.cleanup();
  }
});

test('fuzz: mutated archives on the worker path fail cleanly or import a checkable snapshot', async () => {
  const base = await seededTar(6, 0.25);
  for (let seed = 1; seed <= 8; seed++) {
    const t = tempDir();
    try {
      const r = mulberry32(seed * 7919);
      const b = Buffer.from(base);
      if (seed % 3 === 0) {
        for (let i = 0; i < 4; i++) b[Math.floor(r() * b.length)] ^= 1 << Math.floor(r() * 8);
      }
      const cut = seed % 3 === 1 ? Math.floor(r() * b.length) : b.length;
      const store = join(t.path, 'store');
      const res = await importInto(store, b.subarray(0, cut), { workers: 2, workersAfter: 0 }, seed).catch((e) => e);
      if (res instanceof Error) {
        assert.instance(res, ToolkitError, `seed ${seed}: ${res.stack}`);
        continue;
      }
      const check = fxcp(['store', 'check', store, '--read-data']);
      assert.is(check.code, 0, `seed ${seed}: ${check.stdout}${check.stderr}`);
    } finally {
      t.cleanup();
    }
  }
});

test('the CLI imports a tar file on workers (stream from a file)', async () => {
  const t = tempDir();
  try {
    const tar = await seededTar(1, 1);
    const file = join(t.path, 'seeded.tar'), store = join(t.path, 'store');
    writeFileSync(file, tar);
    const r = fxcp(['snap', 'import', file, store, '--json']);
    assert.is(r.code, 1, r.stderr); // one member skipped: partial
    const s = await Store.open(directoryLocation(store));
    try {
      assert.is(listSnapshots(s)[0].record.tree, GOLDEN[0][2]);
    } finally {
      await s.close();
    }
  } finally {
    t.cleanup();
  }
});

test.run();
