/**
 * Seeded fuzz of the tar reader and importer: random truncations and byte flips of the golden
 * archives (plain and each compression) must end in a clean ToolkitError or a snapshot that
 * restores; never a crash of another kind, a hang, or a file written outside the restore target.
 * A failure prints its seed; replay one with FUZZ_SEED=<seed>, or run a longer campaign with
 * FUZZ_ROUNDS / FUZZ_OFFSET (helpers/seeded.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToolkitError } from '../../lib/errors/index.js';
import { restore } from '../../lib/snapshot/restorer.js';
import { Store } from '../../lib/store/chunk-store.js';
import { directoryLocation } from '../../lib/store/store-location.js';
import { importTar } from '../../lib/tar/tar-import.js';
import { readTar } from '../../lib/tar/tar-reader.js';
import { fuzzSeeds, mulberry32 } from '../helpers/seeded.js';
import { tempDir } from '../helpers/run-cli.js';

const DIR = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'fixtures', 'tar');
const GOLDEN = ['golden.tar', 'gnu-tar.tar', 'golden.tar.zst', 'golden.tar.gz', 'golden.tar.xz', 'golden.tar.lz4',
  'broken/symlink-escape.tar'].map((f) => ({ name: f, bytes: readFileSync(join(DIR, f)) }));
const HANG_MS = 20_000;

function mutate(bytes: Buffer, seed: number): Buffer {
  const rnd = mulberry32(seed);
  let b = Buffer.from(bytes);
  const mode = Math.floor(rnd() * 3);
  if (mode !== 1) {
    const flips = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < flips; i++) {
      // Half the flips land in the first 2 KiB, where the headers of small archives are.
      const at = rnd() < 0.5 ? Math.floor(rnd() * Math.min(2048, b.length)) : Math.floor(rnd() * b.length);
      b[at] ^= 1 << Math.floor(rnd() * 8);
    }
  }
  if (mode !== 0) b = b.subarray(0, Math.floor(rnd() * b.length));
  return b;
}

/** Feeds bytes in seeded, odd-sized pieces (parsers must not depend on chunk boundaries). */
async function* pieces(b: Buffer, seed: number): AsyncGenerator<Uint8Array> {
  const rnd = mulberry32(seed ^ 0x5bd1e995);
  for (let o = 0; o < b.length;) {
    const n = 1 + Math.floor(rnd() * 70_000);
    yield b.subarray(o, o + n);
    o += n;
  }
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, rej) => { timer = setTimeout(() => rej(new Error(`${what}: no result after ${HANG_MS} ms (hang)`)), HANG_MS); })])
    .finally(() => clearTimeout(timer));
}

function checkError(err: unknown, what: string): void {
  if (!(err instanceof ToolkitError)) throw new Error(`${what}: not a clean error: ${(err as Error)?.stack ?? String(err)}`);
  assert.not.match(err.message, /\n/, `${what}: multi-line message`);
}

test('reader: 1500 seeded mutations end cleanly', async () => {
  for (const seed of fuzzSeeds(1000, 1500)) {
    const g = GOLDEN[seed % GOLDEN.length];
    if (!g.name.endsWith('.tar')) continue;
    const what = `seed ${seed} (${g.name})`;
    try {
      await withTimeout((async () => {
        for await (const e of readTar(pieces(mutate(g.bytes, seed), seed))) for await (const _ of e.data()) { /* drain */ }
      })(), what);
    } catch (err) {
      checkError(err, what);
    }
  }
});

test('import + restore: 250 seeded mutations end cleanly and stay inside the target', async () => {
  const t = tempDir();
  const store = await Store.open(directoryLocation(join(t.path, 'store')), { create: true });
  let imported = 0, refused = 0;
  try {
    for (const seed of fuzzSeeds(50_000, 250)) {
      const g = GOLDEN[seed % GOLDEN.length];
      const what = `seed ${seed} (${g.name})`;
      const target = join(t.path, 'out', String(seed));
      try {
        const r = await withTimeout(importTar(pieces(mutate(g.bytes, seed), seed), store, { source: g.name, tmpDir: t.path }), what);
        const res = await withTimeout(restore(store, r.record, { target, onWarn: () => {} }), `${what} restore`);
        assert.ok(res.files + res.dirs > 0, what);
        imported++;
      } catch (err) {
        checkError(err, what);
        refused++;
      }
      // Nothing but the store, the restore targets and no leftover spill directories.
      for (const f of readdirSync(t.path)) assert.ok(f === 'out' || f === 'store', `${what}: stray ${f}`);
    }
  } finally {
    await store.close();
    t.cleanup();
  }
  console.log(`  import fuzz: ${imported} imported, ${refused} refused cleanly`);
  assert.ok(imported + refused < 100 || (imported > 10 && refused > 10), `too one-sided: ${imported} imported, ${refused} refused`);
});

test.run();
