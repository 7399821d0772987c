/**
 * Issue 18 D3: a damaged index (random bytes, truncated to 8192 or 0 bytes, a flipped byte or a
 * zeroed meta page) stops no command and kills none with a signal: readers and writers discard
 * it with one warning and rebuild it (it is a cache), `store rebuild-index` and `store repair`
 * never open it, and the store checks clean afterwards. Each command runs as a child process.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seededBytes } from '../helpers/seeded.js';
import { compareTrees } from '../helpers/tree-compare.js';
import { fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';

const t = tempDir('fx-idxdmg-');
const src = join(t.path, 'src'), store = join(t.path, 'store');
let ids: string[] = [];
let n = 0;

/** The index's data file as LMDB writes it: two meta pages of `pageSize` bytes first. */
function pageSize(b: Buffer): number {
  return b.readUInt32LE(24 + 24);
}

/** The meta page LMDB reads as the newest: the higher transaction id (at +128 in MDB_meta). */
function newestMeta(b: Buffer): number {
  const ps = pageSize(b);
  return b.readBigUInt64LE(24 + 128) > b.readBigUInt64LE(ps + 24 + 128) ? 0 : 1;
}

const DAMAGES: Record<string, (file: string) => void> = {
  'random bytes': (f) => writeFileSync(f, seededBytes(100_000, 18)),
  'truncated to 8192': (f) => truncateSync(f, 8192),
  'truncated to 0': (f) => truncateSync(f, 0),
  'a flipped byte in a meta page': (f) => {
    // The high byte of the main tree's root page number in the newest meta.
    const b = readFileSync(f);
    b[newestMeta(b) * pageSize(b) + 24 + 112 + 3] ^= 0x01;
    writeFileSync(f, b);
  },
  'a zeroed meta page': (f) => {
    const b = readFileSync(f);
    b.fill(0, 0, pageSize(b));
    writeFileSync(f, b);
  },
};

/** A copy of the store whose index file is damaged. */
function damagedCopy(damage: (file: string) => void): string {
  const copy = join(t.path, `copy-${n++}`);
  cpSync(store, copy, { recursive: true });
  damage(join(copy, 'index', 'index.mdb'));
  return copy;
}

test.before(() => {
  mkdirSync(join(src, 'sub'), { recursive: true });
  for (let i = 0; i < 5; i++) writeFileSync(join(src, `f${i}.bin`), seededBytes(200_000, i + 1));
  for (let i = 0; i < 20; i++) writeFileSync(join(src, 'sub', `s${i}.txt`), `small ${i}\n`.repeat(i + 1));
  fxcpJson(['snap', 'create', src, store]);
  writeFileSync(join(src, 'later.txt'), 'later');
  fxcpJson(['snap', 'create', src, store]);
  ids = fxcpJson(['snap', 'list', store]).snapshots.map((s: { id: string }) => s.id);
  assert.is(ids.length, 2);
});
test.after(() => t.cleanup());

for (const [name, damage] of Object.entries(DAMAGES)) {
  test(`${name}: every command runs (no signal), the index is rebuilt, the store checks clean`, () => {
    const runs: Array<[string, string[], (copy: string, r: ReturnType<typeof fxcp>) => void]> = [
      ['snap list', ['snap', 'list'], (_c, r) => {
        const listed = JSON.parse(r.stdout).snapshots.map((s: { id: string }) => s.id);
        assert.equal(listed, ids);
      }],
      ['snap restore', ['snap', 'restore'], (c) => {
        assert.equal(compareTrees(src, join(c, '..', `${c.split('/').pop()}-out`), { rootMeta: false }), []);
      }],
      ['store rebuild-index', ['store', 'rebuild-index'], (_c, r) => {
        assert.is(JSON.parse(r.stdout).snapshots, 2);
        assert.not.match(r.stderr, /damaged index/, 'the old index is not even looked at');
      }],
      ['store repair', ['store', 'repair'], (_c, r) => {
        assert.is(JSON.parse(r.stdout).clean, true);
        assert.not.match(r.stderr, /damaged index/, 'the old index is not even looked at');
      }],
      ['snap create', ['snap', 'create', src], () => {}],
    ];
    for (const [cmd, args, verify] of runs) {
      const copy = damagedCopy(damage);
      const extra = cmd === 'snap restore' ? ['-o', `${copy}-out`] : [];
      const r = fxcp([...args, copy, ...extra, '--json']);
      assert.is(r.signal, null, `${cmd}: killed by ${r.signal}`);
      assert.is(r.code, 0, `${cmd}: exit ${r.code}: ${r.stderr}`);
      const warned = r.stderr.split('\n').filter((l) => l.includes('"INDEX_DAMAGED"'));
      if (cmd.startsWith('store ')) assert.is(warned.length, 0, r.stderr);
      else {
        assert.is(warned.length, 1, `${cmd}: one INDEX_DAMAGED warning: ${r.stderr}`);
        assert.match(JSON.parse(warned[0]).message, /index\.mdb: damaged index: .*; discarded and rebuilt \(it is a cache\)$/);
      }
      verify(copy, r);
      const check = fxcp(['store', 'check', copy]);
      assert.is(check.code, 0, `${cmd}, then store check: ${check.stdout}${check.stderr}`);
      assert.is(check.stderr, '', `${cmd}, then store check`);
      rmSync(copy, { recursive: true, force: true });
      rmSync(`${copy}-out`, { recursive: true, force: true });
    }
  });
}

test.run();
