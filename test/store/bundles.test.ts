/**
 * Bundles of small chunks (formats/store.md §7.6) through the real CLI on real stores: a tree of
 * small text files is stored in bundles and restores exactly; check reads every member; a
 * damaged bundle is found and named, and restoring from it fails instead of writing wrong bytes;
 * gc keeps the live members of a repacked pack (bundled anew) and drops the rest; repair
 * salvages members from a pack whose trailer is gone; an archive export carries members as
 * chunks of their own, which an import bundles again; a store of version 1 gets no bundles
 * (from a snapshot or an import); stats count a member's share.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CODEC_BUNDLED } from '../../lib/codec/codec-ids.js';
import type { PackEntry } from '../../lib/store/pack-codec.js';
import { readPackEntries } from '../../lib/store/pack-reader.js';
import { directoryLocation } from '../../lib/store/store-location.js';
import { BUNDLE_MAX_MEMBERS, CHUNK_BUNDLE, PACK_MAX_RECORDS, RECORD_HEADER_BYTES, TRAILER_TAIL_BYTES } from '../../lib/store/store-layout.js';
import { compareCopy } from '../helpers/copy-tree.js';
import { fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';
import { mulberry32 } from '../helpers/seeded.js';

const WORDS = ['chunk', 'store', 'bundle', 'pack', 'tree', 'the', 'of', 'a', 'snapshot', 'index', '\n'];

/** Seeded text of `n` bytes: compresses like source or docs. */
function text(n: number, seed: number): Buffer {
  const r = mulberry32(seed);
  let s = `file ${seed}\n`;
  while (s.length < n) s += WORDS[Math.floor(r() * WORDS.length)] + ' ';
  return Buffer.from(s.slice(0, n));
}

/** `count` small text files (200 B to 12 KiB) in a few directories, named by number. */
function smallTree(root: string, count: number, seed = 1): void {
  const r = mulberry32(seed);
  for (let i = 0; i < count; i++) {
    const dir = join(root, `d${i % 7}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.txt`), text(200 + Math.floor(r() * 12_000), seed * 100_000 + i));
  }
}

/** Every pack's trailer entries, by pack id. */
async function packEntries(store: string): Promise<Map<string, PackEntry[]>> {
  const storage = directoryLocation(store).storage;
  const out = new Map<string, PackEntry[]>();
  for await (const pack of storage.list('pack')) out.set(pack, await readPackEntries(storage, pack));
  return out;
}

function packPath(store: string, pack: string): string {
  return join(store, 'packs', pack.slice(0, 2), `${pack}.pack`);
}

async function countBundles(store: string): Promise<{ bundles: number; members: number }> {
  let bundles = 0, members = 0;
  for (const entries of (await packEntries(store)).values()) {
    for (const e of entries) { if (e.type === CHUNK_BUNDLE) bundles++; if (e.codec === CODEC_BUNDLED) members++; }
  }
  return { bundles, members };
}

const ok = (args: string[]): string => {
  const r = fxcp(args);
  assert.is(r.code, 0, `fxcp ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

test('small files are stored in bundles, restore exactly, and check reads every member', async () => {
  const t = tempDir('fx-bundles-');
  try {
    const src = join(t.path, 'src');
    const store = join(t.path, 'store');
    smallTree(src, 300);
    ok(['snap', 'create', src, store]);
    const { bundles, members } = await countBundles(store);
    assert.ok(bundles >= 10 && members >= 250, `${bundles} bundles, ${members} members`);
    const out = join(t.path, 'out');
    ok(['snap', 'restore', store, '-o', out]);
    assert.equal(compareCopy(src, out, { rootMeta: false }), []);
    // One file alone, as a one-file restore reads it (through its bundle).
    ok(['snap', 'restore', store, '-o', join(t.path, 'one'), '--file', 'd3/f3.txt']);
    assert.equal(readFileSync(join(t.path, 'one', 'd3', 'f3.txt')), readFileSync(join(src, 'd3', 'f3.txt')));
    const check = fxcpJson(['store', 'check', store, '--read-data']);
    assert.is(check.problems.length, 0);
    // Stats count each member's share of its bundle: the stored bytes are the packs' payloads,
    // less the rounding of the shares (under a byte a member).
    let payloads = 0;
    for (const entries of (await packEntries(store)).values()) for (const e of entries) if (e.codec !== CODEC_BUNDLED) payloads += e.storedLength;
    const stats = fxcpJson(['store', 'stats', store]);
    const stored = stats.storedBytes ?? stats.stored?.bytes ?? stats.total?.storedBytes;
    assert.type(stored, 'number', JSON.stringify(stats).slice(0, 300));
    assert.ok(stored <= payloads + 8 * members && stored >= payloads - members, `stats ${stored}, payloads ${payloads}`);
  } finally {
    t.cleanup();
  }
});

test('files of a few bytes: bundles close at BUNDLE_MAX_MEMBERS and packs at PACK_MAX_RECORDS', async () => {
  // 12,000 distinct files of ~7 bytes fill no bundle by bytes (84 KB < 128 KiB); one worker gets them all.
  const t = tempDir('fx-bundles-');
  try {
    const src = join(t.path, 'src');
    const store = join(t.path, 'store');
    for (let d = 0; d < 40; d++) {
      mkdirSync(join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 300; f++) writeFileSync(join(src, `d${d}`, `f${f}`), `${d}/${f}\n`);
    }
    const r = fxcp(['snap', 'create', src, store], { env: { FOXING_WORKERS: '1' } });
    assert.is(r.code, 0, r.stderr);
    let members = 0, bundles = 0;
    for (const [pack, entries] of await packEntries(store)) {
      assert.ok(entries.length <= PACK_MAX_RECORDS, `pack ${pack}: ${entries.length} records`);
      let run = 0;
      for (const e of entries) {
        if (e.type === CHUNK_BUNDLE) { bundles++; run = 0; } else if (e.codec === CODEC_BUNDLED) { members++; assert.ok(++run <= BUNDLE_MAX_MEMBERS, `pack ${pack}: a bundle of more than ${BUNDLE_MAX_MEMBERS} members`); }
      }
    }
    assert.ok(members >= 11_900 && bundles >= Math.ceil(members / BUNDLE_MAX_MEMBERS), `${bundles} bundles, ${members} members`);
    const out = join(t.path, 'out');
    ok(['snap', 'restore', store, '-o', out]);
    assert.equal(compareCopy(src, out, { rootMeta: false }), []);
  } finally {
    t.cleanup();
  }
});

test('a damaged bundle is found by check, naming its members, and no wrong byte is restored', async () => {
  const t = tempDir('fx-bundles-');
  try {
    const src = join(t.path, 'src');
    const store = join(t.path, 'store');
    smallTree(src, 40);
    ok(['snap', 'create', src, store]);
    const [pack, entries] = [...(await packEntries(store))].find(([, es]) => es.some((e) => e.type === CHUNK_BUNDLE))!;
    const bundle = entries.find((e) => e.type === CHUNK_BUNDLE)!;
    const file = packPath(store, pack);
    const bytes = readFileSync(file);
    bytes[bundle.offset + RECORD_HEADER_BYTES + Math.floor(bundle.storedLength / 2)] ^= 0x55;
    writeFileSync(file, bytes);
    const r = fxcp(['store', 'check', store, '--read-data', '--json']);
    assert.is(r.code, 1, r.stderr);
    const damaged = (JSON.parse(r.stdout).problems as Array<{ code: string; chunk?: string }>).filter((p) => p.code === 'DAMAGED_CHUNK');
    // Named: members of that bundle (those whose bytes the flip reached: zstd frames carry no
    // checksum here, the members' hashes are the check), and nothing else.
    const next = entries.find((e) => e.offset > bundle.offset && e.codec !== CODEC_BUNDLED)?.offset ?? Infinity;
    const members = new Set(entries.filter((e) => e.codec === CODEC_BUNDLED && e.offset > bundle.offset && e.offset < next).map((e) => e.id.toString('hex')));
    assert.ok(damaged.length >= 1, r.stdout);
    for (const p of damaged) assert.ok(members.has(p.chunk!), `${p.chunk} is a member of the damaged bundle`);
    const out = join(t.path, 'out');
    const restore = fxcp(['snap', 'restore', store, '-o', out]);
    assert.is.not(restore.code, 0);
    assert.match(restore.stderr, /damaged/);
    // Whatever was restored is right: no file holds other bytes than its source.
    const wrong = compareCopy(src, out, { rootMeta: false }).filter((d) => !/missing/.test(JSON.stringify(d)));
    assert.equal(wrong, []);
  } finally {
    t.cleanup();
  }
});

test('an export that meets a damaged bundle stops with its error (members queued before it do not hold it up) and leaves no archive', async () => {
  const t = tempDir('fx-bundles-');
  try {
    const src = join(t.path, 'src');
    const store = join(t.path, 'store');
    smallTree(src, 300, 6);
    ok(['snap', 'create', src, store]);
    // The last bundle of the largest pack: members of other bundles are met before it.
    const [pack, entries] = [...(await packEntries(store))].sort((a, b) => b[1].length - a[1].length)[0]!;
    const bundle = entries.filter((e) => e.type === CHUNK_BUNDLE).pop()!;
    const file = packPath(store, pack);
    const bytes = readFileSync(file);
    bytes[bundle.offset + RECORD_HEADER_BYTES + Math.floor(bundle.storedLength / 2)] ^= 0x55;
    writeFileSync(file, bytes);
    const archive = join(t.path, 'a.fxar');
    const r = fxcp(['snap', 'export', store, '-o', archive], { timeout: 120_000 });
    assert.is(r.signal, null, 'the export ended by itself');
    assert.is.not(r.code, 0);
    assert.match(r.stderr, new RegExp(`${pack}.*damaged`));
    assert.equal(readdirSync(t.path).filter((n) => n.includes('a.fxar') || n.startsWith('.fxtmp')), []);
  } finally {
    t.cleanup();
  }
});

test('gc: a repacked pack keeps its live members, bundled anew, and drops the others', async () => {
  const t = tempDir('fx-bundles-');
  try {
    const src = join(t.path, 'src');
    const store = join(t.path, 'store');
    smallTree(src, 200, 2);
    ok(['snap', 'create', src, store]);
    // v2 keeps one file in four.
    for (let i = 0; i < 200; i++) if (i % 4 !== 0) rmSync(join(src, `d${i % 7}`, `f${i}.txt`));
    ok(['snap', 'create', src, store]);
    const gc = fxcpJson(['snap', 'prune', store, '--keep-last', '1', '--repack-threshold', '10%']).gc;
    assert.ok(gc.packsRepacked >= 1, JSON.stringify(gc));
    const out = join(t.path, 'out');
    ok(['snap', 'restore', store, '-o', out]);
    assert.equal(compareCopy(src, out, { rootMeta: false }), []);
    assert.is(fxcpJson(['store', 'check', store, '--read-data']).problems.length, 0);
    const { bundles, members } = await countBundles(store);
    assert.ok(bundles >= 1 && members >= 40 && members <= 60, `${bundles} bundles, ${members} members after gc`);
  } finally {
    t.cleanup();
  }
});

test('repair salvages the members of a pack whose trailer is gone', async () => {
  const t = tempDir('fx-bundles-');
  try {
    const src = join(t.path, 'src');
    const store = join(t.path, 'store');
    smallTree(src, 60, 3);
    ok(['snap', 'create', src, store]);
    const [pack] = [...(await packEntries(store))].find(([, es]) => es.some((e) => e.type === CHUNK_BUNDLE))!;
    const file = packPath(store, pack);
    const bytes = readFileSync(file);
    bytes[bytes.length - TRAILER_TAIL_BYTES + 20] ^= 0xff; // the trailer checksum
    writeFileSync(file, bytes);
    assert.is(fxcp(['store', 'check', store]).code, 1);
    // Exit 1: a pack was quarantined (a warning), even though every chunk of it was salvaged.
    const repair = fxcp(['store', 'repair', store]);
    assert.is(repair.code, 1, repair.stderr);
    assert.match(repair.stdout, /chunks salvaged/);
    const out = join(t.path, 'out');
    ok(['snap', 'restore', store, '-o', out]);
    assert.equal(compareCopy(src, out, { rootMeta: false }), []);
    assert.is(fxcpJson(['store', 'check', store, '--read-data']).problems.length, 0);
    assert.ok((await countBundles(store)).members >= 50, 'the salvaged members are in bundles again');
  } finally {
    t.cleanup();
  }
});

test('an archive export carries members as chunks of their own; the archive restores exactly; an import bundles them again', async () => {
  const t = tempDir('fx-bundles-');
  try {
    const src = join(t.path, 'src');
    const store = join(t.path, 'store');
    smallTree(src, 50, 4);
    ok(['snap', 'create', src, store]);
    const archive = join(t.path, 'a.fxar');
    ok(['snap', 'export', store, '-o', archive]);
    ok(['snap', 'inspect', archive, '--verify']);
    const out = join(t.path, 'out');
    ok(['snap', 'restore', archive, '-o', out]);
    assert.equal(compareCopy(src, out, { rootMeta: false }), []);
    // And into another store, through import.
    const other = join(t.path, 'other');
    ok(['snap', 'import', archive, other]);
    ok(['snap', 'restore', other, '-o', join(t.path, 'out2')]);
    assert.equal(compareCopy(src, join(t.path, 'out2'), { rootMeta: false }), []);
    // The import bundles the small chunks again, as snap create stored them.
    const { bundles, members } = await countBundles(other);
    assert.ok(bundles >= 1 && members >= 45, `${bundles} bundles, ${members} members`);
    ok(['store', 'check', other, '--read-data']);
    // Members recompressed to another codec (in the recode workers' batches) restore exactly too.
    const lz4 = join(t.path, 'lz4.fxar');
    ok(['snap', 'export', store, '-o', lz4, '--compress', 'lz4']);
    ok(['snap', 'inspect', lz4, '--verify']);
    ok(['snap', 'restore', lz4, '-o', join(t.path, 'out3')]);
    assert.equal(compareCopy(src, join(t.path, 'out3'), { rootMeta: false }), []);
  } finally {
    t.cleanup();
  }
});

test('a store of version 1 gets no bundles, and reads and writes as before', async () => {
  const t = tempDir('fx-bundles-');
  try {
    const src = join(t.path, 'src');
    const store = join(t.path, 'store');
    smallTree(src, 30, 5);
    ok(['store', 'init', store]);
    const config = join(store, 'config');
    writeFileSync(config, readFileSync(config, 'utf8').replace(/"version": 2/, '"version": 1'));
    ok(['snap', 'create', src, store]);
    assert.equal(await countBundles(store), { bundles: 0, members: 0 });
    assert.is(JSON.parse(readFileSync(config, 'utf8')).version, 1);
    const out = join(t.path, 'out');
    ok(['snap', 'restore', store, '-o', out]);
    assert.equal(compareCopy(src, out, { rootMeta: false }), []);
    assert.ok(readdirSync(join(store, 'packs')).length > 0);
    // Nor through an import.
    const archive = join(t.path, 'a.fxar'), v1 = join(t.path, 'v1');
    ok(['snap', 'export', store, '-o', archive]);
    ok(['store', 'init', v1]);
    writeFileSync(join(v1, 'config'), readFileSync(join(v1, 'config'), 'utf8').replace(/"version": 2/, '"version": 1'));
    ok(['snap', 'import', archive, v1]);
    assert.equal(await countBundles(v1), { bundles: 0, members: 0 });
    ok(['store', 'check', v1, '--read-data']);
  } finally {
    t.cleanup();
  }
});

test.run();
