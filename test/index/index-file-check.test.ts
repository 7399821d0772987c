/**
 * Issue 18 D3: the index's LMDB file is checked with plain reads before LMDB maps it. Real
 * environments written by StoreIndex, damaged in the ways the issue names (random bytes,
 * truncation, a flipped or zeroed meta page) and in their roots, are refused with a reason; an
 * intact one passes, also after many commits (no false alarm, which would cost a rebuild).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blake3 } from '../../lib/hash/blake3.js';
import { checkIndexFile, judgeIndexFile } from '../../lib/index/index-file-check.js';
import { IndexFileDamage } from '../../lib/index/lmdb-layout.js';
import { StoreIndex } from '../../lib/index/store-index.js';
import { seededBytes } from '../helpers/seeded.js';

let dir = '';
let intact = '';
let n = 0;
const PAGE = 4096;

const cid = (s: string) => blake3().hash(Buffer.from(s));

/** An index with a few hundred chunks in a few packs and two snapshots, closed. */
async function writeIndex(at: string, packs = 4): Promise<string> {
  const idx = StoreIndex.open(at);
  for (let p = 0; p < packs; p++) {
    const entries = Array.from({ length: 200 }, (_, i) => ({ id: cid(`${p}/${i}`), type: 0, codec: 1, rawLength: 1000, storedLength: 500, offset: 8 + i * 544 }));
    await idx.addPack(cid(`pack ${p}`).toString('hex'), 200 * 544, entries);
  }
  await idx.putSnapshot('a'.repeat(64), { time: '2026-01-01T00:00:00Z', tags: [] });
  await idx.putSnapshot('b'.repeat(64), { time: '2026-01-02T00:00:00Z', tags: ['x'] });
  await idx.markComplete();
  await idx.close();
  return join(at, 'index.mdb');
}

/** A copy of the intact file, changed by `damage`. */
function damaged(damage: (b: Buffer) => Buffer | void): string {
  const d = join(dir, `copy-${n++}`);
  mkdirSync(d);
  const f = join(d, 'index.mdb');
  const b = readFileSync(intact);
  writeFileSync(f, damage(b) ?? b);
  return f;
}

const u64 = (b: Buffer, at: number) => Number(b.readBigUInt64LE(at));
/** Meta page i: its MDB_meta starts after the 24-byte page header; the main tree's root is at +112. */
const mainRootAt = (i: number) => i * PAGE + 24 + 112;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fx-idxcheck-'));
  intact = await writeIndex(join(dir, 'intact'));
});
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

test('an intact index passes; a missing file passes (LMDB creates it)', () => {
  assert.is(checkIndexFile(intact), null);
  assert.is(checkIndexFile(join(dir, 'nowhere', 'index.mdb')), null);
});

test('random bytes are refused', () => {
  const f = damaged((b) => seededBytes(b.length, 7));
  assert.match(checkIndexFile(f) ?? 'passed', /bad magic|page size|not a meta page/);
});

test('truncation to 8192 bytes, to a page short, and to 0 is refused', () => {
  assert.match(checkIndexFile(damaged((b) => b.subarray(0, 8192))) ?? 'passed', /truncated/);
  assert.match(checkIndexFile(damaged((b) => b.subarray(0, b.length - PAGE))) ?? 'passed', /truncated/);
  const empty = damaged(() => Buffer.alloc(0));
  assert.match(checkIndexFile(empty) ?? 'passed', /empty/);
  truncateSync(empty, 100);
  assert.match(checkIndexFile(empty) ?? 'passed', /ends at byte 100/);
});

test('a zeroed meta page is refused, either one', () => {
  assert.match(checkIndexFile(damaged((b) => { b.fill(0, 0, PAGE); })) ?? 'passed', /meta page 0/);
  assert.match(checkIndexFile(damaged((b) => { b.fill(0, PAGE, 2 * PAGE); })) ?? 'passed', /page 1 is not a meta page/);
});

test('a flipped byte in a meta page: magic, version, page size, last page, a root', () => {
  assert.match(checkIndexFile(damaged((b) => { b[24] ^= 0x01; })) ?? 'passed', /meta page 0 has a bad magic/);
  assert.match(checkIndexFile(damaged((b) => { b[PAGE + 24 + 4] ^= 0x01; })) ?? 'passed', /meta page 1 has LMDB data version 3/);
  assert.match(checkIndexFile(damaged((b) => { b[PAGE + 24 + 24 + 1] ^= 0x20; })) ?? 'passed', /disagree on the page size/);
  assert.match(checkIndexFile(damaged((b) => { b[24 + 120 + 2] ^= 0x01; })) ?? 'passed', /meta page 0 names last page \d+, outside its map|truncated/);
  assert.match(checkIndexFile(damaged((b) => { b[mainRootAt(1) + 1] ^= 0x40; })) ?? 'passed', /meta page 1 names root page \d+, outside pages/);
});

test('tree flags LMDB acts on in a meta page: sorted duplicates in the free tree, sorted duplicates or integer keys in the main tree', () => {
  // MDB_db.md_flags (u16) at +4 of each record; the free tree's record first, the main tree's 48 bytes on.
  const flagsAt = (meta: number, dbi: number) => meta * PAGE + 24 + 24 + dbi * 48 + 4;
  assert.match(checkIndexFile(damaged((b) => { b[flagsAt(0, 0)] |= 0x04; })) ?? 'passed', /meta page 0 gives the free tree sorted duplicates \(flags 0x\w*c\)/);
  assert.match(checkIndexFile(damaged((b) => { b[flagsAt(1, 1)] |= 0x04; })) ?? 'passed', /meta page 1 gives the main tree flags 0x4, under which LMDB opens no named database/);
  assert.match(checkIndexFile(damaged((b) => { b[flagsAt(0, 1)] |= 0x08; })) ?? 'passed', /meta page 0 gives the main tree flags 0x8/);
  // The free tree's other bits (the environment's flags) and the main tree's other flags: LMDB runs on them.
  assert.is(checkIndexFile(damaged((b) => { b[flagsAt(0, 0) + 1] ^= 0x80; b[flagsAt(1, 1)] |= 0x02; })), null);
});

test('a root page that is not the page its meta names is refused', () => {
  // The main tree's root of meta 1 overwritten with a copy of another page.
  const f = damaged((b) => {
    const root = u64(b, mainRootAt(1));
    const other = root === 2 ? 3 : 2;
    b.copy(b, root * PAGE, other * PAGE, (other + 1) * PAGE);
  });
  assert.match(checkIndexFile(f) ?? 'passed', /main tree root of meta 1 \(page \d+\) carries page number/);
});

test("a named database's root that is garbage is refused", () => {
  // Find the 'chunks' record in meta 1's main root and fill the page it names with garbage.
  const f = damaged((b) => {
    const root = u64(b, mainRootAt(1)) * PAGE;
    const key = b.indexOf(Buffer.from('chunks'), root);
    // The node header's last field, the key size, sits just before the key; the MDB_db record
    // (root page number at +40) right after it.
    const chunksRoot = u64(b, key + b.readUInt16LE(key - 2) + 40);
    seededBytes(PAGE, 3).copy(b, chunksRoot * PAGE);
  });
  assert.match(checkIndexFile(f) ?? 'passed', /root of database 'chunks' of meta [01]/);
});

test('no false alarm after many commits, with pages freed and reused', async () => {
  const at = join(dir, 'busy');
  const idx = StoreIndex.open(at);
  for (let round = 0; round < 40; round++) {
    const entries = Array.from({ length: 50 }, (_, i) => ({ id: cid(`busy ${round}/${i}`), type: 0, codec: 1, rawLength: 10, storedLength: 10, offset: 8 + i * 54 }));
    const p = cid(`busy pack ${round}`).toString('hex');
    await idx.addPack(p, 50 * 54, entries);
    await idx.putSnapshot(cid(`snap ${round}`).toString('hex'), { round, blob: seededBytes(round * 300, round).toString('base64') });
    if (round % 3 === 2) await idx.replacePacks([], [{ packNo: idx.packNo(p)!, entries }]);
    if (round % 5 === 4) await idx.removeSnapshot(cid(`snap ${round - 2}`).toString('hex'));
    assert.is(checkIndexFile(join(at, 'index.mdb')), null, `after round ${round} (open)`);
  }
  await idx.close();
  assert.is(checkIndexFile(join(at, 'index.mdb')), null);
  copyFileSync(join(at, 'index.mdb'), join(dir, 'busy-copy.mdb'));
  assert.is(checkIndexFile(join(dir, 'busy-copy.mdb')), null);
});

test('damage found while a writer commits (a meta changes) is looked at again, never reported at once', () => {
  const f = damaged(() => {});
  const fd = openSync(f, 'r+');
  try {
    // A "commit" during each check: meta 1's txnid moves, and the check saw damage.
    let checks = 0;
    const committing = () => {
      checks++;
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(1000 + checks));
      writeSync(fd, b, 0, 8, PAGE + 24 + 128);
      throw new IndexFileDamage('a page the writer was reusing');
    };
    assert.is(judgeIndexFile(f, committing), null, 'a file that keeps changing is not judged');
    assert.is(checks, 3);
    // Settles after one commit: the second look is the verdict (here: sound).
    let looks = 0;
    assert.is(judgeIndexFile(f, () => { if (looks++ === 0) committing(); }), null);
    assert.is(looks, 2);
    // Nothing changed: the damage is real.
    assert.is(judgeIndexFile(f, () => { throw new IndexFileDamage('broken'); }), 'broken');
  } finally {
    closeSync(fd);
  }
});

test.run();
