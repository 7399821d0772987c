// pairScans (lib/fs/scan-pair.ts): a copy's source and destination listings of one directory
// matched by name, with the files the quick check finds unchanged flagged. The native pairing
// and the portable one give the same answer on real directories (every entry type, each rule
// broken once, names only on one side, temporaries), and each rule is checked on its own.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanDir, type ScannedDir } from '../../lib/fs/index.js';
import { destOf, type PairRules, pairScans, portablePair, type ScanPair } from '../../lib/fs/scan-pair.js';
import { native } from '../../lib/native/load.js';

let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-scanpair-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

const T = 1_700_000_000;
const TEMP = Buffer.from('.fxtmp-');
// Without the addon a scan does not size xattr lists (unknown: never "unchanged" under noXattrs).
const ALL: PairRules = { same: true, perms: true, owner: true, noXattrs: native !== null, xattrsUnknown: false, oneLink: true };

/** A file `name` in `d` with `data`, mode and mtime (seconds). */
function file(d: string, name: string, data: string, mode = 0o644, mtime = T): void {
  const p = join(d, name);
  writeFileSync(p, data);
  chmodSync(p, mode);
  utimesSync(p, mtime, mtime);
}

/** Source and destination directories differing in each way the pairing tells apart. */
function makePair(name: string): { src: ScannedDir; dst: ScannedDir } {
  const s = join(dir, `${name}-src`), d = join(dir, `${name}-dst`);
  mkdirSync(s);
  mkdirSync(d);
  for (const side of [s, d]) {
    file(side, 'same', 'abc');
    file(side, 'same-2', 'xyz');
    mkdirSync(join(side, 'subdir'));
    symlinkSync('same', join(side, 'link'));
  }
  file(s, 'size', 'abcd'); file(d, 'size', 'abc');
  file(s, 'mtime', 'abc', 0o644, T + 1); file(d, 'mtime', 'abc');
  file(s, 'mode', 'abc', 0o600); file(d, 'mode', 'abc');
  file(s, 'linked', 'abc'); linkSync(join(s, 'linked'), join(s, 'linked-too')); file(d, 'linked', 'abc');
  file(s, 'dir-there', 'abc'); mkdirSync(join(d, 'dir-there'));
  file(s, 'only-src', 'abc');
  file(d, 'only-dst', 'abc');
  file(d, '.fxtmp-123-abcdefgh', 'abc');
  file(d, '.fxtmp-', 'the prefix alone is not a temporary');
  return { src: scanDir(Buffer.from(s), true), dst: scanDir(Buffer.from(d), false) };
}

/** The pairing as name -> 'same' | 'dst <name>' | 'none'. */
function shape(src: ScannedDir, dst: ScannedDir, p: ScanPair): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < src.count; i++) {
    const m = p.match[i]!, j = destOf(m);
    out[src.name(i).toString()] = m <= -2 ? 'same' : j >= 0 ? `dst ${dst.name(j).toString()}` : 'none';
  }
  return out;
}

test('names matched, and only files the quick check leaves alone flagged', () => {
  const { src, dst } = makePair('rules');
  const p = pairScans(src, dst, ALL, TEMP);
  assert.equal(shape(src, dst, p), {
    'dir-there': 'dst dir-there', link: 'dst link', linked: 'dst linked', 'linked-too': 'none', mode: 'dst mode', mtime: 'dst mtime',
    'only-src': 'none', same: 'same', 'same-2': 'same', size: 'dst size', subdir: 'dst subdir',
  });
  assert.is(p.same, 2);
  assert.is(p.sameBytes, 6);
  assert.is(p.temps, 1, 'one name longer than the prefix');
  assert.is(p.unmatched, 3, 'only-dst and the two temporaries');
  // The identities: the destination's, as a signature record names them, then the source's dev, ino, ctime.
  const want = Buffer.alloc(128);
  for (const [k, name] of ['same', 'same-2'].entries()) {
    const at = (scan: ScannedDir) => { let j = 0; while (scan.name(j).toString() !== name) j++; return j; };
    dst.identityInto(at(dst), want.subarray(k * 64, k * 64 + 40));
    const i = at(src);
    want.writeBigUInt64LE(src.dev(i), k * 64 + 40);
    want.writeBigUInt64LE(src.ino(i), k * 64 + 48);
    want.writeBigInt64LE(src.ctimeNs(i), k * 64 + 56);
  }
  assert.ok(p.ids.equals(want));
});

test('each rule can be turned off, and no flag at all without `same`', () => {
  const { src, dst } = makePair('off');
  const flagged = (rules: Partial<PairRules>) => Object.entries(shape(src, dst, pairScans(src, dst, { ...ALL, ...rules }, TEMP)))
    .filter(([, v]) => v === 'same').map(([k]) => k).sort();
  assert.equal(flagged({ perms: false }), ['mode', 'same', 'same-2']);
  assert.equal(flagged({ oneLink: false }), ['linked', 'same', 'same-2']);
  assert.equal(flagged({ same: false }), []);
  const none = pairScans(src, dst, { ...ALL, same: false }, TEMP);
  assert.is(none.same, 0);
  assert.is(none.ids.length, 0);
  assert.is(destOf(none.match[src.count - 1]!) >= -1, true);
});

test('a source with xattrs is not flagged under noXattrs', () => {
  if (!native) { console.log('  (no native addon: no xattr sizes in a scan)'); return; }
  const s = join(dir, 'x-src'), d = join(dir, 'x-dst');
  mkdirSync(s); mkdirSync(d);
  file(s, 'f', 'abc'); file(d, 'f', 'abc');
  try { native.xattrSet(join(s, 'f'), 'user.k', Buffer.from('v')); } catch { console.log('  (no user xattrs here: skipped)'); return; }
  const src = scanDir(Buffer.from(s), true), dst = scanDir(Buffer.from(d), false);
  assert.is(pairScans(src, dst, ALL, TEMP).same, 0);
  assert.is(pairScans(src, dst, { ...ALL, noXattrs: false }, TEMP).same, 1);
  // Listed without sizes: unknown passes only with xattrsUnknown; sized afterwards, it is seen.
  const later = scanDir(Buffer.from(s), false);
  assert.is(later.xattrBytes(0), -1);
  assert.is(pairScans(later, dst, ALL, TEMP).same, 0);
  assert.is(pairScans(later, dst, { ...ALL, xattrsUnknown: true }, TEMP).same, 1);
  later.sizeXattrs();
  assert.is(later.xattrBytes(0), src.xattrBytes(0));
  assert.ok(later.xattrBytes(0) > 0);
  assert.is(pairScans(later, dst, { ...ALL, xattrsUnknown: true }, TEMP).same, 0);
});

test('sizeXattrs: a scan made without sizes gets exactly those of a scan made with them', () => {
  if (!native) return;
  const { src } = makePair('sized');
  const later = scanDir(src.dir, false);
  later.sizeXattrs();
  for (let i = 0; i < src.count; i++) assert.is(later.xattrBytes(i), src.xattrBytes(i), src.name(i).toString());
});

test('the native pairing and the portable one agree, on many names and under every rule set', () => {
  if (!native) { console.log('  (no native addon: only the portable pairing exists)'); return; }
  const s = join(dir, 'many-src'), d = join(dir, 'many-dst');
  mkdirSync(s); mkdirSync(d);
  let seed = 7;
  // The high bits: an LCG's low bits repeat with a short period.
  const next = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 16; };
  for (let k = 0; k < 600; k++) {
    const name = `f${(next() % 5000).toString(36)}`;
    const where = next() % 4;  // 0: source only, 1: destination only, 2-3: both
    if (where !== 1) file(s, name, 'x'.repeat(next() % 3), next() % 5 === 0 ? 0o600 : 0o644, T + (next() % 2));
    if (where !== 0) file(d, name, 'x'.repeat(next() % 3), 0o644, T);
  }
  const src = scanDir(Buffer.from(s), true), dst = scanDir(Buffer.from(d), false);
  const unsized = scanDir(Buffer.from(s), false);
  for (const [scan, rules] of [[src, ALL], [src, { ...ALL, perms: false }], [src, { ...ALL, same: false }], [src, { ...ALL, owner: false, noXattrs: false, oneLink: false }],
    [unsized, ALL], [unsized, { ...ALL, xattrsUnknown: true }]] as const) {
    const a = pairScans(scan, dst, rules, TEMP), b = portablePair(scan, dst, rules, TEMP);
    assert.equal(Array.from(a.match), Array.from(b.match));
    assert.equal([a.same, a.sameBytes, a.temps, a.unmatched], [b.same, b.sameBytes, b.temps, b.unmatched]);
    assert.ok(a.ids.equals(b.ids));
  }
  const same = pairScans(src, dst, ALL, TEMP).same;
  assert.ok(same > 10, `the set has unchanged files (${same})`);
});

test('native: a scan shorter than its count is refused, never read past', () => {
  if (!native) return;
  const { src, dst } = makePair('short');
  const out = () => [new Int32Array(src.count), Buffer.alloc(src.count * 64), new Float64Array(3)] as const;
  assert.throws(() => native!.pairScans(src.packed.subarray(0, 100), src.count, dst.packed, dst.count, 1, TEMP, ...out()), /shorter|past/);
  assert.throws(() => native!.pairScans(src.packed.subarray(0, src.packed.length - 1), src.count, dst.packed, dst.count, 1, TEMP, ...out()), /past/);
  assert.throws(() => native!.pairScans(src.packed, src.count, dst.packed, dst.count, 1, TEMP, new Int32Array(1), Buffer.alloc(0), new Float64Array(3)), /too small/);
  // Name ends that go back, the last one inside the buffer: refused, never a name read from
  // before its start (or past the end).
  const back = Buffer.alloc(2 * 116 + 8);
  back.writeUInt32LE(6, 2 * 112);
  back.writeUInt32LE(3, 2 * 112 + 4);
  assert.throws(() => native!.pairScans(back, 2, dst.packed, dst.count, 1, TEMP, new Int32Array(2), Buffer.alloc(128), new Float64Array(3)), /go back/);
});

// The addon reads whatever bytes it is given as a scan: seeded garbage (counts, name ends,
// numbers) is refused with a RangeError or paired, never read out of bounds (a crash here
// fails the file).
test('native: seeded garbage as packed scans is refused or paired, never read past', () => {
  if (!native) return;
  let seed = 99;
  const next = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 16; };
  let refused = 0;
  const dst = scanDir(Buffer.from(dir), false);
  for (let round = 0; round < 300; round++) {
    const count = next() % 6, bytes = Buffer.alloc(((count * 116 + (next() % 64)) + 7) & ~7);
    for (let k = 0; k < bytes.length; k++) bytes[k] = next() & 0xff;
    // Half the rounds with plausible, ascending name ends.
    if (round % 2 === 0) for (let i = 0; i < count; i++) bytes.writeUInt32LE(i * (next() % 4), count * 112 + i * 4);
    const packed = Buffer.from(new ArrayBuffer(bytes.length));
    bytes.copy(packed);
    try {
      native.pairScans(packed, count, dst.packed, dst.count, 63, TEMP, new Int32Array(count), Buffer.alloc(count * 64), new Float64Array(3));
      native.pairScans(dst.packed, dst.count, packed, count, 63, TEMP, new Int32Array(dst.count), Buffer.alloc(dst.count * 64), new Float64Array(3));
    } catch (e) {
      assert.instance(e, RangeError);
      refused++;
    }
  }
  assert.ok(refused > 0 && refused < 300, `some refused, some paired (${refused})`);
});

test.run();
